"""The escalation sweep: fire the next step of every task nobody acknowledged in time.

Lives depend on these firing, so this sweep runs on `urgent`, unthrottled (cases/tasks.py); the backlog
sweeps that open tasks for overdue visits and expiring consents are cases/services/visit_consent_sweeps.py,
paced on `bulk`.

Deadlines live in the database, never only in the broker. The sweep claims
due rows with `SELECT … FOR UPDATE SKIP LOCKED` in batches, so sweeps running
at the same time take different rows, and it writes, in the batch's one
transaction, the `TaskEscalation` rows (unique per task and level), the
task's move to its next step (a conditional update on status and level) and
the outbox messages (unique keys). Run twice, run concurrently or killed
half-way (the transaction rolls back, the locks go), each step fires once.
"""

from __future__ import annotations

import datetime
import logging
import time
from collections import defaultdict
from dataclasses import dataclass

from django.db import transaction
from django.db.models import F
from django.utils import timezone

from audit.changes import changes_update
from cases.models import (
    EscalationStep,
    EscalationTarget,
    Organization,
    Task,
    TaskEscalation,
    TaskKind,
    TaskStatus,
    User,
)
from cases.models.choices import OrganizationKind, Role
from cases.services.tasks import (
    _care_centre_for,
    queue_recipients,
    task_link,
    ward_section_for,
)
from notifications.outbox import Message, outbox_write
from permissions.actors import members_of
from permissions.grants import grants_sync_residents

logger = logging.getLogger("cases.escalations")

BATCH = 500
TIME_BUDGET_SECONDS = 20.0


@dataclass
class SweepResult:
    done: int = 0
    more: bool = False


def sweep_batches(batch_fn, *, batch: int, time_budget: float) -> SweepResult:
    """Run batches until one finds nothing due (a step that came due meanwhile is fired too) or time is up.

    `batch_fn(batch)` returns (rows done, rows claimed); a time budget of 0 runs exactly one batch, and
    `more` then says whether it found any work (the paced backlog sweeps run one chunk per message)."""
    result, started = SweepResult(), time.monotonic()
    while True:
        done, claimed = batch_fn(batch)
        result.done += done
        if claimed == 0:
            return result
        if time.monotonic() - started > time_budget:
            result.more = True
            return result


class _Targets:
    """Who a step reaches: an organisation and the users notified. Cached for one batch."""

    def __init__(self) -> None:
        self._orgs: dict[tuple, Organization | None] = {}
        self._users: dict[tuple, list[User]] = {}

    def _members(self, organization: Organization | None, roles: tuple[str, ...]) -> list[User]:
        if organization is None:
            return []
        key = (organization.id, roles)
        if key not in self._users:
            self._users[key] = members_of(organization, roles=roles)
        return self._users[key]

    def _org(self, key: tuple, find) -> Organization | None:
        if key not in self._orgs:
            self._orgs[key] = find()
        return self._orgs[key]

    def ward_section(self, task: Task) -> tuple[Organization | None, list[User]]:
        """The resident's ward section (the public body answerable for them) and its caseworkers."""
        resident = task.resident
        ward_id = resident.district.council_area.ward_id if resident else task.assignee_organization.ward_id
        org = self._org(("ward_section", ward_id), lambda: ward_section_for(resident, task.assignee_organization))
        return org, self._members(org, (Role.WORKER, Role.SUPERVISOR))

    def resolve(self, task: Task, step: EscalationStep) -> tuple[Organization | None, list[User]]:
        queue = (Role.WORKER, Role.SUPERVISOR)
        resident = task.resident
        ward_id = resident.district.council_area.ward_id if resident else task.assignee_organization.ward_id
        if step.target_organization_id:
            org = step.target_organization
            return org, self._members(org, (Role.SUPERVISOR,) if org.kind == OrganizationKind.COMMISSIONER_COUNCIL
                                      else queue)
        if step.target == EscalationTarget.ASSIGNEE:
            org = task.assignee_organization
            if task.assignee_user_id:
                return org, [task.assignee_user]
            key = ("queue", org.id)
            if key not in self._users:
                self._users[key] = queue_recipients(org)
            return org, self._users[key]
        if step.target == EscalationTarget.ASSIGNEE_SUPERVISORS:
            return task.assignee_organization, self._members(task.assignee_organization, (Role.SUPERVISOR,))
        if step.target == EscalationTarget.WARD_SECTION:
            return self.ward_section(task)
        if step.target == EscalationTarget.COUNCIL_CHAIR:
            # The district's council; else the council the task is assigned to; else the ward's first.
            org = resident.district.council_area.council if resident else None
            if org is None and task.assignee_organization.kind == OrganizationKind.COMMISSIONER_COUNCIL:
                org = task.assignee_organization
            if org is None:
                org = self._org(("council", ward_id), lambda: Organization.objects.filter(
                    kind=OrganizationKind.COMMISSIONER_COUNCIL, ward_id=ward_id).order_by("id").first())
            return org, self._members(org, (Role.SUPERVISOR,))
        if step.target == EscalationTarget.CARE_CENTRE:
            if task.case_id:
                org = self._org(("care_centre_case", task.case_id), lambda: _care_centre_for(task.case))
            else:
                org = self._org(("care_centre", ward_id), lambda: Organization.objects.filter(
                    kind=OrganizationKind.CARE_CENTRE, ward_id=ward_id).order_by("id").first())
            return org, self._members(org, queue)
        return None, []


