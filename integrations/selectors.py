"""Reading the integrations: API clients and webhook endpoints (their org admins only), the event feed."""

from __future__ import annotations

import datetime
from dataclasses import dataclass

from django.db.models import Prefetch, QuerySet
from django.utils import timezone

from cases.errors import NotFound, NotPermitted, RuleViolation
from cases.models import User
from integrations.models import (
    ClientSecret,
    Event,
    EventCounter,
    OrganizationClient,
    WebhookAttempt,
    WebhookDelivery,
    WebhookEndpoint,
)
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


def webhooks_visible_to(*, user: User) -> QuerySet[WebhookEndpoint]:
    organizations = actor_for(user=user).administered_organization_ids
    return WebhookEndpoint.objects.filter(organization_id__in=organizations).order_by("-created_at", "-id")


def webhook_get_for_user(*, user: User, endpoint_id: int) -> WebhookEndpoint:
    endpoint = webhooks_visible_to(user=user).filter(pk=endpoint_id).first()
    if endpoint is None:
        raise NotFound(field="id")
    return endpoint


def webhook_deliveries(*, user: User, endpoint_id: int) -> QuerySet[WebhookDelivery]:
    """The delivery log of one endpoint, newest first, with its attempts."""
    endpoint = webhook_get_for_user(user=user, endpoint_id=endpoint_id)
    attempts = WebhookAttempt.objects.order_by("at", "id")
    return (WebhookDelivery.objects.filter(endpoint=endpoint).select_related("event")
            .prefetch_related(Prefetch("attempt_log", queryset=attempts)))


@dataclass(frozen=True)
class Feed:
    organization_id: int
    events: list[Event]
    last_sequence: int
    at: datetime.datetime


def feed_organization(*, user: User, client_organization_id: int | None, organization_id: int | None) -> int:
    """Whose feed: an API client's organisation, or one its org admin names (or administers alone)."""
    if client_organization_id is not None:
        return client_organization_id
    administered = actor_for(user=user).administered_organization_ids
    if not administered:
        raise NotPermitted("org_admin_required")
    if organization_id is None:
        if len(administered) > 1:
            raise RuleViolation("organization_required", field="organization")
        return next(iter(administered))
    if organization_id not in administered:
        raise NotPermitted("org_admin_required")
    return organization_id


def events_after(*, organization_id: int, after: int, limit: int = 200) -> Feed:
    """The organisation's events with a sequence above `after`, in order, and the last sequence committed.

    Sequences are gap-free and become visible in order (events.py), so `after` = the last one a receiver
    holds always continues exactly where it stopped; `last_sequence` and `at` are the heartbeat: an empty
    answer with a fresh `at` is silence, not failure."""
    last = EventCounter.objects.filter(organization_id=organization_id).values_list("last_sequence", flat=True).first()
    events = list(Event.objects.filter(organization_id=organization_id, sequence__gt=after,
                                       sequence__lte=last or 0).order_by("sequence")[:limit])
    return Feed(organization_id, events, last or 0, timezone.now())
