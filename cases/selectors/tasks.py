"""Reads of tasks and their escalation plans: the assignees, the queues an escalation reached, the raiser."""

from __future__ import annotations

import dataclasses
import datetime

from django.db.models import Exists, OuterRef, Q, QuerySet

from cases.errors import NotFound
from cases.models import (
    EscalationStep,
    Organization,
    Task,
    TaskEscalation,
    User,
)
from cases.models.escalations import TaskKind
from cases.models.tasks import TaskStatus
from cases.selectors.names import name_of, rows_template
from permissions.actors import actor_for


# Tasks: the assignee user, the caseworkers of the assignee organisation, the organisations an escalation
# reached, and whoever raised it (to see its status and outcome). Review tasks are also the privacy
# officers' of the resident's ward. A task holds ids only; its subject is read through the policy.
def _task_base() -> QuerySet[Task]:
    return Task.objects.select_related("assignee_organization", "assignee_user", "acknowledged_by", "closed_by")


# A list page of tasks as rows: what `TaskSerializer` reads, in one query of the task table alone (the names of
# the assignees and of who acknowledged or closed it by sub-select, cases/selectors/names.py). The joined rows
# of `_task_base` were whole users and organisations, planned with four joins on every page.
TASK_VALUES = (
    "id", "kind", "status", "urgency", "instruction_code", "assignee_organization_id",
    "assignee_organization__kind", "assignee_organization__name", "assignee_user_id",
    "assignee_user__display_name", "due_at", "resident_id", "case_id", "visit_id", "referral_id", "consent_id",
    "legal_basis_grant_id", "escalation_level", "next_escalation_at", "created_at", "acknowledged_at",
    "acknowledged_by_id", "acknowledged_by__display_name", "closed_at", "closed_by_id", "closed_by__display_name",
    "outcome",
)
# Each shown name as its sub-select, built once (a query resolves its own copy).
_TASK_NAMES = {
    "assignee_organization__kind": name_of(Organization, "kind", "assignee_organization_id"),
    "assignee_organization__name": name_of(Organization, "name", "assignee_organization_id"),
    "assignee_user__display_name": name_of(User, "display_name", "assignee_user_id"),
    "acknowledged_by__display_name": name_of(User, "display_name", "acknowledged_by_id"),
    "closed_by__display_name": name_of(User, "display_name", "closed_by_id"),
}


@rows_template
def _task_rows() -> QuerySet:
    return Task.objects.values(*(field for field in TASK_VALUES if field not in _TASK_NAMES), **_TASK_NAMES)


def _queue(actor) -> Q:
    """Only the parts the actor has: a part with an empty list matches nothing, yet its joins (the resident's
    ward for reviews) would stay in the query, one more table for every page to plan."""
    organizations = sorted(actor.queue_organization_ids)
    queue = Q(pk__in=[])
    if organizations:
        escalated = TaskEscalation.objects.filter(task=OuterRef("pk"), target_organization_id__in=organizations)
        queue |= Q(assignee_organization_id__in=organizations) | Exists(escalated)
    if actor.privacy_officer_ward_ids:
        queue |= Q(kind=TaskKind.REVIEW_GRANT, resident__district__council_area__ward_id__in=sorted(
            actor.privacy_officer_ward_ids))
    return queue


def tasks_visible_to(*, user: User) -> QuerySet[Task]:
    if not user.is_authenticated:
        return Task.objects.none()
    actor = actor_for(user=user)
    return _task_base().filter(Q(assignee_user=user) | Q(created_by=user) | _queue(actor)).order_by("due_at", "id")


def tasks_mine(*, user: User, rows: bool = False) -> QuerySet[Task]:
    """Tasks assigned to me by name, soonest due first; with `rows`, as rows of `TASK_VALUES` for a list page."""
    if not user.is_authenticated:
        return Task.objects.none()
    return (_task_rows() if rows else _task_base()).filter(assignee_user=user).order_by("due_at", "id")


def tasks_queue(*, user: User, rows: bool = False) -> QuerySet[Task]:
    """My organisations' queue: tasks assigned to them, and tasks escalated to them, soonest due first (and,
    for a privacy officer, the reviews of their ward); with `rows`, as rows of `TASK_VALUES`."""
    if not user.is_authenticated:
        return Task.objects.none()
    return (_task_rows() if rows else _task_base()).filter(_queue(actor_for(user=user))).order_by("due_at", "id")


def task_reached_organizations(*, task: Task) -> set[int]:
    """The organisations an escalation of this task reached."""
    return set(TaskEscalation.objects.filter(task=task, target_organization__isnull=False)
               .values_list("target_organization_id", flat=True))


def task_get_for_user(*, user: User, task_id: int) -> Task:
    task = tasks_visible_to(user=user).filter(pk=task_id).first()
    if task is None:
        raise NotFound()
    return task


@dataclasses.dataclass(frozen=True)
class EscalationPlanStep:
    """One step of a task's escalation: what its policy plans, and what happened when it fired."""

    level: int
    target: str
    planned_at: datetime.datetime
    state: str  # fired | pending (fires if the task is still open then) | not_needed (the task left `open`)
    target_organization: Organization | None  # the policy's fixed organisation, or the one the step reached
    fired_at: datetime.datetime | None
    recipients: int | None


def task_escalation_plan(*, task: Task) -> list[EscalationPlanStep]:
    """Every step of the task's policy in firing order, planned at due time + the step's offset, merged with the
    steps that fired (a fired step shows whom it reached: the ward section when the last step reached nobody).
    A step after one that reached nobody fires at once, so before its planned time."""
    planned = list(EscalationStep.objects.filter(policy_id=task.escalation_policy_id)
                   .select_related("target_organization").order_by("position")) if task.escalation_policy_id else []
    fired = {row.level: row for row in task.escalations.select_related("target_organization")}
    still_open = task.status == TaskStatus.OPEN
    plan = []
    for level in sorted({*range(1, len(planned) + 1), *fired}):
        step = planned[level - 1] if level <= len(planned) else None
        row = fired.get(level)
        if row is not None:
            plan.append(EscalationPlanStep(
                level=level, target=row.target, target_organization=row.target_organization, state="fired",
                planned_at=task.due_at + step.after if step is not None else row.fired_at,
                fired_at=row.fired_at, recipients=row.recipients,
            ))
        else:
            plan.append(EscalationPlanStep(
                level=level, target=step.target, target_organization=step.target_organization,
                planned_at=task.due_at + step.after, state="pending" if still_open else "not_needed",
                fired_at=None, recipients=None,
            ))
    return plan
