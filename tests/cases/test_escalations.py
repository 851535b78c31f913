"""The sweeps: deadlines in the database, each step fired once, safe to re-run and to run concurrently."""

from __future__ import annotations

import datetime
import logging
import threading

import pytest
import time_machine
from django.contrib import admin
from django.db import connection
from django.utils import timezone

from cases import services
from cases.models import (
    Case,
    Consent,
    EscalationPolicy,
    Membership,
    Resident,
    Task,
    TaskEscalation,
)
from cases.models.choices import Role
from cases.models.consent import Decision, Grantor, Method
from cases.services.escalations import escalations_fire_due
from cases.services.tasks import task_open
from cases.services.visit_consent_sweeps import consents_expiring_open_tasks, visits_overdue_open_tasks
from notifications.models import OutboxMessage
from tests.factories import MembershipFactory, UserFactory
from tests.helpers import fixture_update


def test_default_policies_come_with_the_migration_and_are_editable_in_the_admin(db):
    kinds = set(EscalationPolicy.objects.values_list("task_kind", "organization_kind", "urgency"))
    assert kinds == {
        ("answer_referral", "", "emergency"), ("answer_referral", "", "urgent"), ("answer_referral", "", "routine"),
        ("follow_up_visit", "commissioner_council", ""), ("follow_up_visit", "", ""), ("safety_check", "", ""),
        ("partner_signal", "", ""),
        ("disaster_check", "", ""),
    }
    referral = EscalationPolicy.objects.get(task_kind="answer_referral", urgency="emergency")
    assert [s.target for s in referral.steps.order_by("position")] == ["assignee", "assignee_supervisors",
                                                                       "ward_section"]
    assert admin.site.is_registered(EscalationPolicy)


def test_the_admin_lists_and_opens_a_policy(world, admin_client):
    policy = EscalationPolicy.objects.get(task_kind="safety_check")
    assert admin_client.get("/admin/cases/escalationpolicy/").status_code == 200
    assert admin_client.get(f"/admin/cases/escalationpolicy/{policy.id}/change/").status_code == 200


def overdue(case, *, days: int) -> None:
    fixture_update(Case.objects.filter(pk=case.pk), next_visit_due=timezone.localdate() - datetime.timedelta(days=days))


def _due_tasks(world, n: int, *, hours_ago: int = 2) -> list[Task]:
    """n open urgent safety checks for the care centre, due long enough ago for both steps."""
    with time_machine.travel(timezone.now() - datetime.timedelta(hours=hours_ago), tick=False):
        return [task_open(kind="safety_check", organization=world.care_centre, urgency="urgent",
                          due_at=timezone.now(), dedupe_key=f"test:{i}", case=world.tanaka_case)[0]
                for i in range(n)]


def test_a_sweep_fires_each_due_step_once_however_often_it_runs(world):
    tasks = _due_tasks(world, 5)
    first = escalations_fire_due()
    second = escalations_fire_due()
    # Both steps (reminder at +30 min, ward section at +1 h) were due: one run fires both, in order.
    assert (first.done, second.done) == (10, 0)
    assert TaskEscalation.objects.count() == 10
    assert set(Task.objects.values_list("escalation_level", "next_escalation_at")) == {(2, None)}
    assert {t.id for t in tasks} == set(TaskEscalation.objects.filter(level=2).values_list("task_id", flat=True))


def test_the_sweep_works_in_batches_and_reports_when_its_budget_ran_out(world):
    _due_tasks(world, 7)
    result = escalations_fire_due(batch=3, time_budget=0)
    assert result.more is True and result.done == 3
    assert escalations_fire_due(batch=3).done == 11  # the rest of step 1, and every step 2
    assert TaskEscalation.objects.count() == 14


def _safety_check_due(world, *, minutes_ago: int) -> Task:
    with time_machine.travel(timezone.now() - datetime.timedelta(minutes=minutes_ago), tick=False):
        return task_open(kind="safety_check", organization=world.care_centre, urgency="urgent",
                         due_at=timezone.now(), dedupe_key="test:nobody", case=world.tanaka_case)[0]


def _told(task: Task) -> set[int]:
    return set(OutboxMessage.objects.filter(key__startswith=f"task:{task.id}:escalation:")
               .values_list("recipient_id", flat=True))


