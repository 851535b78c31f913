"""A bulk write on a resident's records cannot skip its change entries (cases/models/audited.py, ADR 0022)."""

from __future__ import annotations

import datetime
import uuid

import pytest
from django.db.models import Q
from django.utils import timezone

from audit.changes import changes_create, changes_update
from audit.models import AccessLogEntry, Action, ProvisionRecord
from audit.subjects import SUBJECTS
from cases import services
from cases.models import Case, Task
from cases.models.audited import AuditedQuerySet, UnrecordedWrite, seed_create
from cases.models.tasks import TaskStatus
from cases.services.tasks import tasks_close
from tests.helpers import fixture_update

pytestmark = pytest.mark.django_db

LOGS = {AccessLogEntry, ProvisionRecord}  # append-only: never "changed", so not guarded either


def _entries(kind: str, action: str, object_id: int) -> list[AccessLogEntry]:
    return [e for e in AccessLogEntry.objects.filter(kind=kind, action=action).order_by("id")
            if object_id in e.object_ids]


@pytest.mark.parametrize("model", sorted(set(SUBJECTS) - LOGS, key=lambda m: m._meta.label),
                         ids=lambda m: m._meta.label)
def test_every_audited_model_guards_its_bulk_writes(model):
    assert isinstance(model.objects.all(), AuditedQuerySet), (
        f"{model._meta.label} is in audit.subjects.SUBJECTS: its manager must be cases.models.audited's")


def test_a_bare_update_bulk_create_or_bulk_update_is_refused(world):
    with pytest.raises(UnrecordedWrite):
        Case.objects.filter(pk=world.tanaka_case.pk).update(concern="x")
    with pytest.raises(UnrecordedWrite):
        Case.objects.bulk_create([Case(resident=world.tanaka, concern="x", lead_organization=world.council)])
    world.tanaka_case.concern = "x"
    with pytest.raises(UnrecordedWrite):
        Case.objects.bulk_update([world.tanaka_case], ["concern"])
    # Through a related manager too (it is built on the default manager).
    with pytest.raises(UnrecordedWrite):
        world.tanaka.cases.update(concern="x")
    assert Case.objects.get(pk=world.tanaka_case.pk).concern != "x"


def test_a_conditional_update_of_one_row_writes_its_entry(world):
    case = world.tanaka_case
    assert changes_update(Case.objects.filter(status="closed"), {"risk_level": "urgent"}, obj=case) == 0
    assert _entries("case", Action.UPDATE, case.id) == []
    assert changes_update(Case.objects.all(), {"risk_level": "urgent"}, obj=case) == 1
    [entry] = _entries("case", Action.UPDATE, case.id)
    assert entry.changes == {"risk_level": [case.risk_level, "urgent"]}


def test_a_bulk_update_writes_an_entry_per_row(world):
    cases = Case.objects.filter(id__in=[world.tanaka_case.id, world.suzuki_case.id])
    assert changes_update(cases, {"risk_level": "urgent"}) == 2
    for case in (world.tanaka_case, world.suzuki_case):
        [entry] = _entries("case", Action.UPDATE, case.id)
        assert entry.changes == {"risk_level": [case.risk_level, "urgent"]}
        assert entry.resident_id == case.resident_id


def test_a_bulk_insert_records_the_rows_it_inserted_only(world):
    now = timezone.now()

    def task(key):
        return Task(kind="disaster_check", assignee_organization=world.care_centre, due_at=now, dedupe_key=key,
                    resident=world.tanaka, created_at=now)

    first = changes_create(Task, [task("d:1")], key=("dedupe_key",), ignore_conflicts=True)
    again = changes_create(Task, [task("d:1"), task("d:2")], key=("dedupe_key",), ignore_conflicts=True)
    assert [t.dedupe_key for t in first] == ["d:1"] and [t.dedupe_key for t in again] == ["d:2"]
    for created in (first[0], again[0]):
        [entry] = _entries("task", Action.CREATE, created.pk)
        assert entry.resident_id == world.tanaka.id and entry.changes["kind"] == [None, "disaster_check"]
    with pytest.raises(ValueError):
        changes_create(Task, [task("d:3")], ignore_conflicts=True)  # which rows it inserted could not be told


def test_seed_rows_and_test_fixtures_are_written_without_entries(world):
    before = AccessLogEntry.objects.count()
    [case] = seed_create(Case, [Case(resident=world.tanaka, concern="seed", lead_organization=world.council)])
    fixture_update(Case.objects.filter(pk=case.pk), concern="seed 2")
    assert AccessLogEntry.objects.count() == before


def test_a_visit_moving_the_next_visit_due_writes_the_case_entry(world):
    case = world.tanaka_case
    services.visit_record(actor=world.users["care_worker"], case=case, client_id=uuid.uuid4(),
                          occurred_at=timezone.now() - datetime.timedelta(hours=1), channel="home_visit",
                          outcome="met")
    case.refresh_from_db()
    [entry] = _entries("case", Action.UPDATE, case.id)
    assert entry.changes["next_visit_due"][1] == case.next_visit_due.isoformat()


def test_closing_tasks_in_bulk_writes_an_entry_per_task(world):
    now = timezone.now()
    tasks = [Task.objects.create(kind="follow_up_visit", assignee_organization=world.care_centre, due_at=now,
                                 dedupe_key=f"t:{i}", case=world.tanaka_case, resident=world.tanaka)
             for i in range(2)]
    assert tasks_close(tasks=Q(case=world.tanaka_case), outcome="done") == 2
    for task in tasks:
        [entry] = _entries("task", Action.UPDATE, task.id)
        assert entry.changes["status"] == [TaskStatus.OPEN, TaskStatus.COMPLETED]
