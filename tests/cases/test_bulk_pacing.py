"""Backlog work on `bulk` runs one chunk per message, paced to the operator's share of the time; escalations
are never paced. Each dedupe key is one function for the SQL and the task written; task names are their
functions' names."""

from __future__ import annotations

import datetime
import importlib
import inspect
from unittest import mock

import pytest
from django.core.cache import cache
from django.core.exceptions import ImproperlyConfigured
from django.db.models import F
from django.test import override_settings
from django.utils import timezone

import api.tasks  # noqa: F401 (registers the tasks checked below)
import audit.tasks  # noqa: F401
import integrations.tasks
import notifications.tasks  # noqa: F401
import permissions.tasks  # noqa: F401
import service_directory.tasks  # noqa: F401
from backend.celery import app
from backend.settings import celery as celery_settings
from cases import tasks
from cases.models import Case, Consent, Task
from cases.models.consent import Decision, Grantor, Method
from cases.services.escalations import SweepResult
from cases.services.visit_consent_sweeps import (
    consent_renewal_key,
    consents_expiring_open_tasks,
    visit_overdue_key,
    visits_overdue_open_tasks,
)
from notifications.models import Channel, OutboxMessage
from permissions.actors import members_of
from tests.factories import CaseFactory, ResidentFactory
from tests.helpers import fixture_update

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _no_chains():
    cache.clear()
    yield
    cache.clear()


def _overdue_cases(world, n: int) -> list[Case]:
    cases = []
    for _ in range(n):
        resident = ResidentFactory(district=world.district_a, registered_by=world.care_centre)
        cases.append(CaseFactory(resident=resident, lead_organization=world.care_centre, team=[world.care_centre]))
    fixture_update(Case.objects.filter(pk__in=[c.pk for c in cases]),
                   next_visit_due=timezone.localdate() - datetime.timedelta(days=10))
    return cases


# --- One key function for both paths ----------------------------------------------------------------

def test_the_visit_key_is_the_same_in_sql_and_in_python(world):
    case = Case.objects.annotate(key=visit_overdue_key(F("id"), F("next_visit_due"))).get(pk=world.tanaka_case.pk)
    assert case.key == visit_overdue_key(case.id, case.next_visit_due)
    assert case.key == f"visit_overdue:{case.id}:{case.next_visit_due.isoformat()}"


def test_the_consent_key_is_the_same_in_sql_and_in_python(world):
    consent = Consent.objects.create(
        resident=world.tanaka, decision=Decision.GRANTED, grantor=Grantor.SELF, categories=["basic"],
        purposes=["watch_over"], valid_from=timezone.now(), valid_until=timezone.now() + datetime.timedelta(days=9),
        method=Method.WRITTEN, taken_by=world.users["care_worker"], taken_by_organization=world.care_centre)
    row = Consent.objects.annotate(key=consent_renewal_key(F("id"))).get(pk=consent.pk)
    assert row.key == consent_renewal_key(consent.id) == f"consent:{consent.id}:renew"


# --- Paced chunks ----------------------------------------------------------------------------------

@override_settings(BULK_CHUNK_ROWS=2, BULK_WORK_PERCENT=5)
def test_an_overdue_backlog_opens_one_chunk_per_message_and_waits_for_the_share(world):
    _overdue_cases(world, 3)  # and Mr Tanaka's and Ms Suzuki's cases, not overdue
    clock = mock.Mock(monotonic=mock.Mock(side_effect=[100.0, 100.5]))  # the chunk took half a second
    with mock.patch.object(tasks, "time", clock), \
            mock.patch.object(tasks.visits_overdue_sweep, "apply_async") as enqueue:
        assert tasks.visits_overdue_sweep() == 2
    assert Task.objects.filter(kind="follow_up_visit").count() == 2
    enqueue.assert_called_once_with(args=[], kwargs={"continued": True}, queue="bulk", countdown=pytest.approx(9.5))

    with mock.patch.object(tasks.visits_overdue_sweep, "apply_async") as beat_again:
        assert tasks.visits_overdue_sweep() == 0  # beat while the chain waits: left to the chain
    assert Task.objects.filter(kind="follow_up_visit").count() == 2 and not beat_again.called

    with mock.patch.object(tasks.visits_overdue_sweep, "apply_async") as enqueue:
        assert tasks.visits_overdue_sweep(continued=True) == 1
        assert tasks.visits_overdue_sweep(continued=True) == 0  # found nothing: the chain ends
    assert enqueue.call_count == 1
    assert Task.objects.filter(kind="follow_up_visit").count() == 3
    assert cache.get(tasks._chain_key(tasks.visits_overdue_sweep, ())) is None
    with mock.patch.object(tasks.visits_overdue_sweep, "apply_async") as enqueue:
        assert tasks.visits_overdue_sweep() == 0  # the next beat starts afresh and finds nothing twice
    assert not enqueue.called


# --- What a chunk sets off ------------------------------------------------------------------------

def _told(tasks_opened) -> set[tuple[int, int]]:
    return set(OutboxMessage.objects.filter(event="task_assigned", channel=Channel.IN_APP,
                                            subject_id__in=[t.id for t in tasks_opened])
               .values_list("subject_id", "recipient_id"))


