"""Referrals (つなぎ): the closed loop from one organisation's request to another's work.

The sender owns the request (send, cancel, mark entered-in-error); the receiver
owns the work (accept, reject, start, hold, resume, complete, fail). Which
action is allowed in which state, and by whom, is the table `TRANSITIONS`
below and nothing else. Every change is a conditional update on the state
read (`audit.changes.changes_update(… status=…, obj=referral)`, with its change
entry): of two workers accepting at once one
wins, the other gets 409 `referral_state_changed`. Each change writes its
`ReferralEvent`, its outbox messages and the re-derived grants in the same
transaction.

What the receiver may see follows from the referral's state and categories,
within consent or a legal basis: that is the access policy's business
(permissions/policy/rules.py), re-derived here on every change and checked at
every read. Sending refuses categories the policy would not share.
"""

from __future__ import annotations

import datetime

from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from audit.changes import changes_record, changes_update
from cases.errors import Conflict, NotPermitted, RuleViolation
from cases.models import (
    Case,
    CaseTeamMember,
    Organization,
    Referral,
    ReferralEvent,
    TaskKind,
    TaskStatus,
    User,
)
from cases.models.choices import Urgency
from cases.models.consent import Category
from cases.models.referrals import ReferralStatus as S
from cases.services.tasks import queue_recipients, task_open, tasks_close
from notifications.outbox import Message, outbox_write
from permissions.actors import RECORD_KEEPING_KINDS, actor_for
from permissions.grants import grants_sync_residents
from permissions.guards import authorize_referral_send, referral_receiver_check, referral_sides
from permissions.policy import referral_categories_covered

SENDER, RECEIVER = "sender", "receiver"

# The response deadline, by urgency: stored on the referral when it is sent.
RESPONSE_WINDOW = {
    Urgency.EMERGENCY: datetime.timedelta(hours=1),
    Urgency.URGENT: datetime.timedelta(hours=24),
    Urgency.ROUTINE: datetime.timedelta(days=7),
}

# (state, action) → (new state, the party who may take it). Anything not listed is refused (409).
TRANSITIONS: dict[tuple[str, str], tuple[str, str]] = {
    (S.DRAFT, "send"): (S.REQUESTED, SENDER),
    (S.DRAFT, "cancel"): (S.CANCELLED, SENDER),
    (S.DRAFT, "enter_in_error"): (S.ENTERED_IN_ERROR, SENDER),
    (S.REQUESTED, "accept"): (S.ACCEPTED, RECEIVER),
    (S.REQUESTED, "reject"): (S.REJECTED, RECEIVER),
    (S.REQUESTED, "cancel"): (S.CANCELLED, SENDER),
    (S.REQUESTED, "enter_in_error"): (S.ENTERED_IN_ERROR, SENDER),
    (S.ACCEPTED, "start"): (S.IN_PROGRESS, RECEIVER),
    (S.ACCEPTED, "hold"): (S.ON_HOLD, RECEIVER),
    (S.ACCEPTED, "fail"): (S.FAILED, RECEIVER),
    (S.ACCEPTED, "cancel"): (S.CANCELLED, SENDER),
    (S.ACCEPTED, "enter_in_error"): (S.ENTERED_IN_ERROR, SENDER),
    (S.IN_PROGRESS, "hold"): (S.ON_HOLD, RECEIVER),
    (S.IN_PROGRESS, "complete"): (S.COMPLETED, RECEIVER),
    (S.IN_PROGRESS, "fail"): (S.FAILED, RECEIVER),
    (S.IN_PROGRESS, "cancel"): (S.CANCELLED, SENDER),
    (S.IN_PROGRESS, "enter_in_error"): (S.ENTERED_IN_ERROR, SENDER),
    (S.ON_HOLD, "resume"): (S.IN_PROGRESS, RECEIVER),
    (S.ON_HOLD, "fail"): (S.FAILED, RECEIVER),
    (S.ON_HOLD, "cancel"): (S.CANCELLED, SENDER),
    (S.ON_HOLD, "enter_in_error"): (S.ENTERED_IN_ERROR, SENDER),
    (S.REJECTED, "enter_in_error"): (S.ENTERED_IN_ERROR, SENDER),
    (S.COMPLETED, "enter_in_error"): (S.ENTERED_IN_ERROR, SENDER),
    (S.FAILED, "enter_in_error"): (S.ENTERED_IN_ERROR, SENDER),
    (S.CANCELLED, "enter_in_error"): (S.ENTERED_IN_ERROR, SENDER),
}
ACTIONS = ("send", "cancel", "enter_in_error", "accept", "reject", "start", "hold", "resume", "complete", "fail")
# Each action belongs to one party whatever the state (checked: the table never disagrees).
ACTION_PARTY = {action: party for (_, action), (_, party) in TRANSITIONS.items()}
assert set(ACTION_PARTY) == set(ACTIONS)
assert all(ACTION_PARTY[action] == party for (_, action), (_, party) in TRANSITIONS.items())

