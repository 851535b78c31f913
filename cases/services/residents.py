"""Registering and correcting residents."""

from __future__ import annotations

import datetime
from typing import Any

from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from cases.addresses import resident_address_keys
from cases.kana import kana_normalize
from cases.models import Organization, Resident, Task, TaskKind, User
from cases.services.conditional import conditional_update
from cases.services.tasks import task_notify, task_open, ward_section_for
from permissions.actors import actor_for
from permissions.grants import grants_sync_residents
from permissions.guards import authorize_resident_correct, authorize_resident_register

SAME_PERSON_CHECK_WITHIN = datetime.timedelta(days=7)
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
        same_person_check(resident=resident, actor=actor)
    return resident


def same_person_check(*, resident: Resident, actor: User) -> Task | None:
    """A resident whose kana name and birth date, or kana name and dwelling, are those of one already
    registered may be the same person: the resident's ward section is asked to check and link them (a task,
    routine), and the registering worker is told by the task's id — which names only the new record, so
    nobody learns of a record they may not see."""
    same = Q(date_of_birth=resident.date_of_birth)
    if resident.address_key:
        same |= Q(address_key=resident.address_key)
    if not Resident.objects.filter(same, name_kana_key=resident.name_kana_key).exclude(pk=resident.pk).exists():
        return None
    section = ward_section_for(resident)
    if section is None:
        return None
    task, created = task_open(
        kind=TaskKind.LINK_RESIDENTS, organization=section, due_at=timezone.now() + SAME_PERSON_CHECK_WITHIN,
        dedupe_key=f"resident:{resident.id}:same_person", resident=resident, created_by=actor)
    if created:
        task_notify(task, users=[actor], event="possible_same_person", reason=f"task:{task.id}:registrar")
    return task


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
