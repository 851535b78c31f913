"""Reads of visits, through the policy."""

from __future__ import annotations

from django.db.models import QuerySet

from cases.errors import NotFound
from cases.models import (
    User,
    Visit,
)
from permissions.access import scope


def visits_visible_to(*, user: User) -> QuerySet[Visit]:
    """Visits of the cases the user may see, newest first."""
    return scope(
        Visit.objects.select_related("recorded_by", "organization"), user=user, codename="view_visit"
    ).order_by("-occurred_at", "-id")


def visit_get_for_user(*, user: User, visit_id: int) -> Visit:
    visit = visits_visible_to(user=user).filter(pk=visit_id).first()
    if visit is None:
        raise NotFound()
    return visit
