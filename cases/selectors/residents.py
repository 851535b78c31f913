"""Reads of residents, through the policy."""

from __future__ import annotations

from django.db.models import QuerySet

from cases.errors import NotFound
from cases.models import (
    Resident,
    User,
)
from permissions.access import scope


def residents_visible_to(*, user: User) -> QuerySet[Resident]:
    # registered_by is on every row of the list: joined here, or each row costs a query.
    return scope(
        Resident.objects.select_related("district", "registered_by"), user=user, codename="view_resident"
    ).order_by("id")


def resident_get_for_user(
    *, user: User, resident_id: int, codename: str = "view_resident", field: str | None = None
) -> Resident:
    """The resident, if the user holds `codename` on them now; else NotFound (naming `field` of a request body)."""
    resident = scope(
        Resident.objects.select_related("district", "registered_by").filter(pk=resident_id),
        user=user,
        codename=codename,
    ).first()
    if resident is None:
        raise NotFound(field=field)
    return resident


def resident_can_change(*, user: User, resident: Resident) -> bool:
    return scope(Resident.objects.filter(pk=resident.pk), user=user, codename="change_resident").exists()


def resident_ids_visible_to(*, user: User, resident_ids: list[int]) -> set[int]:
    if not resident_ids:
        return set()
    return set(scope(Resident.objects.filter(id__in=resident_ids), user=user, codename="view_resident")
               .values_list("id", flat=True))
