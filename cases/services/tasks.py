"""Tasks: opened once per reason, acknowledged, completed or cancelled; notified through the outbox.

`task_open` is what every trigger calls (a visit upload, a referral, a sweep, a
legal-basis grant) inside its own transaction: a second call with the same
`dedupe_key` returns the first task, so a retried request or a re-run sweep
never opens a second one. Changes of status are conditional updates
(`audit.changes.changes_update(… status__in=…, obj=task)`, with its change
entry); a zero row count means somebody else acted first, answered 409.
"""

from __future__ import annotations

import datetime
import uuid
from collections.abc import Iterable

from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils import timezone

from audit.changes import changes_update
from cases.errors import Conflict, RuleViolation
from cases.models import (
    Case,
    CaseTeamMember,
    Consent,
    EscalationPolicy,
    EscalationStep,
    LegalBasisGrant,
    Organization,
    Referral,
    Resident,
    Task,
    TaskKind,
    TaskStatus,
    User,
    Visit,
)
from cases.models.choices import OrganizationKind, Role, Urgency
from cases.models.visits import Outcome
from cases.selectors import task_get_for_user, task_reached_organizations
from notifications.outbox import Message, outbox_write
from permissions.actors import actor_for, members_of, privacy_officers_of
from permissions.grants import grants_sync_residents
from permissions.guards import authorize_task_cancel, authorize_task_request, authorize_task_work

SAFETY_CHECK_ACKNOWLEDGE_AT_ONCE = datetime.timedelta(0)
# Kinds whose doing means knocking on the door or calling the household.
CONTACT_KINDS = frozenset({TaskKind.SAFETY_CHECK, TaskKind.FOLLOW_UP_VISIT})
OPEN_STATUSES = (TaskStatus.OPEN, TaskStatus.ACKNOWLEDGED)
SAFETY_CHECK_REVIEW_WITHIN = datetime.timedelta(days=7)


def task_link(task_id: int) -> str:
    return f"/api/v1/tasks/{task_id}"


def queue_recipients(organization: Organization) -> list[User]:
    """A commissioner council's queue is read by its supervisors (the chair); others by workers and supervisors."""
    if organization.kind == OrganizationKind.COMMISSIONER_COUNCIL:
        return members_of(organization, roles=[Role.SUPERVISOR])
    return members_of(organization)


def task_messages(task: Task, *, users: Iterable[User], event: str, reason: str) -> list[Message]:
    """A task's announcement to each user: its id and link, never personal data."""
    return [
        Message(reason=reason, recipient_id=user.id, recipient_email=user.email, event=event, subject_type="task",
                subject_id=task.id, link=task_link(task.id), urgent=task.is_urgent())
        for user in users
    ]


def task_notify(task: Task, *, users: Iterable[User], event: str, reason: str) -> None:
    """Announce a task by id and link (never personal data), through the outbox, in the caller's transaction."""
    outbox_write(task_messages(task, users=users, event=event, reason=reason))


def task_opened_messages(task: Task) -> list[Message]:
    """Who is told that a task was opened: its assignee, else whoever reads its organisation's queue."""
    users = [task.assignee_user] if task.assignee_user else queue_recipients(task.assignee_organization)
    return task_messages(task, users=users, event="task_assigned", reason=f"task:{task.id}:assigned")


def escalation_policy_for(*, kind: str, organization_kind: str, urgency: str) -> EscalationPolicy | None:
    """The most specific active policy for this kind of task (organisation kind, then urgency)."""
    candidates = EscalationPolicy.objects.filter(
        task_kind=kind, active=True, organization_kind__in=[organization_kind, ""], urgency__in=[urgency, ""]
    )
    return max(candidates, key=lambda p: (p.organization_kind != "", p.urgency != "", -p.id), default=None)


def _first_step_at(policy: EscalationPolicy | None, due_at: datetime.datetime) -> datetime.datetime | None:
    if policy is None:
        return None
    step = EscalationStep.objects.filter(policy=policy).order_by("position").first()
    return due_at + step.after if step else None