def test_a_step_that_reaches_nobody_escalates_on_at_once(world, caplog):
    """The care centre's staff have all left: its reminder (+30 min) reaches nobody, so the ward section
    (+1 h) is told at once, not half an hour later, and the log says so."""
    Membership.objects.filter(organization=world.care_centre).delete()
    task = _safety_check_due(world, minutes_ago=40)
    with caplog.at_level(logging.ERROR, logger="cases.escalations"):
        assert escalations_fire_due().done == 2
    reminder, ward = TaskEscalation.objects.filter(task=task).order_by("level")
    assert (reminder.target, reminder.target_organization, reminder.recipients) == ("assignee", world.care_centre, 0)
    assert (ward.target, ward.target_organization, ward.recipients) == ("ward_section", world.ward_section, 2)
    assert _told(task) == {world.users["ward_caseworker"].id, world.users["ward_supervisor"].id}
    assert "escalation reached nobody" in caplog.text and f"task {task.id} level 1" in caplog.text
    task.refresh_from_db()
    assert (task.escalation_level, task.next_escalation_at) == (2, None)
    assert escalations_fire_due().done == 0


def test_a_step_that_reaches_someone_keeps_its_time(world):
    task = _safety_check_due(world, minutes_ago=40)
    assert escalations_fire_due().done == 1
    task.refresh_from_db()
    assert task.escalation_level == 1 and task.next_escalation_at == task.due_at + datetime.timedelta(hours=1)
    assert _told(task) == {world.users["care_worker"].id, world.users["care_supervisor"].id}


def test_a_last_step_that_reaches_nobody_tells_the_ward_section(world):
    """A policy whose last step is the care centre's supervisors, who have all left."""
    policy = EscalationPolicy.objects.get(task_kind="safety_check")
    policy.steps.all().delete()
    policy.steps.create(position=1, after=datetime.timedelta(minutes=30), target="assignee_supervisors")
    Membership.objects.filter(organization=world.care_centre, role=Role.SUPERVISOR).delete()
    task = _safety_check_due(world, minutes_ago=40)
    assert escalations_fire_due().done == 1
    (only,) = TaskEscalation.objects.filter(task=task)
    assert (only.target, only.target_organization, only.recipients) == ("ward_section", world.ward_section, 2)
    assert _told(task) == {world.users["ward_caseworker"].id, world.users["ward_supervisor"].id}


def test_an_acknowledged_task_does_not_escalate(world):
    task = _due_tasks(world, 1)[0]
    services.task_acknowledge(actor=world.users["care_worker"], task_id=task.id)
    assert escalations_fire_due().done == 0


