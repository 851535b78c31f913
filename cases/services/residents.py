"""Registering and correcting residents."""

from __future__ import annotations

from typing import Any

from django.db import transaction
from django.utils import timezone

from cases.errors import NotPermitted
from cases.kana import kana_normalize
from cases.models import Membership, Organization, Resident, User
from cases.models.choices import Role
from cases.selectors import resident_can_change
from cases.services.acting import acting_membership, check_district, conditional_update
from permissions.grants import grants_sync_residents


def resident_register(*, actor: User, organization: Organization | None = None, **fields: Any) -> Resident:
    """Register a resident. Commissioners register only in their own districts."""
    membership = acting_membership(actor=actor, organization=organization)
    check_district(membership, fields["district"])
    now = timezone.now()
    with transaction.atomic():
        resident = Resident.objects.create(
            **fields,
            name_kana_key=kana_normalize(fields["name_kana"]),
            registered_by=membership.organization,
            created_at=now,
            updated_at=now,
        )
        grants_sync_residents(resident_ids=[resident.id])
    return resident


def resident_update(*, actor: User, resident: Resident, expected_version: int, **changes: Any) -> Resident:
    if not resident_can_change(user=actor, resident=resident):
        raise NotPermitted()
    if "district" in changes:
        membership = acting_membership(actor=actor, organization=None) if _is_commissioner(actor) else None
        if membership is not None:
            check_district(membership, changes["district"])
    if "name_kana" in changes:
        changes["name_kana_key"] = kana_normalize(changes["name_kana"])
    with transaction.atomic():
        conditional_update(Resident, resident, expected_version=expected_version, changes=changes)
        if "district" in changes:
            grants_sync_residents(resident_ids=[resident.id])
    resident.refresh_from_db()
    return resident


def _is_commissioner(user: User) -> bool:
    return Membership.objects.active().filter(user=user, role=Role.COMMISSIONER).exists()