def task_open(
    *,
    kind: str,
    organization: Organization,
    due_at: datetime.datetime,
    dedupe_key: str,
    urgency: str = Urgency.ROUTINE,
    user: User | None = None,
    resident: Resident | None = None,
    case: Case | None = None,
    visit: Visit | None = None,
    referral: Referral | None = None,
    consent: Consent | None = None,
    grant: LegalBasisGrant | None = None,
    instruction_code: str = "",
    created_by: User | None = None,
    notify: bool = True,
) -> tuple[Task, bool]:
    """Open a task once per `dedupe_key` and notify its assignee (unless the caller announces it itself, e.g.
    a sweep that writes a whole chunk's `task_opened_messages` at once); returns (task, created)."""
    existing = Task.objects.filter(dedupe_key=dedupe_key).first()
    if existing is not None:
        return existing, False
    if resident is None and case is not None:
        resident = case.resident
    policy = escalation_policy_for(kind=kind, organization_kind=organization.kind, urgency=urgency)
    try:
        with transaction.atomic():
            task = Task.objects.create(
                kind=kind, urgency=urgency, assignee_organization=organization, assignee_user=user, due_at=due_at,
                resident=resident, case=case, visit=visit, referral=referral, consent=consent,
                legal_basis_grant=grant, instruction_code=instruction_code, escalation_policy=policy,
                next_escalation_at=_first_step_at(policy, due_at), dedupe_key=dedupe_key, created_by=created_by,
                created_at=timezone.now(),
            )
    except IntegrityError:
        # A concurrent trigger opened it first (same dedupe key): use theirs.
        return Task.objects.get(dedupe_key=dedupe_key), False
    if notify:
        outbox_write(task_opened_messages(task))
    return task, True


def _care_centre_for(case: Case) -> Organization | None:
    """A care centre on the case team, else any care centre of the resident's ward."""
    on_team = (
        CaseTeamMember.objects.filter(case=case, organization__kind=OrganizationKind.CARE_CENTRE)
        .select_related("organization").order_by("organization_id").first()
    )
    if on_team is not None:
        return on_team.organization
    ward_id = case.resident.district.council_area.ward_id
    return Organization.objects.filter(kind=OrganizationKind.CARE_CENTRE, ward_id=ward_id).order_by("id").first()


def ward_section_for(resident: Resident | None, fallback: Organization | None = None) -> Organization | None:
    ward_id = resident.district.council_area.ward_id if resident is not None else getattr(fallback, "ward_id", None)
    return Organization.objects.filter(kind=OrganizationKind.WARD_SECTION, ward_id=ward_id).order_by("id").first()


def safety_check_for_visit(*, visit: Visit, case: Case) -> Task | None:
    """No answer and warning signs → an urgent safety check for the care centre, at once.

    Called by `visit_record` in the visit's transaction; one task per visit. A
    do-not-contact household is never knocked on: the check goes to the ward
    section instead, marked `do_not_contact` (coordinate, do not contact).
    """
    if visit.outcome != Outcome.NO_ANSWER or not visit.warning_signs:
        return None
    resident = case.resident
    instruction = "do_not_contact" if resident.do_not_contact else ""
    organization = None if resident.do_not_contact else _care_centre_for(case)
    if organization is None:
        organization = ward_section_for(resident)
    if organization is None:
        return None
    task, _ = task_open(
        kind=TaskKind.SAFETY_CHECK, organization=organization, urgency=Urgency.URGENT,
        due_at=visit.uploaded_at + SAFETY_CHECK_ACKNOWLEDGE_AT_ONCE, dedupe_key=f"visit:{visit.id}:safety_check",
        case=case, resident=resident, visit=visit, instruction_code=instruction, created_by=visit.recorded_by,
    )
    return task


def _reviewers(organization: Organization, resident: Resident, *, besides: int | None) -> list[User]:
    """Who reviews access given without consent: the organisation's supervisors and the ward's privacy officers,
    never the one whose access is reviewed."""
    users = {u.id: u for u in members_of(organization, roles=[Role.SUPERVISOR])}
    users.update({u.id: u for u in privacy_officers_of(ward_id=resident.district.council_area.ward_id)})
    return [user for user_id, user in sorted(users.items()) if user_id != besides]


def review_task_for_grant(*, grant: LegalBasisGrant) -> Task:
    """Every legal-basis grant is reviewed after the fact: a task for its organisation's supervisors and the
    ward's privacy officers (never only its requester), due at the review time of its basis."""
    task, created = task_open(
        kind=TaskKind.REVIEW_GRANT, organization=grant.organization, due_at=grant.review_due_at,
        dedupe_key=f"grant:{grant.id}:review", resident=grant.resident, grant=grant, urgency=Urgency.URGENT,
        notify=False,
    )
    if created:
        task_notify(task, users=_reviewers(grant.organization, grant.resident, besides=grant.requested_by_id),
                    event="task_assigned", reason=f"task:{task.id}:assigned")
    return task


def review_task_for_safety_check(*, check: Task) -> Task | None:
    """What a safety check opened to those it reached is reviewed once it closes: by the resident's ward
    section and the ward's privacy officers."""
    resident = check.resident
    section = ward_section_for(resident) if resident is not None else None
    if section is None:
        return None
    task, created = task_open(
        kind=TaskKind.REVIEW_GRANT, organization=section, due_at=timezone.now() + SAFETY_CHECK_REVIEW_WITHIN,
        dedupe_key=f"task:{check.id}:review", resident=resident, case=check.case, visit=check.visit,
        notify=False,
    )
    if created:
        task_notify(task, users=_reviewers(section, resident, besides=None), event="task_assigned",
                    reason=f"task:{task.id}:assigned")
    return task


