"""Access without consent, on a named legal basis: within its rules, approved where required, always reviewed.

The rules of each basis (who may ask, whether it opens at once, how long, the
review) are one table, `permissions/bases.py`; who may ask, approve, revoke and
review is decided by `permissions/guards.py`. Break-glass (APPI27-1-2) is for a
resident found collapsed or an abuse concern when consent is hard to get: it
opens at once for at most 72 hours and is reviewed the next day. The others
wait for an approver who is not the requester. Every grant gets a review task.
"""

from __future__ import annotations

import datetime

from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from cases.errors import Conflict, NotFound, RuleViolation
from cases.models import (
    Case,
    LegalBasis,
    LegalBasisGrant,
    MeetingMember,
    Organization,
    Resident,
    SupportMeeting,
    TaskKind,
    User,
)
from cases.models.consent import Category, GrantStatus
from cases.services.tasks import review_task_for_grant, tasks_close
from permissions.actors import actor_for
from permissions.bases import basis_rule
from permissions.grants import grants_sync_residents
from permissions.guards import (
    authorize_basis_oversight,
    authorize_basis_request,
    authorize_meeting_convene,
    authorize_meeting_share,
)


def _check_categories(categories: list[str]) -> list[str]:
    if not categories or set(categories) - set(Category.values):
        raise RuleViolation("categories_invalid", field="categories")
    return sorted(set(categories))


def _review_due(grant: LegalBasisGrant) -> datetime.datetime:
    after = basis_rule(grant.basis).review_after
    return grant.ends_at if after is None else min(grant.ends_at, grant.starts_at + after)


def legal_basis_grant_request(
    *,
    actor: User,
    resident_id: int,
    basis: str,
    categories: list[str],
    justification: str,
    duration: datetime.timedelta,
    organization: Organization | None = None,
) -> LegalBasisGrant:
    """Ask for access for the actor's organisation on a legal basis, about a resident of its own ward.

    Break-glass opens at once (unless the organisation requires approval for every grant); the other
    bases wait for an approver other than the requester. An open grant has its review task.
    """
    standing, resident = authorize_basis_request(
        actor=actor_for(user=actor), basis=basis, resident_id=resident_id,
        organization_id=organization.id if organization else None)
    rule = basis_rule(basis)
    if not datetime.timedelta(minutes=1) <= duration <= rule.max_duration:
        raise RuleViolation("legal_basis_duration", field="hours")
    chosen = _check_categories(categories)
    if len(justification.strip()) < 10:
        raise RuleViolation("justification_required", field="justification")
    organization = Organization.objects.get(pk=standing.organization_id)
    opens = rule.opens_at_once and not organization.requires_grant_approval
    now = timezone.now()
    with transaction.atomic():
        grant = LegalBasisGrant.objects.create(
            resident=resident,
            organization=organization,
            basis=basis,
            categories=chosen,
            justification=justification.strip(),
            status=GrantStatus.ACTIVE if opens else GrantStatus.PENDING,
            requested_by=actor,
            approved_by=actor if opens else None,
            starts_at=now,
            ends_at=now + duration,
            review_due_at=now + (rule.review_after or duration),
        )
        if opens:
            review_task_for_grant(grant=grant)
        grants_sync_residents(resident_ids=[resident.id])
    return grant


def _grant_overseen(actor: User, grant_id: int, *, four_eyes: bool) -> LegalBasisGrant:
    grant = (LegalBasisGrant.objects.select_for_update(of=("self",))
             .select_related("resident__district__council_area").filter(pk=grant_id).first())
    if grant is None:
        raise NotFound()
    authorize_basis_oversight(actor=actor_for(user=actor), grant=grant, four_eyes=four_eyes)
    return grant


