"""A missed visit: an urgent safety check at once, escalated when nobody acknowledges it.

Commissioner Sato (commissioner_a) finds no answer and newspapers piling up at
Mr Tanaka's. Her phone records the visit at 10:05 and uploads it at 10:40. The
care centre on his case team gets an urgent safety-check task at once; nobody
acknowledges it by 11:40, so it escalates to the ward section; the care-centre
worker acknowledges at 11:50 and records the outcome. The clock is
time-machine's: nothing here sleeps.
"""

from __future__ import annotations

import datetime
import re
import uuid
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.core import mail
from django.utils import timezone

from cases.models import Resident, Task, TaskEscalation, Visit
from cases.services.escalations import escalations_fire_due
from notifications.delivery import outbox_deliver_due
from notifications.models import Notification, OutboxMessage
from tests.helpers import API, PERSONAS, fixture_update

TOKYO = ZoneInfo("Asia/Tokyo")


# The missed visit happens tomorrow (after every fixture's membership started), Tokyo time.
VISIT_DAY = datetime.date.today() + datetime.timedelta(days=1)


def at(hour: int, minute: int) -> datetime.datetime:
    return datetime.datetime.combine(VISIT_DAY, datetime.time(hour, minute), tzinfo=TOKYO)


def visit_body(world, occurred: datetime.datetime, **overrides) -> dict:
    return {"case": world.tanaka_case.id, "client_id": str(uuid.uuid4()), "occurred_at": occurred.isoformat(),
            "channel": "home_visit", "outcome": "no_answer", "warning_signs": ["newspapers_piling"],
            "note": "新聞が3日分溜まっている。", **overrides}


def listed(client, path) -> list[int]:
    response = client.get(path)
    assert response.status_code == 200, response.content
    return [item["id"] for item in response.json()["results"]]


def test_a_missed_visit_reaches_the_care_centre_at_once_and_escalates_after_an_hour(world, client_for):
    for name in ("care_worker", "care_supervisor", "ward_caseworker", "ward_supervisor"):
        world.users[name].email = f"{name}@example.jp"
        world.users[name].save(update_fields=["email"])
    with time_machine.travel(at(10, 40), tick=False) as clock:
        uploaded = client_for("commissioner_a").post(f"{API}/visits", visit_body(world, at(10, 5)), format="json")
        assert uploaded.status_code == 201, uploaded.content
        task = Task.objects.get(visit_id=uploaded.json()["id"])
        assert (task.kind, task.urgency, task.status) == ("safety_check", "urgent", "open")
        assert task.assignee_organization == world.care_centre and task.due_at == at(10, 40)
        care, section = client_for("care_worker"), client_for("ward_caseworker")
        assert listed(care, f"{API}/tasks/queue") == [task.id]
        assert listed(section, f"{API}/tasks/queue") == []
        assert section.get(f"{API}/tasks/{task.id}").status_code == 404

        fired = {}
        for hour, minute in ((11, 9), (11, 10), (11, 39), (11, 40), (11, 41), (11, 45)):
            clock.move_to(at(hour, minute))
            fired[(hour, minute)] = escalations_fire_due().done + escalations_fire_due().done  # run twice
        # 11:10 a reminder to the care centre; 11:40 the ward section. Each once.
        assert fired == {(11, 9): 0, (11, 10): 1, (11, 39): 0, (11, 40): 1, (11, 41): 0, (11, 45): 0}
        steps = list(TaskEscalation.objects.filter(task=task).order_by("level").values_list(
            "level", "target", "target_organization_id", "fired_at"))
        assert steps == [(1, "assignee", world.care_centre.id, at(11, 10)),
                         (2, "ward_section", world.ward_section.id, at(11, 40))]
        assert listed(section, f"{API}/tasks/queue") == [task.id]
        seen = section.get(f"{API}/tasks/{task.id}").json()
        assert seen["escalation_level"] == 2 and [e["level"] for e in seen["escalations"]] == [1, 2]

        clock.move_to(at(11, 50))
        acknowledged = care.post(f"{API}/tasks/{task.id}/acknowledge", format="json")
        assert acknowledged.status_code == 200, acknowledged.content
        assert acknowledged.json()["status"] == "acknowledged"
        assert acknowledged.json()["acknowledged_at"] == at(11, 50).isoformat()
        clock.move_to(at(14, 0))
        assert escalations_fire_due().done == 0
        done = care.post(f"{API}/tasks/{task.id}/complete", {"outcome": "居室内で転倒しているのを発見、救急要請。"},
                         format="json")
        assert done.status_code == 200 and done.json()["status"] == "completed"
        # The ward section may see the task (it was escalated to them) but not what was found.
        assert section.get(f"{API}/tasks/{task.id}").json()["outcome"] is None
        assert care.get(f"{API}/tasks/{task.id}").json()["outcome"].startswith("居室内")
        outbox_deliver_due()

    # Notifications and e-mails: ids and links only, never who or where.
    recipients = {m.recipient.username for m in OutboxMessage.objects.filter(event="task_escalated")}
    assert recipients == {"ward_caseworker", "ward_supervisor"}
    assert OutboxMessage.objects.filter(delivered_at__isnull=True).count() == 0
    texts = [f"{m.subject}\n{m.body}" for m in mail.outbox]
    texts += [f"{n.event} {n.link}" for n in Notification.objects.all()]
    assert len(mail.outbox) == OutboxMessage.objects.filter(channel="email").count() > 0
    for secret in _personal_data(world.tanaka):
        assert not any(secret in text for text in texts), secret
    # Each message is about the safety check, or about the review of what it opened once it closed.
    review = Task.objects.get(dedupe_key=f"task:{task.id}:review")
    assert all(re.search(rf"/api/v1/tasks/({task.id}|{review.id})\b", text) for text in texts)


