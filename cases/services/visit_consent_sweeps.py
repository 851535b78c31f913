"""The backlog sweeps: open a follow-up task for each overdue visit and a renewal task for each consent
about to end.

Unlike escalations (cases/services/escalations.py, on `urgent`, unthrottled) these can find thousands of
rows at once (the first sweep of a city with a backlog opened 11,859 tasks and their notifications), so
cases/tasks.py runs them one chunk per message on `bulk`, paced to the operator's share of the time.

Each task's dedupe key is built by one function for both paths: the SQL that skips rows whose task
exists, and the task it opens (`visit_overdue_key`, `consent_renewal_key`). Claims are `SELECT … FOR
UPDATE SKIP LOCKED`, so sweeps running at once take different rows; run twice, a row opens nothing twice.

A chunk announces the tasks it opened in one outbox write at its end, as the escalation sweep does: one
delivery message per chunk instead of one per task. Written task by task, the deliveries (on `default`,
never paced) cost the worker as much time as the paced chunk itself, and the API lost that too.
"""

from __future__ import annotations

import datetime

from django.db import transaction
from django.db.models import CharField, Exists, F, OuterRef, Q, Value
from django.db.models.expressions import Combinable
from django.db.models.functions import Cast, Concat
from django.utils import timezone

from cases.models import Case, Consent, Task, TaskKind
from cases.models.choices import CaseStatus, OrganizationKind, RiskLevel, Urgency
from cases.models.consent import Decision
from cases.services.escalations import BATCH, TIME_BUDGET_SECONDS, SweepResult, sweep_batches
from cases.services.tasks import escalation_policy_for, task_open, task_opened_messages, ward_section_for
from notifications.outbox import outbox_write
from permissions.actors import CASEWORK_ROLES, actor_for

DEFAULT_VISIT_GRACE = datetime.timedelta(days=3)
CONSENT_RENEWAL_HORIZON = datetime.timedelta(days=30)


def _key(*parts):
    """`a:b:c` from values (a str, for the task written) or, when any part is a column, the same text as
    a SQL expression (to find the rows whose task exists). Dates render as ISO 8601 in both."""
    if not any(isinstance(part, Combinable) for part in parts):
        return ":".join(part.isoformat() if isinstance(part, datetime.date) else str(part) for part in parts)
    pieces = []
    for i, part in enumerate(parts):
        if i:
            pieces.append(Value(":"))
        pieces.append(Cast(part, CharField()) if isinstance(part, Combinable) else Value(str(part)))
    return Concat(*pieces, output_field=CharField())


def visit_overdue_key(case_id, next_visit_due):
    """One follow-up task per case and due date: `visit_overdue:<case>:<YYYY-MM-DD>`."""
    return _key("visit_overdue", case_id, next_visit_due)


def consent_renewal_key(consent_id):
    """One renewal task per consent: `consent:<consent>:renew`."""
    return _key("consent", consent_id, "renew")


def _visit_grace_by_kind() -> dict[str, datetime.timedelta]:
    grace = {}
    for kind in OrganizationKind.values:
        policy = escalation_policy_for(kind=TaskKind.FOLLOW_UP_VISIT, organization_kind=kind, urgency="")
        grace[kind] = policy.start_after if policy is not None else DEFAULT_VISIT_GRACE
    return grace


def _overdue_batch(batch: int) -> tuple[int, int]:
    now = timezone.now()
    today = timezone.localdate(now)
    overdue = Q()
    for kind, grace in _visit_grace_by_kind().items():
        overdue |= Q(lead_organization__kind=kind, next_visit_due__lt=today - datetime.timedelta(days=grace.days))
    opened = []
    with transaction.atomic():
        # Claim the ids first, then read the chunk's rows with what they need: joining the residents,
        # districts and workers of every overdue case to sort them cost 300 ms a chunk on the city
        # (13,158 overdue cases, a sort spilled to disk) against the ids' narrow sort.
        claimed = list(
            Case.objects.select_for_update(skip_locked=True, of=("self",))
            .filter(overdue).exclude(status=CaseStatus.CLOSED)
            .annotate(task_key=visit_overdue_key(F("id"), F("next_visit_due")))
            .filter(~Exists(Task.objects.filter(dedupe_key=OuterRef("task_key"))))
            .order_by("next_visit_due", "id").values_list("id", flat=True)[:batch]
        )
        cases = list(Case.objects.filter(id__in=claimed)
                     .select_related("lead_organization", "lead_worker", "resident__district__council_area")
                     .order_by("next_visit_due", "id"))
        for case in cases:
            resident = case.resident
            organization, user, instruction = case.lead_organization, case.lead_worker, ""
            if user is not None and not actor_for(user=user).with_roles(
                    CASEWORK_ROLES, organization_id=organization.id):
                user = None
            if resident.do_not_contact:
                # Never knock on a do-not-contact door: the ward section coordinates instead.
                organization, user, instruction = ward_section_for(resident) or organization, None, "do_not_contact"
            task, created = task_open(
                kind=TaskKind.FOLLOW_UP_VISIT, organization=organization, user=user, due_at=now,
                urgency=Urgency.URGENT if case.risk_level in (RiskLevel.HIGH, RiskLevel.URGENT) else Urgency.ROUTINE,
                dedupe_key=visit_overdue_key(case.id, case.next_visit_due), case=case,
                resident=resident, instruction_code=instruction, notify=False,
            )
            if created:
                opened.append(task)
        _announce(opened)
    return len(opened), len(cases)


def visits_overdue_open_tasks(*, batch: int = BATCH, time_budget: float = TIME_BUDGET_SECONDS) -> SweepResult:
    """A visit overdue beyond its cadence plus the policy's grace opens one follow-up task per due date."""
    return sweep_batches(_overdue_batch, batch=batch, time_budget=time_budget)


def _announce(tasks: list[Task]) -> None:
    """The chunk's new tasks told to their assignees in one outbox write, in the chunk's transaction."""
    outbox_write([message for task in tasks for message in task_opened_messages(task)])


def _consent_batch(batch: int) -> tuple[int, int]:
    now = timezone.now()
    opened = []
    with transaction.atomic():
        consents = list(
            Consent.objects.select_for_update(skip_locked=True, of=("self",))
            .filter(decision=Decision.GRANTED, withdrawn_at__isnull=True, valid_until__gt=now,
                    valid_until__lte=now + CONSENT_RENEWAL_HORIZON)
            .annotate(task_key=consent_renewal_key(F("id")))
            .filter(~Exists(Task.objects.filter(dedupe_key=OuterRef("task_key"))))
            .select_related("taken_by", "taken_by_organization", "resident")
            .order_by("valid_until", "id")[:batch]
        )
        for consent in consents:
            organization = consent.taken_by_organization
            user = consent.taken_by if actor_for(user=consent.taken_by).with_roles(
                CASEWORK_ROLES, organization_id=organization.id) else None
            task, created = task_open(
                kind=TaskKind.RENEW_CONSENT, organization=organization, user=user, due_at=consent.valid_until,
                dedupe_key=consent_renewal_key(consent.id), consent=consent, resident=consent.resident, notify=False,
            )
            if created:
                opened.append(task)
        _announce(opened)
    return len(opened), len(consents)


def consents_expiring_open_tasks(*, batch: int = BATCH, time_budget: float = TIME_BUDGET_SECONDS) -> SweepResult:
    """A consent ending within 30 days opens one renew_consent task for whoever took it."""
    return sweep_batches(_consent_batch, batch=batch, time_budget=time_budget)
