"""Registering and correcting residents."""

from __future__ import annotations

from typing import Any

from django.db import transaction
from django.utils import timezone

from cases.addresses import resident_address_keys
from cases.kana import kana_normalize
from cases.models import Organization, Resident, User
from cases.services.conditional import conditional_update
from permissions.actors import actor_for
from permissions.grants import grants_sync_residents
from permissions.guards import authorize_resident_correct, authorize_resident_register

ADDRESS_FIELDS = frozenset({"municipality", "town", "chome", "block_number", "building", "room"})


def _address_keys(fields: dict[str, Any]) -> dict[str, str]:
    """The normalised address a resident row stores beside the address as entered."""
    return resident_address_keys(
        municipality=fields.get("municipality") or Resident._meta.get_field("municipality").default,
        town=fields["town"], chome=fields.get("chome"), block_number=fields.get("block_number", ""),
        building=fields.get("building", ""), room=fields.get("room", ""))


def resident_register(*, actor: User, organization: Organization | None = None, **fields: Any) -> Resident:
    """Register a resident; the registering organisation holds them in its own right from this commit on."""
    standing = authorize_resident_register(
        actor=actor_for(user=actor), district=fields["district"],
        organization_id=organization.id if organization else None)
    now = timezone.now()
    with transaction.atomic():
        resident = Resident.objects.create(
            **fields,
            name_kana_key=kana_normalize(fields["name_kana"]),
            **_address_keys(fields),
            registered_by_id=standing.organization_id,
            created_at=now,
            updated_at=now,
        )
        grants_sync_residents(resident_ids=[resident.id])
    return resident


def resident_update(*, actor: User, resident: Resident, expected_version: int, **changes: Any) -> Resident:
    """Correct a resident's record (in one's own right); a move to another district re-derives who sees them."""
    authorize_resident_correct(actor=actor_for(user=actor), resident=resident, district=changes.get("district"))
    if "name_kana" in changes:
        changes["name_kana_key"] = kana_normalize(changes["name_kana"])
    if ADDRESS_FIELDS & changes.keys():
        changes.update(_address_keys({name: changes.get(name, getattr(resident, name)) for name in ADDRESS_FIELDS}))
    with transaction.atomic():
        conditional_update(Resident, resident, expected_version=expected_version, changes=changes)
        if "district" in changes:
            grants_sync_residents(resident_ids=[resident.id])
    resident.refresh_from_db()
    return resident