def _steps_of(policy_ids: set[int]) -> dict[int, list[EscalationStep]]:
    steps: dict[int, list[EscalationStep]] = defaultdict(list)
    for step in EscalationStep.objects.filter(policy_id__in=policy_ids).select_related("target_organization") \
            .order_by("policy_id", "position"):
        steps[step.policy_id].append(step)
    return steps


def _escalate_batch(batch: int) -> tuple[int, int]:
    now = timezone.now()
    with transaction.atomic():
        tasks = list(
            Task.objects.select_for_update(skip_locked=True, of=("self",))
            .filter(status=TaskStatus.OPEN, next_escalation_at__lte=now)
            .select_related("assignee_organization", "assignee_user", "case",
                            "resident__district__council_area__council")
            .order_by("next_escalation_at", "id")[:batch]
        )
        if not tasks:
            return 0, 0
        steps = _steps_of({t.escalation_policy_id for t in tasks if t.escalation_policy_id})
        targets = _Targets()
        fired: list[TaskEscalation] = []
        messages: list[Message] = []
        # (level, new level, the next step's delay, reached nobody) -> tasks: one UPDATE each.
        moves: dict[tuple[int, int, datetime.timedelta | None, bool], list[int]] = defaultdict(list)
        for task in tasks:
            policy_steps = steps.get(task.escalation_policy_id, [])
            level = task.escalation_level
            if level >= len(policy_steps):  # the policy lost steps since: nothing left to fire
                moves[(level, level, None, False)].append(task.id)
                continue
            step = policy_steps[level]
            target = step.target
            organization, users = targets.resolve(task, step)
            last = level + 1 >= len(policy_steps)
            if not users and last and target != EscalationTarget.WARD_SECTION:
                # The last step reached nobody: the ward section is told instead, never no one.
                target = EscalationTarget.WARD_SECTION
                organization, users = targets.ward_section(task)
            if not users:
                logger.error("escalation reached nobody: task %s level %s target %s organisation %s",
                             task.id, level + 1, target, getattr(organization, "id", None))
            fired.append(TaskEscalation(task=task, level=level + 1, target=target,
                                        target_organization=organization, recipients=len(users), fired_at=now))
            urgent = task.is_urgent()
            event = "task_reminder" if target == EscalationTarget.ASSIGNEE else "task_escalated"
            messages += [
                Message(reason=f"task:{task.id}:escalation:{level + 1}", recipient_id=user.id,
                        recipient_email=user.email, event=event, subject_type="task", subject_id=task.id,
                        link=task_link(task.id), urgent=urgent)
                for user in users
            ]
            # A step that reached nobody does not wait for the next one's time: it fires at once.
            following = None if last else policy_steps[level + 1].after
            moves[(level, level + 1, following, not users)].append(task.id)
        TaskEscalation.objects.bulk_create(fired)
        # Whoever a safety check reached may now open what the check needs (permissions/policy/rules.py).
        grants_sync_residents(resident_ids=sorted({
            e.task.resident_id for e in fired
            if e.task.kind == TaskKind.SAFETY_CHECK and e.task.resident_id and e.target_organization is not None}))
        for (level, new_level, following, at_once), ids in moves.items():
            if following is None:
                next_at = None
            else:
                next_at = now if at_once else F("due_at") + following
            moved = changes_update(Task.objects.filter(id__in=ids, status=TaskStatus.OPEN, escalation_level=level), {
                "escalation_level": new_level, "next_escalation_at": next_at})
            if moved != len(ids):  # cannot happen while we hold the row locks; never fire half a batch
                raise RuntimeError(f"escalation sweep: moved {moved} of {len(ids)} tasks")
        outbox_write(messages)
    return len(fired), len(tasks)


def escalations_fire_due(*, batch: int = BATCH, time_budget: float = TIME_BUDGET_SECONDS) -> SweepResult:
    """Fire every escalation step that is due, once; `more` says the time budget ran out first."""
    return sweep_batches(_escalate_batch, batch=batch, time_budget=time_budget)
