"""Recording visits, including a day's offline uploads from a commissioner's phone.

A phone makes a `client_id` for each visit when it is recorded, offline, and
retries the upload until it gets an answer. The same (recorder, client_id) is
stored once, however often and however concurrently it arrives; a retry gets
the stored visit back.
"""

from __future__ import annotations

import datetime
import uuid
from dataclasses import dataclass

from django.db import IntegrityError, transaction
from django.db.models import F, Q
from django.utils import timezone

from audit.changes import changes_update
from cases.errors import Conflict, DomainError, RuleViolation
from cases.models import Case, TaskKind, User, Visit
from cases.models.visits import Outcome
from cases.services.tasks import safety_check_for_visit, tasks_close
from permissions.actors import actor_for
from permissions.grants import grants_sync_new_visit
from permissions.guards import recording_organization

CLOCK_SKEW = datetime.timedelta(minutes=10)
OLDEST_UPLOAD = datetime.timedelta(days=365)
BATCH_LIMIT = 100  # fits the request body limit (api/limits.py)
# After these outcomes nobody is there to visit on the old cadence.
NO_NEXT_VISIT = {Outcome.MOVED, Outcome.DECEASED}


def _next_due(case: Case, occurred_at: datetime.datetime, outcome: str) -> datetime.date | None:
    if not case.visit_cadence_days or outcome in NO_NEXT_VISIT:
        return None
    return timezone.localtime(occurred_at).date() + datetime.timedelta(days=case.visit_cadence_days)


@dataclass
class Recorded:
    visit: Visit
    created: bool


def visit_record(
    *,
    actor: User,
    case: Case,
    client_id: uuid.UUID,
    occurred_at: datetime.datetime,
    channel: str,
    outcome: str,
    warning_signs: list[str] | None = None,
    note: str = "",
) -> Recorded:
    """Store a visit once per (actor, client_id) and move the case's next visit due by its cadence."""
    existing = Visit.objects.filter(recorded_by=actor, client_id=client_id).first()
    if existing is not None:
        return _replayed(existing, case)
    now = timezone.now()
    if occurred_at > now + CLOCK_SKEW:
        raise RuleViolation("visit_in_future", field="occurred_at")
    if occurred_at < now - OLDEST_UPLOAD:
        raise RuleViolation("visit_too_old", field="occurred_at")
    organization_id = recording_organization(actor=actor_for(user=actor), case=case)
    try:
        with transaction.atomic():
            visit = Visit.objects.create(
                case=case,
                recorded_by=actor,
                organization_id=organization_id,
                client_id=client_id,
                occurred_at=occurred_at,
                uploaded_at=now,
                channel=channel,
                outcome=outcome,
                warning_signs=sorted(set(warning_signs or [])),
                note=note,
            )
            due = _next_due(case, occurred_at, outcome)
            if due is not None:
                # Only ever move forward: an older visit uploaded late must not pull the date back.
                behind = Q(next_visit_due__isnull=True) | Q(next_visit_due__lt=due)
                moved = changes_update(Case.objects.filter(behind), {
                    "next_visit_due": due, "updated_at": now, "version": F("version") + 1}, obj=case)
                if moved:
                    # The visit that was due happened: an open follow-up task for it is done.
                    tasks_close(tasks=Q(case=case, kind=TaskKind.FOLLOW_UP_VISIT), actor=actor,
                                outcome=f"visit {visit.id}")
            # No answer and warning signs → an urgent safety check, in this transaction.
            safety_check_for_visit(visit=visit, case=case)
            # The visit changes no other record's grants: derive this visit's (and its check's) only.
            grants_sync_new_visit(visit=visit)
    except IntegrityError:
        # A concurrent upload of the same visit won the insert: hand back what it stored.
        existing = Visit.objects.filter(recorded_by=actor, client_id=client_id).first()
        if existing is None:
            raise
        return _replayed(existing, case)
    return Recorded(visit=visit, created=True)


def _replayed(existing: Visit, case: Case) -> Recorded:
    if existing.case_id != case.pk:
        raise Conflict("visit_client_id_reused", field="client_id")
    return Recorded(visit=existing, created=False)


@dataclass
class BatchItemResult:
    index: int
    client_id: str | None
    status: int
    visit: Visit | None = None
    error: DomainError | Exception | None = None


def visits_record_batch(*, actor: User, items: list, resolve_case, validate) -> list[BatchItemResult]:
    """Record a day's offline visits; each item succeeds or fails on its own.

    `validate(item)` checks an item's shape and returns its fields (raising the
    API's validation error); `resolve_case(case_id)` looks the case up through
    the policy (raising NotFound). Both are passed in so this function makes
    every decision without knowing about HTTP.
    """
    if not 1 <= len(items) <= BATCH_LIMIT:
        raise RuleViolation("batch_size", field="items")
    results = []
    for index, item in enumerate(items):
        client_id = item.get("client_id") if isinstance(item, dict) else None
        try:
            fields = validate(item)
            case = resolve_case(fields.pop("case"))
            recorded = visit_record(actor=actor, case=case, **fields)
            results.append(BatchItemResult(index, str(recorded.visit.client_id), 201 if recorded.created else 200,
                                           visit=recorded.visit))
        except DomainError as error:
            results.append(BatchItemResult(index, _text(client_id), error.status, error=error))
        except Exception as error:  # the API's validation error: reported per item, never fails the batch
            status = getattr(error, "status_code", None)
            if status is None:
                raise
            results.append(BatchItemResult(index, _text(client_id), status, error=error))
    return results


def _text(value) -> str | None:
    return value if isinstance(value, str) and len(value) <= 64 else None

