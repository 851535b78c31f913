"""Memberships to groups: the groups a user acts through, and Django's `user.groups` kept equal to them.

The policy reads through groups (permissions/access.py scopes every read by the groups of the user's
active memberships, found at query time); `user.groups` is only a copy for django-guardian's own shortcuts,
re-aligned when a membership changes and by the periodic sync (terms start and end with no request).
"""

from __future__ import annotations

from django.utils import timezone

from cases.models import DistrictAssignment, Membership, User
from cases.models.choices import Role
from permissions.actors import ORGANIZATION_ROLES, actor_for


def active_group_queries(*, user: User, at=None):
    """The two queries naming the groups through which this user acts (usable as subqueries)."""
    memberships = Membership.objects.active(at).filter(user=user)
    org_groups = memberships.filter(role__in=list(ORGANIZATION_ROLES)).values_list("organization__group_id", flat=True)
    district_groups = DistrictAssignment.objects.filter(
        membership__in=memberships.filter(role=Role.COMMISSIONER)
    ).values_list("district__group_id", flat=True)
    return org_groups, district_groups


def memberships_sync_user(*, user: User, write: bool = True) -> list[str]:
    """Keep Django's user.groups equal to the user's active groups (used by guardian's own shortcuts)."""
    wanted = set(actor_for(user=user, at=timezone.now()).group_ids)
    managed = set(user.groups.filter(name__regex=r"^(org|district):").values_list("id", flat=True))
    problems = [f"user {user.pk}: missing group {g}" for g in sorted(wanted - managed)]
    problems += [f"user {user.pk}: extra group {g}" for g in sorted(managed - wanted)]
    if write:
        user.groups.add(*(wanted - managed))
        user.groups.remove(*(managed - wanted))
    return problems


def memberships_sync_all() -> int:
    """Re-align every user's groups (terms start and end with no request to notice); returns users changed."""
    changed = 0
    for user in User.objects.filter(is_active=True).only("id").iterator():
        if memberships_sync_user(user=user):
            changed += 1
    return changed