@pytest.mark.services  # SKIP LOCKED needs PostgreSQL: on SQLite the threads only find the table locked
@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_concurrent_sweeps_take_different_rows_and_fire_each_step_once(world):
    tasks = _due_tasks(world, 120)
    totals: list[int] = []
    barrier = threading.Barrier(4)

    def sweep():
        try:
            barrier.wait(timeout=10)
            totals.append(escalations_fire_due(batch=10).done)
        finally:
            connection.close()

    threads = [threading.Thread(target=sweep) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    escalations_fire_due()  # whatever a thread skipped because another held it
    assert TaskEscalation.objects.count() == 2 * len(tasks)
    assert TaskEscalation.objects.values("task_id", "level").distinct().count() == 2 * len(tasks)


def test_an_overdue_visit_opens_one_follow_up_task_and_the_visit_closes_it(world, client_for):
    overdue(world.tanaka_case, days=4)
    assert visits_overdue_open_tasks().done == 1
    assert visits_overdue_open_tasks().done == 0
    task = Task.objects.get(kind="follow_up_visit")
    assert (task.assignee_organization, task.assignee_user) == (world.care_centre, world.users["care_worker"])
    client_for("care_worker").post("/api/v1/visits", {
        "case": world.tanaka_case.id, "client_id": "6f1c9f5e-4c39-4f7d-9b0f-6c1a2f0e9a11",
        "occurred_at": timezone.now().isoformat(), "channel": "home_visit", "outcome": "met"}, format="json")
    task.refresh_from_db()
    assert task.status == "completed"


def test_within_the_grace_no_task_opens(world):
    overdue(world.tanaka_case, days=2)
    assert visits_overdue_open_tasks().done == 0


def test_a_commissioner_led_overdue_visit_escalates_to_the_council_chair(world):
    chair = UserFactory(username="council_chair")
    MembershipFactory(user=chair, organization=world.council, role=Role.SUPERVISOR)
    overdue(world.suzuki_case, days=5)
    visits_overdue_open_tasks()
    task = Task.objects.get(kind="follow_up_visit")
    assert task.assignee_user == world.users["commissioner_b"]
    with time_machine.travel(timezone.now() + datetime.timedelta(days=3, minutes=1), tick=False):
        assert escalations_fire_due().done == 2
    steps = TaskEscalation.objects.filter(task=task).order_by("level")
    assert [(s.target, s.target_organization_id, s.recipients) for s in steps] == [
        ("assignee", world.council.id, 1), ("council_chair", world.council.id, 1)]


def test_an_overdue_visit_to_a_do_not_contact_household_goes_to_the_ward_section(world):
    fixture_update(Resident.objects.filter(pk=world.tanaka.pk), do_not_contact=True)
    overdue(world.tanaka_case, days=9)
    visits_overdue_open_tasks()
    task = Task.objects.get()
    assert (task.assignee_organization, task.instruction_code) == (world.ward_section, "do_not_contact")


def test_a_consent_ending_within_30_days_opens_one_renewal_task(world):
    consent = Consent.objects.create(
        resident=world.tanaka, decision=Decision.GRANTED, grantor=Grantor.SELF, categories=["basic"],
        purposes=["watch_over"], valid_from=timezone.now() - datetime.timedelta(days=300),
        valid_until=timezone.now() + datetime.timedelta(days=20), method=Method.WRITTEN,
        taken_by=world.users["care_worker"], taken_by_organization=world.care_centre,
    )
    Consent.objects.create(  # ends in 40 days: not yet
        resident=world.tanaka, decision=Decision.GRANTED, grantor=Grantor.SELF, categories=["basic"],
        purposes=["watch_over"], valid_from=timezone.now(), valid_until=timezone.now() + datetime.timedelta(days=40),
        method=Method.WRITTEN, taken_by=world.users["care_worker"], taken_by_organization=world.care_centre,
    )
    assert consents_expiring_open_tasks().done == 1
    assert consents_expiring_open_tasks().done == 0
    task = Task.objects.get()
    assert (task.kind, task.consent_id, task.assignee_user, task.due_at) == (
        "renew_consent", consent.id, world.users["care_worker"], consent.valid_until)


def test_a_break_glass_grant_opens_a_review_task_due_the_next_day(world):
    grant = services.legal_basis_grant_request(
        actor=world.users["ward_supervisor"], resident_id=world.tanaka.id, basis="APPI27-1-2", categories=["basic"],
        justification="異臭の通報。同意を得ることが困難。", duration=datetime.timedelta(hours=72),
    )
    task = Task.objects.get(kind="review_grant")
    assert (task.legal_basis_grant_id, task.assignee_organization, task.due_at) == (
        grant.id, world.ward_section, grant.review_due_at)
    second = UserFactory(username="ward_supervisor_2")
    MembershipFactory(user=second, organization=world.ward_section, role=Role.SUPERVISOR)
    services.legal_basis_grant_review(actor=second, grant_id=grant.id, justified=True, note="妥当")
    task.refresh_from_db()
    assert task.status == "completed"


def test_other_legal_bases_wait_for_an_approver_and_are_reviewed_too(world):
    grant = services.legal_basis_grant_request(
        actor=world.users["ward_supervisor"], resident_id=world.tanaka.id, basis="APPI27-1-1", categories=["basic"],
        justification="法令に基づく照会への回答のため", duration=datetime.timedelta(days=3),
    )
    assert grant.status == "pending" and not Task.objects.exists()
    services.legal_basis_grant_approve(actor=world.users["privacy_officer"], grant_id=grant.id)
    grant.refresh_from_db()
    task = Task.objects.get(kind="review_grant")
    assert (grant.status, grant.approved_by, task.legal_basis_grant_id, task.due_at) == (
        "active", world.users["privacy_officer"], grant.id, grant.ends_at)
