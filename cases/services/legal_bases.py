"""Access without consent, on a named legal basis: time-limited, approved where required, reviewed after.

Break-glass (APPI27-1-2) is for a resident found collapsed or an abuse concern
when consent is hard to get: a supervisor opens it for at most 72 hours and a
different supervisor reviews it the next day.
"""

from __future__ import annotations

import datetime

from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from cases.errors import Conflict, NotFound, NotPermitted, RuleViolation
from cases.models import (
    Case,
    LegalBasis,
    LegalBasisGrant,
    MeetingMember,
    Membership,
    Organization,
    Resident,
    SupportMeeting,
    TaskKind,
    User,
)
from cases.models.choices import OrganizationKind, Role
from cases.models.consent import Category, GrantStatus
from cases.services.tasks import review_task_for_grant, tasks_close
from permissions.grants import grants_sync_residents

MAX_DURATION = {
    LegalBasis.VITAL_INTERESTS: datetime.timedelta(hours=72),
    LegalBasis.REQUIRED_BY_LAW: datetime.timedelta(days=30),
    LegalBasis.PUBLIC_BODY: datetime.timedelta(days=30),
}
BREAK_GLASS_REVIEW_AFTER = datetime.timedelta(days=1)
# Only professional bodies open access without consent.
GRANTING_KINDS = {OrganizationKind.WARD_SECTION, OrganizationKind.CARE_CENTRE}


def _supervisor_membership(actor: User, organization: Organization | None = None) -> Membership:
    memberships = Membership.objects.active().filter(
        user=actor, role=Role.SUPERVISOR, organization__kind__in=GRANTING_KINDS
    ).select_related("organization")
    if organization is not None:
        memberships = memberships.filter(organization=organization)
    membership = memberships.first()
    if membership is None:
        raise NotPermitted("supervisor_required")
    return membership


def legal_basis_grant_request(
    *,
    actor: User,
    resident: Resident,
    basis: str,
    categories: list[str],
    justification: str,
    duration: datetime.timedelta,
    organization: Organization | None = None,
) -> LegalBasisGrant:
    """Open access for the actor's organisation; active at once unless the organisation requires approval."""
    if basis not in MAX_DURATION:
        raise RuleViolation("legal_basis_invalid", field="basis")
    if not datetime.timedelta(minutes=1) <= duration <= MAX_DURATION[basis]:
        raise RuleViolation("legal_basis_duration", field="hours")
    if not categories or set(categories) - set(Category.values):
        raise RuleViolation("rule_violation", field="categories")
    if len(justification.strip()) < 10:
        raise RuleViolation("justification_required", field="justification")
    membership = _supervisor_membership(actor, organization)
    now = timezone.now()
    needs_approval = membership.organization.requires_grant_approval
    review_after = BREAK_GLASS_REVIEW_AFTER if basis == LegalBasis.VITAL_INTERESTS else duration
    with transaction.atomic():
        grant = LegalBasisGrant.objects.create(
            resident=resident,
            organization=membership.organization,
            basis=basis,
            categories=sorted(set(categories)),
            justification=justification.strip(),
            status=GrantStatus.PENDING if needs_approval else GrantStatus.ACTIVE,
            requested_by=actor,
            approved_by=None if needs_approval else actor,
            starts_at=now,
            ends_at=now + duration,
            review_due_at=now + review_after,
        )
        if grant.status == GrantStatus.ACTIVE and basis == LegalBasis.VITAL_INTERESTS:
            review_task_for_grant(grant=grant)
        grants_sync_residents(resident_ids=[resident.id])
    return grant


def _grant_for_supervisor(actor: User, grant_id: int) -> tuple[LegalBasisGrant, Membership]:
    grant = LegalBasisGrant.objects.select_for_update().filter(pk=grant_id).first()
    if grant is None:
        raise NotFound()
    try:
        membership = _supervisor_membership(actor, grant.organization)
    except NotPermitted:
        raise NotFound() from None
    return grant, membership


def legal_basis_grant_approve(*, actor: User, grant_id: int) -> LegalBasisGrant:
    """A second supervisor approves a pending grant; its period starts now."""
    with transaction.atomic():
        grant, _ = _grant_for_supervisor(actor, grant_id)
        if grant.status != GrantStatus.PENDING:
            raise Conflict("grant_not_pending")
        if grant.requested_by_id == actor.id:
            raise NotPermitted("four_eyes_required")
        duration = grant.ends_at - grant.starts_at
        now = timezone.now()
        grant.status, grant.approved_by = GrantStatus.ACTIVE, actor
        grant.starts_at, grant.ends_at = now, now + duration
        grant.review_due_at = max(grant.review_due_at, now + BREAK_GLASS_REVIEW_AFTER)
        grant.save(update_fields=["status", "approved_by", "starts_at", "ends_at", "review_due_at"])
        if grant.basis == LegalBasis.VITAL_INTERESTS:
            review_task_for_grant(grant=grant)
        grants_sync_residents(resident_ids=[grant.resident_id])
    return grant


