"""A task's detail shows every escalation step its policy plans, before and after they fire.

An urgent safety check for the care centre (the default policy for safety checks: a reminder 30
minutes after it is due, the ward section after an hour). Before anything fires both steps are
pending at due + offset; after the first fires it shows whom it reached; once the task is
acknowledged the step that is left will not fire. The clock is time-machine's.
"""

from __future__ import annotations

import datetime
from zoneinfo import ZoneInfo

import time_machine

from cases.models import EscalationPolicy
from cases.services.escalations import escalations_fire_due
from tests.helpers import API

TOKYO = ZoneInfo("Asia/Tokyo")
DAY = datetime.date.today() + datetime.timedelta(days=1)  # after every fixture's membership started


def at(hour: int, minute: int) -> datetime.datetime:
    return datetime.datetime.combine(DAY, datetime.time(hour, minute), tzinfo=TOKYO)


def _plan(client, task_id: int) -> list[tuple]:
    body = client.get(f"{API}/tasks/{task_id}").json()
    return [(s["level"], s["target"], s["planned_at"], s["state"], s["fired_at"], s["recipients"],
             (s["target_organization"] or {}).get("id")) for s in body["escalation_plan"]]


def test_planned_steps_show_before_they_fire_and_after(world, client_for):
    policy = EscalationPolicy.objects.get(task_kind="safety_check", organization_kind="", urgency="")
    offsets = [step.after for step in policy.steps.order_by("position")]
    assert offsets == [datetime.timedelta(minutes=30), datetime.timedelta(hours=1)]
    care = client_for("care_worker")
    with time_machine.travel(at(10, 0), tick=False) as clock:
        created = care.post(f"{API}/tasks", {
            "case": world.tanaka_case.id, "kind": "safety_check", "assignee_organization": world.care_centre.id,
            "due_at": at(10, 30).isoformat(), "urgency": "urgent",
        }, format="json")
        assert created.status_code == 201, created.content
        task_id = created.json()["id"]
        assert [s["state"] for s in created.json()["escalation_plan"]] == ["pending", "pending"]
        assert _plan(care, task_id) == [
            (1, "assignee", at(11, 0).isoformat(), "pending", None, None, None),
            (2, "ward_section", at(11, 30).isoformat(), "pending", None, None, None),
        ]

        clock.move_to(at(11, 0))
        assert escalations_fire_due().done == 1
        assert _plan(care, task_id) == [
            (1, "assignee", at(11, 0).isoformat(), "fired", at(11, 0).isoformat(), 2, world.care_centre.id),
            (2, "ward_section", at(11, 30).isoformat(), "pending", None, None, None),
        ]

        clock.move_to(at(11, 10))
        assert care.post(f"{API}/tasks/{task_id}/acknowledge", format="json").status_code == 200
        assert [s[3] for s in _plan(care, task_id)] == ["fired", "not_needed"]
        clock.move_to(at(12, 0))
        assert escalations_fire_due().done == 0
        assert [s[3] for s in _plan(care, task_id)] == ["fired", "not_needed"]


def test_a_task_without_a_policy_plans_nothing(world, client_for):
    EscalationPolicy.objects.filter(task_kind="follow_up_visit").delete()
    care = client_for("care_worker")
    with time_machine.travel(at(9, 0), tick=False):
        created = care.post(f"{API}/tasks", {
            "case": world.tanaka_case.id, "kind": "follow_up_visit", "assignee_organization": world.care_centre.id,
            "due_at": at(17, 0).isoformat(),
        }, format="json")
    assert created.status_code == 201, created.content
    assert created.json()["escalation_plan"] == [] and created.json()["escalations"] == []