def test_a_chunk_of_overdue_visits_tells_every_assignee_in_one_delivery(world, django_capture_on_commit_callbacks):
    """The deliveries are not paced: one message per task cost the worker as much as the paced chunk."""
    _overdue_cases(world, 3)  # no lead worker: the care centre's queue is told
    with mock.patch("notifications.outbox.enqueue_delivery") as enqueue, \
            django_capture_on_commit_callbacks(execute=True):
        assert visits_overdue_open_tasks(batch=10, time_budget=0).done == 3
    opened = list(Task.objects.filter(kind="follow_up_visit"))
    readers = members_of(world.care_centre)
    assert len(opened) == 3 and readers
    assert _told(opened) == {(task.id, user.id) for task in opened for user in readers}
    assert enqueue.call_count == 1
    assert sorted(enqueue.call_args.args[0]) == sorted(OutboxMessage.objects.values_list("id", flat=True))


def test_a_chunk_of_ending_consents_tells_every_assignee_in_one_delivery(world, django_capture_on_commit_callbacks):
    for days in (9, 12):
        Consent.objects.create(
            resident=world.tanaka, decision=Decision.GRANTED, grantor=Grantor.SELF, categories=["basic"],
            purposes=["watch_over"], valid_from=timezone.now(),
            valid_until=timezone.now() + datetime.timedelta(days=days), method=Method.WRITTEN,
            taken_by=world.users["care_worker"], taken_by_organization=world.care_centre)
    with mock.patch("notifications.outbox.enqueue_delivery") as enqueue, \
            django_capture_on_commit_callbacks(execute=True):
        assert consents_expiring_open_tasks(batch=10, time_budget=0).done == 2
    opened = list(Task.objects.filter(kind="renew_consent"))
    assert _told(opened) == {(task.id, world.users["care_worker"].id) for task in opened}
    assert enqueue.call_count == 1


@override_settings(BULK_WORK_PERCENT=1, BULK_PAUSE_MAX_SECONDS=90)
def test_a_pause_never_outlasts_the_visibility_timeout():
    clock = mock.Mock(monotonic=mock.Mock(side_effect=[0.0, 30.0]))  # a slow chunk: 1 % would ask for 2,970 s
    with mock.patch.object(tasks, "time", clock):
        task = mock.Mock(name="task")
        task.name = "t"
        tasks.paced(task, lambda: SweepResult(done=1, more=True), percent=1)
    assert task.apply_async.call_args.kwargs["countdown"] == 90
    assert celery_settings.BULK_PAUSE_MAX_SECONDS + 60 < celery_settings.VISIBILITY_TIMEOUT


def test_a_lost_next_message_is_taken_up_again_by_beat_and_a_failing_chunk_ends_the_chain():
    task = mock.Mock(name="task")
    task.name = "t"
    task.apply_async.side_effect = ConnectionError("broker down")
    assert tasks.paced(task, lambda: SweepResult(done=3, more=True), percent=5) == 3
    assert tasks.paced(task, lambda: SweepResult(done=1, more=False), percent=5) == 1  # not left to a lost chain

    def failing():
        raise RuntimeError("database gone")

    with pytest.raises(RuntimeError):
        tasks.paced(task, failing, percent=5)
    assert tasks.paced(task, lambda: SweepResult(done=1, more=False), percent=5) == 1


def test_one_chain_per_disaster_event(world):
    with mock.patch.object(tasks.disaster, "disaster_campaign_step", return_value=True) as step, \
            mock.patch.object(tasks.disaster_campaign, "apply_async") as enqueue:
        assert tasks.disaster_campaign(7) == 1
        assert tasks.disaster_campaign(8) == 1  # another event: its own chain
        assert tasks.disaster_campaign(7) == 0  # the sweep's enqueue while event 7's chain waits
    assert [c.kwargs["event_id"] for c in step.call_args_list] == [7, 8]
    assert [c.kwargs["args"] for c in enqueue.call_args_list] == [[7], [8]]


@override_settings(BULK_CHUNK_ROWS=10)
def test_escalations_are_never_paced(world):
    with mock.patch.object(tasks, "paced") as pacing, \
            mock.patch.object(tasks, "escalations_fire_due", return_value=SweepResult(done=4, more=False)):
        assert tasks.escalations_sweep() == 4
    assert not pacing.called
    beat = app.conf.beat_schedule
    assert beat["escalations-sweep"]["options"]["queue"] == "urgent" and beat["escalations-sweep"]["schedule"] <= 30
    for name in ("visits-overdue-sweep", "consents-expiring-sweep", "disaster-campaigns-sweep", "webhooks-sweep"):
        assert beat[name]["options"]["queue"] == "bulk", name


@override_settings(BULK_WORK_PERCENT=5, WEBHOOKS_SWEEP_SECONDS=10.0)
def test_the_webhooks_backlog_sends_for_the_share_of_its_interval():
    assert integrations.tasks.sweep_budget_seconds() == pytest.approx(0.5)
    with override_settings(BULK_WORK_PERCENT=100):
        assert integrations.tasks.sweep_budget_seconds() == integrations.tasks.delivery.BUDGET_SECONDS


@pytest.mark.parametrize("value", ["0", "101", "five"])
def test_the_share_is_read_strictly(monkeypatch, value):
    monkeypatch.setenv("BULK_WORK_PERCENT", value)
    try:
        with pytest.raises(ImproperlyConfigured):
            importlib.reload(celery_settings)
    finally:
        monkeypatch.delenv("BULK_WORK_PERCENT")
        importlib.reload(celery_settings)


# --- Names ----------------------------------------------------------------------------------------

def test_every_task_is_named_for_its_function():
    ours = {name: task for name, task in app.tasks.items() if not name.startswith("celery.")}
    assert len(ours) >= 15
    for name, task in ours.items():
        function = inspect.unwrap(task.run)
        assert name == f"{function.__module__}.{function.__name__}", name


def test_every_beat_entry_names_a_registered_task():
    for entry, spec in app.conf.beat_schedule.items():
        assert spec["task"] in app.tasks, entry
