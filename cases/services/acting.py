"""Who acts for which organisation, and the conditional write every update uses."""

from __future__ import annotations

from typing import Any

from django.db.models import F
from django.utils import timezone

from audit.changes import changes_record
from cases.errors import NotPermitted, PreconditionFailed, RuleViolation
from cases.models import District, Membership, Organization, User
from cases.models.choices import OrganizationKind, Role

# Organisations whose members may hold and register residents' records.
RECORD_KEEPING_KINDS = {
    OrganizationKind.COMMISSIONER_COUNCIL,
    OrganizationKind.CARE_CENTRE,
    OrganizationKind.WARD_SECTION,
    OrganizationKind.SOCIAL_WELFARE_COUNCIL,
    OrganizationKind.NPO,
}
CASEWORK_ROLES = {Role.COMMISSIONER, Role.WORKER, Role.SUPERVISOR}


def acting_membership(*, actor: User, organization: Organization | None) -> Membership:
    """The active membership the actor works through; required when they have several."""
    memberships = [
        m
        for m in Membership.objects.active().filter(user=actor).select_related("organization")
        if m.role in CASEWORK_ROLES and m.organization.kind in RECORD_KEEPING_KINDS
    ]
    if organization is not None:
        memberships = [m for m in memberships if m.organization_id == organization.id]
    if not memberships:
        raise NotPermitted("no_casework_role")
    if len({m.organization_id for m in memberships}) > 1:
        raise RuleViolation("organization_required", field="organization")
    return memberships[0]


def check_district(membership: Membership, district: District) -> None:
    if membership.role == Role.COMMISSIONER and not membership.district_assignments.filter(
        district=district
    ).exists():
        raise NotPermitted("district_not_assigned", field="district")


def conditional_update(model, obj, *, expected_version: int, changes: dict[str, Any]) -> None:
    """Write `changes` only if nobody changed the row since `expected_version` (else 412)."""
    changes = {**changes, "updated_at": timezone.now(), "version": F("version") + 1}
    updated = model.objects.filter(pk=obj.pk, version=expected_version).update(**changes)
    if updated != 1:
        raise PreconditionFailed()
    changes_record(model=model, obj=obj, new=changes)  # the access log's change entry, same transaction