def _personal_data(resident: Resident) -> list[str]:
    return [resident.name_kanji, resident.name_kana, resident.name_kanji.split()[0], resident.phone,
            resident.block_number, resident.town, "新聞"]


def test_a_visit_without_warning_signs_or_with_an_answer_opens_no_task(world, client_for):
    client = client_for("commissioner_a")
    now = timezone.now() - datetime.timedelta(minutes=5)
    client.post(f"{API}/visits", visit_body(world, now, warning_signs=[]), format="json")
    client.post(f"{API}/visits", visit_body(world, now, outcome="met"), format="json")
    assert Visit.objects.count() == 2 and not Task.objects.exists()


def test_a_retried_upload_opens_the_safety_check_once(world, client_for):
    client = client_for("commissioner_a")
    body = visit_body(world, timezone.now() - datetime.timedelta(minutes=5))
    assert [client.post(f"{API}/visits", body, format="json").status_code for _ in range(3)] == [201, 200, 200]
    assert Task.objects.filter(kind="safety_check").count() == 1


def test_do_not_contact_a_safety_check_goes_to_the_ward_section_to_coordinate(world, client_for):
    fixture_update(Resident.objects.filter(pk=world.tanaka.pk), do_not_contact=True)
    client_for("commissioner_a").post(f"{API}/visits", visit_body(world, timezone.now()), format="json")
    task = Task.objects.get()
    assert task.assignee_organization == world.ward_section and task.instruction_code == "do_not_contact"


def test_do_not_contact_a_requested_visit_is_refused_with_what_to_do_instead(world, client_for):
    fixture_update(Resident.objects.filter(pk=world.tanaka.pk), do_not_contact=True)
    body = {"case": world.tanaka_case.id, "kind": "follow_up_visit", "assignee_organization": world.care_centre.id,
            "due_at": (timezone.now() + datetime.timedelta(days=1)).isoformat()}
    response = client_for("care_worker", HTTP_ACCEPT_LANGUAGE="en").post(f"{API}/tasks", body, format="json")
    assert response.status_code == 409
    problem = response.json()
    assert problem["code"] == "do_not_contact" and "ward section" in problem["detail"]
    assert not Task.objects.exists()


@pytest.fixture
def requested(world, client_for):
    body = {"case": world.tanaka_case.id, "kind": "follow_up_visit", "assignee_organization": world.care_centre.id,
            "assignee_user": world.users["care_worker"].id, "urgency": "routine",
            "due_at": (timezone.now() + datetime.timedelta(days=2)).isoformat()}
    response = client_for("care_supervisor").post(f"{API}/tasks", body, format="json")
    assert response.status_code == 201, response.content
    return response.json()


