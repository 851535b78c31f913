"""The read side of the policy: scope a queryset to what a user may see or change.

Visibility is decided at query time from the user's *active* memberships, so a
commissioner's term end or a removed membership takes effect on the very next
request, with no worker running.
"""

from __future__ import annotations

from django.db.models import Exists, OuterRef, QuerySet

from cases.models import Case, Resident, User
from permissions.grants import active_group_ids
from permissions.models import CaseGroupObjectPermission, ResidentGroupObjectPermission

_TABLES = {Resident: ResidentGroupObjectPermission, Case: CaseGroupObjectPermission}


def scope(queryset: QuerySet, *, user: User, codename: str, group_ids: list[int] | None = None) -> QuerySet:
    """Only the rows of `queryset` on which the user holds `codename` through an active group."""
    if not user.is_authenticated or not user.is_active:
        return queryset.none()
    groups = active_group_ids(user=user) if group_ids is None else group_ids
    if not groups:
        return queryset.none()
    table = _TABLES[queryset.model]
    granted = table.objects.filter(
        content_object=OuterRef("pk"), group_id__in=groups, permission__codename=codename
    )
    return queryset.filter(Exists(granted))


def scope_through(queryset: QuerySet, *, field: str, model, user: User, codename: str) -> QuerySet:
    """Rows whose `field` points at a `model` row the user holds `codename` on (e.g. visits via their case)."""
    if not user.is_authenticated or not user.is_active:
        return queryset.none()
    groups = active_group_ids(user=user)
    if not groups:
        return queryset.none()
    granted = _TABLES[model].objects.filter(
        content_object=OuterRef(field), group_id__in=groups, permission__codename=codename
    )
    return queryset.filter(Exists(granted))


def user_can(*, user: User, obj, codename: str) -> bool:
    return scope(type(obj).objects.filter(pk=obj.pk), user=user, codename=codename).exists()