def legal_basis_grant_approve(*, actor: User, grant_id: int) -> LegalBasisGrant:
    """Someone other than the requester approves a pending grant; its period starts now."""
    with transaction.atomic():
        grant = _grant_overseen(actor, grant_id, four_eyes=True)
        if grant.status != GrantStatus.PENDING:
            raise Conflict("grant_not_pending")
        duration = grant.ends_at - grant.starts_at
        now = timezone.now()
        grant.status, grant.approved_by = GrantStatus.ACTIVE, actor
        grant.starts_at, grant.ends_at = now, now + duration
        grant.review_due_at = _review_due(grant)
        grant.save(update_fields=["status", "approved_by", "starts_at", "ends_at", "review_due_at"])
        review_task_for_grant(grant=grant)
        grants_sync_residents(resident_ids=[grant.resident_id])
    return grant


def legal_basis_grant_revoke(*, actor: User, grant_id: int) -> LegalBasisGrant:
    """End a grant now (its requester may, as may whoever oversees it). A grant never opened needs no review."""
    with transaction.atomic():
        grant = _grant_overseen(actor, grant_id, four_eyes=False)
        if grant.status == GrantStatus.REVOKED:
            return grant
        never_opened = grant.status == GrantStatus.PENDING
        grant.status, grant.revoked_at = GrantStatus.REVOKED, timezone.now()
        grant.save(update_fields=["status", "revoked_at"])
        if never_opened:
            tasks_close(tasks=Q(legal_basis_grant=grant, kind=TaskKind.REVIEW_GRANT), actor=actor,
                        outcome="never opened")
        grants_sync_residents(resident_ids=[grant.resident_id])
    return grant


def legal_basis_grant_review(*, actor: User, grant_id: int, justified: bool, note: str = "") -> LegalBasisGrant:
    """After-the-fact review by someone other than the requester: another supervisor or the privacy officer."""
    with transaction.atomic():
        grant = _grant_overseen(actor, grant_id, four_eyes=True)
        if grant.reviewed_at is not None:
            raise Conflict("grant_already_reviewed")
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
    """Convene a support meeting (支援会議) of several organisations about cases the convener can see."""
    if ends_at <= held_at:
        raise RuleViolation("meeting_period_invalid", field="ends_at")
    if ends_at - max(held_at, timezone.now()) > basis_rule(LegalBasis.SUPPORT_MEETING).max_duration:
        raise RuleViolation("meeting_period_invalid", field="ends_at")
    convener, roster = authorize_meeting_convene(actor=actor_for(user=actor), members=members,
                                                 organization_id=organization.id if organization else None)
    with transaction.atomic():
        meeting = SupportMeeting.objects.create(
            title=title, convened_by_id=convener.organization_id, held_at=held_at, ends_at=ends_at
        )
        meeting.cases.set(cases)
        MeetingMember.objects.bulk_create(
            [MeetingMember(meeting=meeting, user=user, organization_id=org_id) for user, org_id in roster]
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
    """Share a resident's categories with the meeting's acknowledged members under SWA106-6, until it ends.

    The sharer holds the resident in its own right and sees every record it shares; the share is reviewed
    when the meeting ends.
    """
    meeting = SupportMeeting.objects.filter(pk=meeting_id, members__user=actor).distinct().first()
    if meeting is None:
        raise NotFound()
    chosen = _check_categories(categories)
    standing = authorize_meeting_share(actor=actor_for(user=actor), meeting=meeting, resident=resident,
                                       categories=chosen)
    now = timezone.now()
    if meeting.ends_at <= now:
        # SWA106-6 covers sharing inside the meeting only; an ended meeting shares nothing.
        raise RuleViolation("meeting_ended", field="meeting")
    with transaction.atomic():
        grant = LegalBasisGrant.objects.create(
            resident=resident,
            organization_id=standing.organization_id,
            basis=LegalBasis.SUPPORT_MEETING,
            meeting=meeting,
            categories=chosen,
            justification=justification.strip() or meeting.title,
            status=GrantStatus.ACTIVE,
            requested_by=actor,
            approved_by=actor,
            starts_at=now,
            ends_at=meeting.ends_at,
            review_due_at=meeting.ends_at,
        )
        review_task_for_grant(grant=grant)
        grants_sync_residents(resident_ids=[resident.id])
    return grant
