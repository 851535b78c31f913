"""Reads. Every list and look-up of a sensitive record goes through the policy here."""

from __future__ import annotations

import datetime

from django.db.models import Prefetch, QuerySet
from django.utils import timezone

from cases.errors import NotFound
from cases.models import (
    Case,
    CaseTeamMember,
    Consent,
    District,
    LegalBasisGrant,
    Membership,
    Note,
    Organization,
    Resident,
    SupportMeeting,
    User,
    Visit,
)
from cases.models.choices import Role
from permissions.access import scope


def memberships_active_for(*, user: User) -> QuerySet[Membership]:
    return (
        Membership.objects.active()
        .filter(user=user)
        .select_related("organization")
        .prefetch_related("district_assignments__district")
        .order_by("id")
    )


def organizations_directory() -> QuerySet[Organization]:
    """Organisations are a public directory for members: names and kinds, no personal data."""
    return Organization.objects.select_related("ward").order_by("id")


def districts_directory() -> QuerySet[District]:
    return District.objects.select_related("council_area__ward").order_by("id")


def residents_visible_to(*, user: User) -> QuerySet[Resident]:
    return scope(Resident.objects.select_related("district"), user=user, codename="view_resident").order_by("id")


def resident_get_for_user(*, user: User, resident_id: int, codename: str = "view_resident") -> Resident:
    resident = scope(
        Resident.objects.select_related("district", "registered_by").filter(pk=resident_id),
        user=user,
        codename=codename,
    ).first()
    if resident is None:
        raise NotFound()
    return resident


def resident_can_change(*, user: User, resident: Resident) -> bool:
    return scope(Resident.objects.filter(pk=resident.pk), user=user, codename="change_resident").exists()


def _case_base() -> QuerySet[Case]:
    return Case.objects.select_related("resident__district", "lead_organization", "lead_worker").prefetch_related(
        Prefetch("team_members", queryset=CaseTeamMember.objects.select_related("organization").order_by("id"))
    )


def cases_visible_to(*, user: User) -> QuerySet[Case]:
    """The caller's caseload, soonest visit first (cases with no visit due last)."""
    return (
        scope(_case_base(), user=user, codename="view_case").order_by("due_order", "id")
    )


def case_get_for_user(*, user: User, case_id: int, codename: str = "view_case") -> Case:
    case = scope(_case_base().filter(pk=case_id), user=user, codename=codename).first()
    if case is None:
        raise NotFound()
    return case


def case_can_change(*, user: User, case: Case) -> bool:
    return scope(Case.objects.filter(pk=case.pk), user=user, codename="change_case").exists()


def today() -> datetime.date:
    return timezone.localdate()


def visits_visible_to(*, user: User) -> QuerySet[Visit]:
    """Visits of the cases the user may see, newest first."""
    return scope(
        Visit.objects.select_related("recorded_by", "organization"), user=user, codename="view_visit"
    ).order_by("-occurred_at", "-id")


def visit_get_for_user(*, user: User, visit_id: int) -> Visit:
    visit = visits_visible_to(user=user).filter(pk=visit_id).first()
    if visit is None:
        raise NotFound()
    return visit


def notes_visible_to(*, user: User) -> QuerySet[Note]:
    """The current version of every note the user may read, newest first."""
    return (
        scope(
            Note.objects.select_related("author", "author_organization", "superseded_by"),
            user=user, codename="view_note",
        )
        .filter(superseded_by__isnull=True)
        .order_by("-created_at", "-id")
    )


def note_get_for_user(*, user: User, note_id: int) -> Note:
    note = scope(
        Note.objects.select_related("author", "author_organization", "superseded_by").filter(pk=note_id), user=user,
        codename="view_note",
    ).first()
    if note is None:
        raise NotFound()
    return note


def note_history_for_user(*, user: User, note: Note) -> list[Note]:
    """Every version of a note, oldest first, as far as the user may read them."""
    ids = [note.id]
    cursor = note
    while cursor.supersedes_id:
        ids.append(cursor.supersedes_id)
        cursor = Note.objects.only("id", "supersedes_id").get(pk=cursor.supersedes_id)
    later = Note.objects.filter(supersedes_id=note.id).values_list("id", flat=True).first()
    while later:
        ids.append(later)
        later = Note.objects.filter(supersedes_id=later).values_list("id", flat=True).first()
    versions = scope(Note.objects.select_related("author", "author_organization", "superseded_by").filter(id__in=ids),
                     user=user, codename="view_note")
    return sorted(versions, key=lambda n: (n.created_at, n.id))


def consents_of_resident(*, resident: Resident) -> QuerySet[Consent]:
    """Consent records of a resident the caller already may see (look it up with resident_get_for_user)."""
    return (
        Consent.objects.filter(resident=resident)
        .select_related("taken_by", "taken_by_organization", "withdrawn_by")
        .prefetch_related("recipient_organizations")
        .order_by("-taken_at", "-id")
    )


def legal_basis_grants_for(*, user: User) -> QuerySet[LegalBasisGrant]:
    """Grants held by organisations the user supervises (they approve, revoke and review them)."""
    if not user.is_authenticated:
        return LegalBasisGrant.objects.none()
    supervised = Membership.objects.active().filter(user=user, role=Role.SUPERVISOR).values("organization_id")
    return (
        LegalBasisGrant.objects.filter(organization_id__in=supervised)
        .select_related("organization", "requested_by", "approved_by", "reviewed_by")
        .order_by("-created_at", "-id")
    )


def legal_basis_grant_get_for_user(*, user: User, grant_id: int) -> LegalBasisGrant:
    grant = legal_basis_grants_for(user=user).filter(pk=grant_id).first()
    if grant is None:
        raise NotFound()
    return grant


def meetings_of(*, user: User) -> QuerySet[SupportMeeting]:
    if not user.is_authenticated:
        return SupportMeeting.objects.none()
    return (
        SupportMeeting.objects.filter(members__user=user)
        .select_related("convened_by")
        .prefetch_related("members__user", "members__organization", "cases")
        .order_by("-held_at", "-id")
        .distinct()
    )


def meeting_get_for_user(*, user: User, meeting_id: int) -> SupportMeeting:
    meeting = meetings_of(user=user).filter(pk=meeting_id).first()
    if meeting is None:
        raise NotFound()
    return meeting
