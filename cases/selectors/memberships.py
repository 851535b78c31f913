"""Reads of who works where: the caller's memberships, and the public directory of organisations and districts."""

from __future__ import annotations

from django.db.models import QuerySet

from cases.models import (
    District,
    Membership,
    Organization,
    User,
)
from permissions.actors import actor_for


def memberships_active_for(*, user: User) -> QuerySet[Membership]:
    return (
        Membership.objects.active()
        .filter(user=user)
        .select_related("organization")
        .prefetch_related("district_assignments__district")
        .order_by("id")
    )


def is_active_member(*, user: User) -> bool:
    """Whether the user holds any membership right now (the gate of every member route).

    The same query resolves the actor (memberships, groups), kept for the rest of the request.
    """
    return actor_for(user=user).member


def organizations_directory() -> QuerySet[Organization]:
    """Organisations are a public directory for members: names and kinds, no personal data."""
    return Organization.objects.select_related("ward").order_by("id")


def districts_directory() -> QuerySet[District]:
    return District.objects.select_related("council_area__ward").order_by("id")


def organizations_acted_for(*, user: User) -> set[int]:
    """The organisations the user works for right now (their referrals' free text is theirs to read)."""
    return {standing.organization_id for standing in actor_for(user=user).standings}