def legal_basis_grant_revoke(*, actor: User, grant_id: int) -> LegalBasisGrant:
    with transaction.atomic():
        grant, _ = _grant_for_supervisor(actor, grant_id)
        if grant.status == GrantStatus.REVOKED:
            return grant
        grant.status, grant.revoked_at = GrantStatus.REVOKED, timezone.now()
        grant.save(update_fields=["status", "revoked_at"])
        grants_sync_residents(resident_ids=[grant.resident_id])
    return grant


def legal_basis_grant_review(*, actor: User, grant_id: int, justified: bool, note: str = "") -> LegalBasisGrant:
    """After-the-fact review by a supervisor other than the one who opened it."""
    with transaction.atomic():
        grant, _ = _grant_for_supervisor(actor, grant_id)
        if grant.reviewed_at is not None:
            raise Conflict("grant_already_reviewed")
        if grant.requested_by_id == actor.id:
            raise NotPermitted("four_eyes_required")
        grant.reviewed_at, grant.reviewed_by = timezone.now(), actor
        grant.review_justified, grant.review_note = justified, note
        fields = ["reviewed_at", "reviewed_by", "review_justified", "review_note"]
        if not justified and grant.status == GrantStatus.ACTIVE:
            grant.status, grant.revoked_at = GrantStatus.REVOKED, timezone.now()
            fields += ["status", "revoked_at"]
        grant.save(update_fields=fields)
        tasks_close(tasks=Q(legal_basis_grant=grant, kind=TaskKind.REVIEW_GRANT), actor=actor,
                    outcome="justified" if justified else "not justified")
        grants_sync_residents(resident_ids=[grant.resident_id])
    return grant


def meeting_convene(
    *, actor: User, title: str, held_at: datetime.datetime, ends_at: datetime.datetime, cases: list[Case],
    members: list[User], organization: Organization | None = None,
) -> SupportMeeting:
    """Convene a support meeting (支援会議) about cases the convener can see, with its roster."""
    if ends_at <= held_at:
        raise RuleViolation("rule_violation", field="ends_at")
    convener = _supervisor_membership(actor, organization)
    roster: list[tuple[User, Organization]] = []
    for user in {u.id: u for u in [actor, *members]}.values():
        membership = Membership.objects.active().filter(user=user).select_related("organization").first()
        if membership is None:
            raise RuleViolation("meeting_member_inactive", field="members")
        roster.append((user, membership.organization))
    with transaction.atomic():
        meeting = SupportMeeting.objects.create(
            title=title, convened_by=convener.organization, held_at=held_at, ends_at=ends_at
        )
        meeting.cases.set(cases)
        MeetingMember.objects.bulk_create(
            [MeetingMember(meeting=meeting, user=user, organization=org) for user, org in roster]
        )
    return meeting


def meeting_acknowledge(*, actor: User, meeting_id: int) -> MeetingMember:
    """A member acknowledges the confidentiality duty; only then may their organisation receive data."""
    with transaction.atomic():
        member = MeetingMember.objects.select_for_update().filter(meeting_id=meeting_id, user=actor).first()
        if member is None:
            raise NotFound()
        if member.confidentiality_acknowledged_at is None:
            member.confidentiality_acknowledged_at = timezone.now()
            member.save(update_fields=["confidentiality_acknowledged_at"])
            resident_ids = list(member.meeting.grants.values_list("resident_id", flat=True))
            grants_sync_residents(resident_ids=resident_ids)
    return member


def meeting_share(
    *, actor: User, meeting_id: int, resident: Resident, categories: list[str], justification: str
) -> LegalBasisGrant:
    """Share a resident's categories with the meeting's acknowledged members under SWA106-6, until it ends."""
    meeting = SupportMeeting.objects.filter(pk=meeting_id, members__user=actor).first()
    if meeting is None:
        raise NotFound()
    if not meeting.cases.filter(resident=resident).exists():
        raise RuleViolation("meeting_case_required", field="resident")
    if not categories or set(categories) - set(Category.values):
        raise RuleViolation("rule_violation", field="categories")
    membership = _supervisor_membership(actor)
    now = timezone.now()
    if meeting.ends_at <= now:
        # SWA106-6 covers sharing inside the meeting only; an ended meeting shares nothing.
        raise RuleViolation("rule_violation", field="meeting")
    with transaction.atomic():
        grant = LegalBasisGrant.objects.create(
            resident=resident,
            organization=membership.organization,
            basis=LegalBasis.SUPPORT_MEETING,
            meeting=meeting,
            categories=sorted(set(categories)),
            justification=justification.strip() or meeting.title,
            status=GrantStatus.ACTIVE,
            requested_by=actor,
            approved_by=actor,
            starts_at=now,
            ends_at=meeting.ends_at,
            review_due_at=meeting.ends_at,
        )
        grants_sync_residents(resident_ids=[resident.id])
    return grant