@pytest.mark.parametrize("persona", PERSONAS)
def test_a_task_is_visible_to_its_assignee_and_its_organisation_only(world, client_for, requested, persona):
    client = client_for(persona)
    response = client.get(f"{API}/tasks/{requested['id']}")
    if persona == "expired_commissioner":
        assert response.status_code == 403
        return
    visible = persona in {"care_worker", "care_supervisor"}
    assert response.status_code == (200 if visible else 404), persona
    assert listed(client, f"{API}/tasks/mine") == ([requested["id"]] if persona == "care_worker" else [])
    assert listed(client, f"{API}/tasks/queue") == ([requested["id"]] if visible else [])
    ack = client.post(f"{API}/tasks/{requested['id']}/acknowledge", format="json")
    assert ack.status_code == (200 if visible else 404), persona


def test_acknowledge_complete_and_cancel_are_conditional(world, client_for, requested):
    care = client_for("care_worker")
    url = f"{API}/tasks/{requested['id']}"
    assert care.post(f"{url}/acknowledge", format="json").status_code == 200
    twice = care.post(f"{url}/acknowledge", format="json")
    assert (twice.status_code, twice.json()["code"]) == (409, "task_transition_invalid")
    blank = care.post(f"{url}/complete", {"outcome": "   "}, format="json")
    assert blank.status_code == 400
    assert care.post(f"{url}/complete", {"outcome": "訪問済み"}, format="json").status_code == 200
    late = care.post(f"{url}/cancel", {"reason": "重複"}, format="json")
    assert (late.status_code, late.json()["code"]) == (409, "task_transition_invalid")


@pytest.mark.parametrize("body", [{}, {"case": "x"}, {"case": 1, "kind": "renew_consent"}, [], "x", {"extra": 1},
                                  {"case": 2**70}])
def test_bad_task_requests_are_400_never_500(world, client_for, body):
    response = client_for("care_worker").post(f"{API}/tasks", body, format="json")
    assert response.status_code == 400, response.content
    assert response["Content-Type"] == "application/problem+json"


def test_tasks_are_assigned_to_the_case_team_only(world, client_for):
    body = {"case": world.tanaka_case.id, "kind": "safety_check", "assignee_organization": world.npo.id,
            "due_at": timezone.now().isoformat()}
    response = client_for("care_worker").post(f"{API}/tasks", body, format="json")
    assert (response.status_code, response.json()["code"]) == (400, "task_assignee_invalid")
    hidden = client_for("care_outsider").post(f"{API}/tasks", {**body, "assignee_organization": world.care_centre_2.id},
                                               format="json")
    assert hidden.status_code == 404


def test_a_referral_answer_task_closes_only_by_answering_the_referral(world, client_for):
    from tests.helpers import refer, referral_consent

    referral_consent(world)
    referral = refer(client_for("care_worker"), world).json()
    task = Task.objects.get(referral_id=referral["id"])
    section = client_for("ward_caseworker")
    response = section.post(f"{API}/tasks/{task.id}/complete", {"outcome": "見た"}, format="json")
    assert (response.status_code, response.json()["code"]) == (409, "task_answer_via_referral")
    section.post(f"{API}/referrals/{referral['id']}/reject", {"reason": "対象外"}, format="json")
    task.refresh_from_db()
    assert task.status == "completed" and task.next_escalation_at is None


def test_list_query_counts_do_not_grow_with_rows(world, client_for, django_assert_max_num_queries):
    from cases.services.tasks import task_open

    def add(n):
        for i in range(n):
            task_open(kind="follow_up_visit", organization=world.care_centre, user=world.users["care_worker"],
                      due_at=timezone.now(), dedupe_key=f"count:{n}:{i}", case=world.tanaka_case)

    care = client_for("care_worker")
    care.get(f"{API}/tasks/queue")  # warm the token's last-used write
    add(1)
    with django_assert_max_num_queries(12) as one:
        care.get(f"{API}/tasks/queue")
    add(10)
    with django_assert_max_num_queries(len(one.captured_queries)):
        assert len(listed(care, f"{API}/tasks/queue")) == 11