REASON_REQUIRED = frozenset({S.REJECTED, S.CANCELLED, S.ON_HOLD, S.FAILED})
# The receiver works on the case in these states (it is on the case team).
WORKING = frozenset({S.ACCEPTED, S.IN_PROGRESS, S.ON_HOLD})


def referral_parties(*, actor: User, referral: Referral) -> set[str]:
    """Which side(s) of the referral the actor may act for (permissions.guards.referral_sides)."""
    sender, receiver = referral_sides(actor=actor_for(user=actor), referral=referral)
    return {party for party, acts in ((SENDER, sender), (RECEIVER, receiver)) if acts}


def _check_receiver(sender_id: int, receiver: Organization, receiver_user: User | None) -> None:
    if receiver.id == sender_id or receiver.kind not in RECORD_KEEPING_KINDS:
        raise RuleViolation("referral_receiver_invalid", field="receiver_organization")
    referral_receiver_check(receiver=receiver, receiver_user=receiver_user)


def _check_categories(categories: list[str]) -> list[str]:
    chosen = sorted(set(categories))
    if not chosen or set(chosen) - set(Category.values):
        raise RuleViolation("categories_invalid", field="categories")
    if Category.BASIC not in chosen:
        raise RuleViolation("referral_basic_required", field="categories")
    return chosen


def _check_covered(referral: Referral, now: datetime.datetime) -> None:
    """Every category must lie within consent (purpose referral, naming the receiver) or an active legal basis."""
    covered = referral_categories_covered(
        resident_id=referral.case.resident_id, organization=referral.receiver_organization,
        categories=referral.categories, at=now,
    )
    if set(referral.categories) - covered:
        raise Conflict("referral_not_covered", field="categories")


def _notify(referral: Referral, *, users: list[User], event: str, reason: str) -> None:
    urgent = referral.urgency != Urgency.ROUTINE
    outbox_write(
        Message(reason=reason, recipient_id=u.id, recipient_email=u.email, event=event, subject_type="referral",
                subject_id=referral.id, link=f"/api/v1/referrals/{referral.id}", urgent=urgent)
        for u in users
    )


def _receivers(referral: Referral) -> list[User]:
    return [referral.receiver_user] if referral.receiver_user_id else queue_recipients(referral.receiver_organization)


def referral_create(
    *,
    actor: User,
    case: Case,
    receiver_organization: Organization,
    reason: str,
    categories: list[str],
    urgency: str = Urgency.ROUTINE,
    receiver_user: User | None = None,
    organization: Organization | None = None,
    send: bool = True,
    service_id: int | None = None,
) -> Referral:
    """Draft a referral about a case the actor sees (looked up by the caller), for their organisation, which
    holds the resident in its own right and sees what it shares; send it at once unless `send` is false.
    `service_id` names the listed service referred to (the caller found it in the directory, and its
    organisation is `receiver_organization`)."""
    chosen = _check_categories(categories)
    standing = authorize_referral_send(actor=actor_for(user=actor), case=case, categories=chosen,
                                       organization_id=organization.id if organization else None)
    _check_receiver(standing.organization_id, receiver_organization, receiver_user)
    if not reason.strip():
        raise RuleViolation("referral_reason_required", field="reason")
    now = timezone.now()
    with transaction.atomic():
        referral = Referral.objects.create(
            case=case, sender_organization_id=standing.organization_id, sender_user=actor,
            receiver_organization=receiver_organization, receiver_user=receiver_user, reason=reason.strip(),
            urgency=urgency, categories=chosen, created_at=now, updated_at=now, service_id=service_id,
        )
        ReferralEvent.objects.create(referral=referral, action="create", from_status="", to_status=S.DRAFT,
                                     actor=actor, organization_id=standing.organization_id, at=now)
        if send:
            referral = referral_transition(actor=actor, referral_id=referral.id, action="send")
    return referral


