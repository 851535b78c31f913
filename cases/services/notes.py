"""Notes are never edited in place: an amendment is a new version pointing at the old one."""

from __future__ import annotations

from django.db import IntegrityError, transaction
from django.utils import timezone

from cases.errors import Conflict, NotPermitted, RuleViolation
from cases.models import Case, Note, Organization, Resident, User
from permissions.actors import CASEWORK_ROLES, actor_for
from permissions.grants import grants_sync_residents


def note_write(
    *, actor: User, resident: Resident, category: str, body: str, case: Case | None = None,
    organization: Organization | None = None,
) -> Note:
    if case is not None and case.resident_id != resident.id:
        raise RuleViolation("note_case_mismatch", field="case")
    standing = actor_for(user=actor).casework(organization_id=organization.id if organization else None)
    with transaction.atomic():
        note = Note.objects.create(
            resident=resident, case=case, category=category, body=body, author=actor,
            author_organization_id=standing.organization_id, created_at=timezone.now(),
        )
        grants_sync_residents(resident_ids=[resident.id])
    return note


def note_amend(*, actor: User, note: Note, body: str) -> Note:
    """Write a new version of the latest version of a note, by its author's organisation."""
    standings = actor_for(user=actor).with_roles(CASEWORK_ROLES, organization_id=note.author_organization_id)
    if not any(standing.casework for standing in standings):
        raise NotPermitted()
    try:
        with transaction.atomic():
            amended = Note.objects.create(
                resident_id=note.resident_id, case_id=note.case_id, category=note.category, body=body,
                author=actor, author_organization=note.author_organization, supersedes=note,
                created_at=timezone.now(),
            )
            grants_sync_residents(resident_ids=[note.resident_id])
    except IntegrityError:
        raise Conflict("note_superseded") from None
    return amended
