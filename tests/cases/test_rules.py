"""A rule written once answers the filter and the field of one row alike (cases/models/rules.py)."""

from __future__ import annotations

import datetime

import pytest
from django.utils import timezone

from api.filters import OverdueFilter
from cases.models import Case, Referral, Task
from cases.models.referrals import ReferralStatus
from cases.models.rules import lookups_hold
from cases.models.tasks import TaskStatus
from cases.selectors import visit_overdue

pytestmark = pytest.mark.django_db

NOW = timezone.now()
HOUR = datetime.timedelta(hours=1)


def _agree(queryset, overdue_ids: set[int], now) -> None:
    assert {row.id for row in queryset.overdue(now=now)} == overdue_ids
    assert {row.id for row in queryset if row.is_overdue(now=now)} == overdue_ids
    assert {row.id for row in queryset.not_overdue(now=now)} == {row.id for row in queryset} - overdue_ids


def test_a_task_is_overdue_while_open_past_its_due_time(world):
    def task(key, status, due_at):
        return Task.objects.create(kind="safety_check", status=status, assignee_organization=world.care_centre,
                                   due_at=due_at, dedupe_key=key).id

    late = task("late", TaskStatus.OPEN, NOW - HOUR)
    task("due-now", TaskStatus.OPEN, NOW)
    task("later", TaskStatus.OPEN, NOW + HOUR)
    task("taken-on", TaskStatus.ACKNOWLEDGED, NOW - HOUR)
    task("done", TaskStatus.COMPLETED, NOW - HOUR)
    _agree(Task.objects.all(), {late}, NOW)


def test_a_referral_is_overdue_while_requested_past_its_deadline(world):
    def referral(status, due_at):
        return Referral.objects.create(
            case=world.tanaka_case, sender_organization=world.council, sender_user=world.users["commissioner_a"],
            receiver_organization=world.care_centre, reason="見守り", categories=["basic"], status=status,
            response_due_at=due_at).id

    late = referral(ReferralStatus.REQUESTED, NOW - HOUR)
    referral(ReferralStatus.REQUESTED, NOW + HOUR)
    referral(ReferralStatus.REQUESTED, None)
    referral(ReferralStatus.ACCEPTED, NOW - HOUR)
    referral(ReferralStatus.DRAFT, NOW - HOUR)
    _agree(Referral.objects.all(), {late}, NOW)


def test_a_case_visit_is_overdue_once_its_day_has_passed(world):
    today = timezone.localdate()
    world.tanaka_case.next_visit_due = today - datetime.timedelta(days=1)
    world.tanaka_case.save()
    world.suzuki_case.next_visit_due = today
    world.suzuki_case.save()
    undue = Case.objects.create(resident=world.suzuki, concern="見守り", lead_organization=world.council,
                                next_visit_due=None)
    cases = Case.objects.filter(id__in=[world.tanaka_case.id, world.suzuki_case.id, undue.id])
    assert {c.id for c in cases.visit_overdue(today=today)} == {world.tanaka_case.id}
    assert {c.id for c in cases.visit_not_overdue(today=today)} == {world.suzuki_case.id, undue.id}
    assert {c.id for c in cases if visit_overdue(next_visit_due=c.next_visit_due, today=today)} == {
        world.tanaka_case.id}
    # Without a clock (a serializer given no `today`) nothing is overdue, as before.
    assert visit_overdue(next_visit_due=today - datetime.timedelta(days=1), today=None) is False


def test_a_task_is_urgent_above_routine_or_as_a_safety_check():
    assert Task(kind="safety_check", urgency="routine").is_urgent()
    assert Task(kind="follow_up_visit", urgency="urgent").is_urgent()
    assert not Task(kind="follow_up_visit", urgency="routine").is_urgent()


def test_lookups_hold_reads_nulls_as_the_database_does():
    assert lookups_hold({"a": 1, "b": 2}, {"a": 1, "b__lt": 3})
    assert not lookups_hold({"a": 1, "b": None}, {"a": 1, "b__lt": 3})
    assert not lookups_hold({"b": 1}, {"b__lt": None})
    with pytest.raises(ValueError):
        lookups_hold({"b": 1}, {"b__gte": 0})


def test_the_list_filter_reads_the_same_rule(world):
    late = Task.objects.create(kind="safety_check", assignee_organization=world.care_centre, due_at=NOW - HOUR,
                               dedupe_key="late").id
    later = Task.objects.create(kind="safety_check", assignee_organization=world.care_centre, due_at=NOW + HOUR,
                                dedupe_key="later").id
    tasks = Task.objects.all()
    assert {t.id for t in OverdueFilter().filter(tasks, True)} == {late}
    assert {t.id for t in OverdueFilter().filter(tasks, False)} == {later}
    assert {t.id for t in OverdueFilter().filter(tasks, None)} == {late, later}
