"""Residents' rights (APPI Arts. 33-35): the ledger of requests, cessation of use, and the deadline reminder.

A request is received by the ward's privacy officer after checking who is asking
(the method and the officer are recorded), and must be answered within 30 days.
Seven days before the deadline a reminder goes to the ward's privacy officers
through the notification outbox (ids and a link only).

Why not a `Task`: tasks sit in an organisation's queue for its workers and
supervisors, and escalate to casework staff; a rights request is confidential to
the privacy officer, and its reminder must reach only them.

Cessation withdraws every consent of the resident at once through
`cases.services.consent_withdraw`, which re-derives the grants in the same
transaction: every consent-based provision stops on the next request. Access on
a legal basis (APPI27-1-x, SWA106-6) is not the resident's to stop; the request's
outcome note lists the ones still active for the officer to review.
"""

from __future__ import annotations

import datetime
import logging

from django.db import transaction
from django.utils import timezone

from audit.changes import changes_update
from audit.models import (
    OUTCOMES_FOR,
    RIGHTS_DEADLINE,
    RIGHTS_REMINDER_BEFORE,
    RightsKind,
    RightsOutcome,
    RightsRequest,
    RightsStatus,
)
from audit.selectors import privacy_officer_wards
from cases.errors import Conflict, NotFound, RuleViolation
from cases.models import Consent, LegalBasisGrant, Resident, User
from cases.models.consent import Decision, Grantor, GrantStatus
from cases.services import consent_withdraw
from notifications.outbox import Message, outbox_write
from permissions.actors import privacy_officers_of

logger = logging.getLogger("audit.rights")


def _officer_of(actor: User, resident: Resident) -> None:
    if resident.district.council_area.ward_id not in privacy_officer_wards(user=actor):
        raise NotFound()


def rights_request_receive(
    *,
    actor: User,
    resident: Resident,
    kind: str,
    identity_check: str,
    requester: str = Grantor.SELF,
    proxy_name: str = "",
    details: str = "",
    received_at: datetime.datetime | None = None,
) -> RightsRequest:
    """Enter a request in the ledger; the 30-day deadline runs from when it was received."""
    _officer_of(actor, resident)
    now = timezone.now()
    received_at = received_at or now
    if received_at > now + datetime.timedelta(minutes=10) or received_at < now - RIGHTS_DEADLINE:
        raise RuleViolation("rights_received_at_invalid", field="received_at")
    if requester != Grantor.SELF and not proxy_name.strip():
        raise RuleViolation("consent_proxy_required", field="proxy_name")
    if kind == RightsKind.CORRECTION and not details.strip():
        raise RuleViolation("rights_details_required", field="details")
    deadline = received_at + RIGHTS_DEADLINE
    return RightsRequest.objects.create(
        resident=resident, ward_id=resident.district.council_area.ward_id, kind=kind, requester=requester,
        proxy_name=proxy_name.strip(), details=details.strip(), identity_check=identity_check,
        identity_checked_by=actor, received_at=received_at, deadline=deadline,
        reminder_due_at=deadline - RIGHTS_REMINDER_BEFORE, created_at=now,
    )


def rights_request_close(*, actor: User, request: RightsRequest, outcome: str, note: str = "") -> RightsRequest:
    """Record the answer. Once closed a request does not change (a new request is entered instead)."""
    if outcome not in OUTCOMES_FOR[request.kind]:
        raise RuleViolation("rights_outcome_invalid", field="outcome")
    if outcome in (RightsOutcome.REFUSED, RightsOutcome.NOT_CORRECTED, RightsOutcome.PARTLY_DISCLOSED) \
            and not note.strip():
        raise RuleViolation("rights_reason_required", field="note")
    with transaction.atomic():
        locked = RightsRequest.objects.select_for_update().get(pk=request.pk)
        if locked.status != RightsStatus.OPEN:
            raise Conflict("rights_request_closed")
        locked.status, locked.outcome, locked.outcome_note = RightsStatus.CLOSED, outcome, note.strip()
        locked.closed_at, locked.closed_by = timezone.now(), actor
        locked.save(update_fields=["status", "outcome", "outcome_note", "closed_at", "closed_by"])
    return locked


def rights_cessation_apply(*, actor: User, request: RightsRequest) -> tuple[RightsRequest, list[int], list[int]]:
    """Withdraw every consent of the resident now and close the request; returns the consents withdrawn and the
    legal-basis grants still active (not the resident's to stop)."""
    if request.kind != RightsKind.CESSATION:
        raise Conflict("rights_cessation_kind")
    if request.status != RightsStatus.OPEN:
        raise Conflict("rights_request_closed")
    resident = request.resident
    now = timezone.now()
    with transaction.atomic():
        consent_ids = list(
            Consent.objects.filter(resident=resident, decision=Decision.GRANTED, withdrawn_at__isnull=True)
            .order_by("id").values_list("id", flat=True)
        )
        for consent_id in consent_ids:
            consent_withdraw(actor=actor, resident=resident, consent_id=consent_id, grantor=request.requester,
                             note=_cessation_note(request))
        still = _still_active(resident, now)
        note = f"withdrawn consents: {consent_ids or 'none'}; legal-basis grants still active: {still or 'none'}"
        closed = rights_request_close(actor=actor, request=request, outcome=RightsOutcome.CEASED, note=note)
    return closed, consent_ids, still


def _cessation_note(request: RightsRequest) -> str:
    return f"利用停止請求 {request.pk}"


def _still_active(resident: Resident, now: datetime.datetime) -> list[int]:
    return list(LegalBasisGrant.objects.filter(resident=resident, status=GrantStatus.ACTIVE, ends_at__gt=now,
                                               revoked_at__isnull=True).order_by("id").values_list("id", flat=True))


def rights_cessation_result(*, request: RightsRequest) -> tuple[list[int], list[int]]:
    """What a cessation did, read again: the consents it withdrew and the legal-basis grants still active."""
    withdrawn = list(Consent.objects.filter(resident=request.resident, withdrawal_note=_cessation_note(request))
                     .order_by("id").values_list("id", flat=True))
    return withdrawn, _still_active(request.resident, timezone.now())


def rights_reminders_send(*, now: datetime.datetime | None = None) -> int:
    """Remind the ward's privacy officers of open requests whose deadline is a week away. Safe to run twice."""
    now = now or timezone.now()
    sent = 0
    due = RightsRequest.objects.filter(status=RightsStatus.OPEN, reminded_at__isnull=True, reminder_due_at__lte=now)
    for request_id, ward_id in due.order_by("id").values_list("id", "ward_id")[:500]:
        with transaction.atomic():
            if changes_update(RightsRequest.objects.filter(pk=request_id, reminded_at__isnull=True),
                              {"reminded_at": now}) != 1:
                continue  # another sweep got it
            officers = privacy_officers_of(ward_id=ward_id)
            _notify(request_id, officers)
            sent += 1
    return sent


def _notify(request_id: int, officers: list[User]) -> None:
    outbox_write(
        Message(reason=f"rights:{request_id}:deadline", recipient_id=user.id, recipient_email=user.email,
                event="rights_request_due", subject_type="rights_request", subject_id=request_id,
                link=f"/api/v1/rights/requests/{request_id}", urgent=False)
        for user in officers
    )
    logger.info("rights request %s: deadline reminder to %s officer(s)", request_id, len(officers))
