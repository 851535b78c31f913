"""Reads of who works where: the caller's memberships, and the public directory of organisations and districts."""

from __future__ import annotations

from django.db.models import Prefetch, QuerySet

from cases.models import (
    District,
    DistrictAssignment,
    Membership,
    Organization,
    User,
)
from permissions.actors import (
    actor_for,
    actor_from_rows,
    actor_remember,
    standing_columns,
    standing_join_sql,
    standing_values,
)


def memberships_active_for(*, user: User) -> QuerySet[Membership]:
    return (
        Membership.objects.active()
        .filter(user=user)
        .select_related("organization")
        .prefetch_related(Prefetch("district_assignments", DistrictAssignment.objects.select_related("district")))
        .order_by("id")
    )


def is_active_member(*, user: User) -> bool:
    """Whether the user holds any membership right now (the gate of every member route).

    The same query resolves the actor (memberships, groups), kept for the rest of the request.
    """
    return actor_for(user=user).member


def rows_with_standings(queryset: QuerySet, *, memberships: str, at=None) -> list:
    """The rows of `queryset`, each with the standing columns of one of its user's active memberships
    (through `memberships`, e.g. "user__memberships"): one query finds a record and who its user is right now.
    A user with no active membership still has one row (its standing columns empty)."""
    relations, columns, ordering = standing_columns(memberships, at=at)
    return list(queryset.annotate(**relations).annotate(**columns).order_by(*ordering))


def standings_of(row) -> tuple:
    """The standing columns of one `rows_with_standings` row, as a tuple (what `standings_sql` returns)."""
    return standing_values(row)


def standings_sql(*, user_column: str) -> tuple[str, str, str]:
    """`rows_with_standings` for a hand-written query: its select list, LEFT JOINs (the moment twice as
    parameters) and ordering, over a row naming a user in `user_column` (permissions.actors)."""
    return standing_join_sql(user_column)


def actor_remember_rows(*, user: User, rows: list, values: bool = False) -> None:
    """Keep, for the rest of this request, the actor read by `rows_with_standings` (or, with `values`, the
    standing columns of `standings_sql` as tuples): the route's membership check and every scoped read then
    ask nothing more about who is asking."""
    actor_remember(actor_from_rows(user, rows if values else (standing_values(row) for row in rows)))


def organizations_directory() -> QuerySet[Organization]:
    """Organisations are a public directory for members: names and kinds, no personal data."""
    return Organization.objects.select_related("ward").order_by("id")


def districts_directory() -> QuerySet[District]:
    return District.objects.select_related("council_area__ward").order_by("id")


def organizations_acted_for(*, user: User) -> set[int]:
    """The organisations the user works for right now (their referrals' free text is theirs to read)."""
    return {standing.organization_id for standing in actor_for(user=user).standings}