def tasks_close(
    *, tasks: Q, status: str = TaskStatus.COMPLETED, outcome: str = "", actor: User | None = None
) -> int:
    """Close every still-open task matching `tasks` (e.g. a referral was answered); returns how many."""
    return changes_update(Task.objects.filter(tasks, status__in=OPEN_STATUSES), {
        "status": status, "closed_at": timezone.now(), "closed_by": actor, "outcome": outcome[:2000],
        "next_escalation_at": None})


def task_request(
    *,
    actor: User,
    case: Case,
    kind: str,
    organization: Organization,
    user: User | None = None,
    due_at: datetime.datetime,
    urgency: str = Urgency.ROUTINE,
) -> Task:
    """A caseworker asks for a safety check or a follow-up visit on a case they see (looked up by the caller).

    Refused with `do_not_contact` for a household that must not be contacted:
    the ward section coordinates those instead.
    """
    authorize_task_request(actor=actor_for(user=actor), case=case, organization=organization, user=user)
    if kind not in CONTACT_KINDS:
        raise RuleViolation("task_kind_invalid", field="kind")
    if case.resident.do_not_contact:
        raise Conflict("do_not_contact", field="kind")
    with transaction.atomic():
        task, _ = task_open(
            kind=kind, organization=organization, user=user, due_at=due_at, urgency=urgency,
            dedupe_key=f"request:{uuid.uuid4().hex}", case=case, created_by=actor,
        )
    return task


def _worked_task(actor: User, task_id: int) -> Task:
    """The task, looked up through the read side (404), and worked by the actor (403 for its reporter)."""
    task = task_get_for_user(user=actor, task_id=task_id)
    authorize_task_work(actor=actor_for(user=actor), task=task, reached=task_reached_organizations(task=task))
    return task


def _closed(task: Task, *, actor: User, changes: dict, statuses, event: str) -> Task:
    """Apply a status change conditionally (409 when someone acted first), tell the reporter, and end what a
    safety check opened when it closes."""
    with transaction.atomic():
        if changes_update(Task.objects.filter(status__in=statuses), changes, obj=task) != 1:
            raise Conflict("task_transition_invalid")
        task.refresh_from_db()
        if task.created_by_id and task.created_by_id != actor.id:
            # The loop closes back to whoever raised it (ids only, as every notification).
            task_notify(task, users=[task.created_by], event=event, reason=f"task:{task.id}:{task.status}:reporter")
        if task.kind == TaskKind.SAFETY_CHECK and task.status not in OPEN_STATUSES:
            review_task_for_safety_check(check=task)
            grants_sync_residents(resident_ids=[task.resident_id])
    return task


def task_acknowledge(*, actor: User, task_id: int) -> Task:
    """Someone takes it on: escalation stops. Only an open task can be acknowledged (else 409)."""
    task = _worked_task(actor, task_id)
    changes = {"status": TaskStatus.ACKNOWLEDGED, "acknowledged_at": timezone.now(), "acknowledged_by": actor,
               "next_escalation_at": None}
    return _closed(task, actor=actor, changes=changes, statuses=[TaskStatus.OPEN], event="task_acknowledged")


def task_complete(*, actor: User, task_id: int, outcome: str) -> Task:
    """Done, with what was done. A referral's answer task closes by answering the referral instead."""
    task = _worked_task(actor, task_id)
    if task.kind == TaskKind.ANSWER_REFERRAL:
        raise Conflict("task_answer_via_referral")
    if not outcome.strip():
        raise RuleViolation("task_outcome_required", field="outcome")
    now = timezone.now()
    changes = {"status": TaskStatus.COMPLETED, "closed_at": now, "closed_by": actor, "outcome": outcome.strip(),
               "next_escalation_at": None, "acknowledged_at": task.acknowledged_at or now,
               "acknowledged_by": task.acknowledged_by or actor}
    return _closed(task, actor=actor, changes=changes, statuses=OPEN_STATUSES, event="task_completed")


def task_cancel(*, actor: User, task_id: int, reason: str) -> Task:
    """Cancelled by its assignee or a member of the assignee organisation, saying why."""
    task = task_get_for_user(user=actor, task_id=task_id)
    if task.kind == TaskKind.ANSWER_REFERRAL:
        raise Conflict("task_answer_via_referral")
    authorize_task_cancel(actor=actor_for(user=actor), task=task)
    if not reason.strip():
        raise RuleViolation("task_outcome_required", field="reason")
    changes = {"status": TaskStatus.CANCELLED, "closed_at": timezone.now(), "closed_by": actor,
               "outcome": reason.strip(), "next_escalation_at": None}
    return _closed(task, actor=actor, changes=changes, statuses=OPEN_STATUSES, event="task_cancelled")
