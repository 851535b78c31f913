"""Reading organisation API clients: only an org admin of the client's organisation sees it."""

from __future__ import annotations

from django.db.models import Prefetch, QuerySet

from cases.errors import NotFound
from cases.models import User
from integrations.models import ClientSecret, OrganizationClient
from permissions.actors import actor_for


def clients_visible_to(*, user: User) -> QuerySet[OrganizationClient]:
    organizations = actor_for(user=user).administered_organization_ids
    live = ClientSecret.objects.filter(revoked_at__isnull=True).order_by("-created_at", "-id")
    return (OrganizationClient.objects.filter(organization_id__in=organizations)
            .prefetch_related(Prefetch("secrets", queryset=live, to_attr="live_secrets"))
            .order_by("-created_at", "-id"))


def client_get_for_user(*, user: User, client_id: int) -> OrganizationClient:
    """One client of an organisation the user administers; any other answers 404, as a missing one does."""
    client = clients_visible_to(user=user).filter(pk=client_id).first()
    if client is None:
        raise NotFound(field="id")
    return client