def referral_transition(*, actor: User, referral_id: int, action: str, reason: str = "") -> Referral:
    """Take `action` on a referral the actor is a party to (else 404), by the table above."""
    from cases.selectors import referral_get_for_user

    referral = referral_get_for_user(user=actor, referral_id=referral_id)
    if action not in ACTIONS:
        raise RuleViolation("referral_action_unknown", field="action")
    party = ACTION_PARTY[action]
    if party not in referral_parties(actor=actor, referral=referral):
        raise NotPermitted("referral_wrong_party")
    rule = TRANSITIONS.get((referral.status, action))
    if rule is None:
        raise Conflict("referral_transition_invalid")
    target = rule[0]
    reason = reason.strip()
    if target in REASON_REQUIRED and not reason:
        raise RuleViolation("referral_reason_required", field="reason")
    now = timezone.now()
    changes: dict = {"status": target, "status_reason": reason, "updated_at": now}
    if action == "send":
        _check_covered(referral, now)
        changes |= {"requested_at": now, "response_due_at": now + RESPONSE_WINDOW[referral.urgency]}
    if action in ("accept", "reject"):
        changes |= {"answered_at": now, "answered_by": actor}
    if target in (S.COMPLETED, S.FAILED, S.CANCELLED, S.ENTERED_IN_ERROR, S.REJECTED):
        changes["closed_at"] = now
    acting_org = referral.sender_organization if party == SENDER else referral.receiver_organization
    with transaction.atomic():
        if changes_update(Referral.objects.filter(status=referral.status), changes, obj=referral) != 1:
            raise Conflict("referral_state_changed")
        ReferralEvent.objects.create(referral=referral, action=action, from_status=referral.status,
                                     to_status=target, reason=reason, actor=actor, organization=acting_org, at=now)
        referral.refresh_from_db()
        _effects(referral, action=action, actor=actor, now=now)
        grants_sync_residents(resident_ids=[referral.case.resident_id])
    return referral


def _effects(referral: Referral, *, action: str, actor: User, now: datetime.datetime) -> None:
    """What a change brings with it: the answer task, the case team, and who is told."""
    answer_task = Q(referral=referral, kind=TaskKind.ANSWER_REFERRAL)
    if referral.status == S.REQUESTED:
        task_open(
            kind=TaskKind.ANSWER_REFERRAL, organization=referral.receiver_organization, user=referral.receiver_user,
            due_at=referral.response_due_at, urgency=referral.urgency, dedupe_key=f"referral:{referral.id}:answer",
            case=referral.case, referral=referral, created_by=actor, notify=False,  # announced as the referral
        )
        _notify(referral, users=_receivers(referral), event="referral_requested",
                reason=f"referral:{referral.id}:requested")
        return
    if action in ("accept", "reject"):
        tasks_close(tasks=answer_task, outcome=referral.status, actor=actor)
    elif action in ("cancel", "enter_in_error"):
        tasks_close(tasks=answer_task, status=TaskStatus.CANCELLED, outcome=referral.status, actor=actor)
    if referral.status == S.ACCEPTED:
        before = _team(referral)
        _, added = CaseTeamMember.objects.get_or_create(
            case_id=referral.case_id, organization_id=referral.receiver_organization_id, defaults={"added_at": now}
        )
        if added:
            changes_update(Referral.objects.all(), {"team_member_added": True}, obj=referral)
            referral.team_member_added = True
            changes_record(model=Case, obj=referral.case, old={"team": before}, new={"team": _team(referral)})
    elif referral.status not in WORKING and referral.team_member_added:
        _release_team_member(referral)
    # The other party hears about it (ids and a link only).
    if action in ("cancel", "enter_in_error"):
        users = _receivers(referral) if referral.requested_at else []
    else:
        users = [referral.sender_user]
    _notify(referral, users=users, event="referral_updated", reason=f"referral:{referral.id}:{referral.status}")


def _team(referral: Referral) -> list[int]:
    return sorted(CaseTeamMember.objects.filter(case_id=referral.case_id).values_list("organization_id", flat=True))


def _release_team_member(referral: Referral) -> None:
    """Take off the case team what this referral put on it, unless another working referral still needs it."""
    other = (
        Referral.objects.filter(case_id=referral.case_id, receiver_organization_id=referral.receiver_organization_id,
                                status__in=WORKING)
        .exclude(pk=referral.pk).order_by("id").first()
    )
    if other is not None:
        changes_update(Referral.objects.all(), {"team_member_added": True}, obj=other)
    elif referral.case.lead_organization_id != referral.receiver_organization_id:
        before = _team(referral)
        CaseTeamMember.objects.filter(case_id=referral.case_id,
                                      organization_id=referral.receiver_organization_id).delete()
        changes_record(model=Case, obj=referral.case, old={"team": before}, new={"team": _team(referral)})
    changes_update(Referral.objects.all(), {"team_member_added": False}, obj=referral)
    referral.team_member_added = False

