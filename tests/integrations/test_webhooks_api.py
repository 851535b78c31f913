"""The webhook endpoints' routes (org admins only) and the event feed (an API client or an org admin)."""

from __future__ import annotations

import datetime

import pytest
from django.test import override_settings
from django.utils import timezone

from integrations.delivery import endpoints_deliver
from integrations.events import NewEvent, events_record
from integrations.models import EndpointStatus, WebhookDelivery, WebhookEndpoint
from tests.helpers import API, PERSONAS, machine
from tests.integrations.receiver import Receiver

HOOKS = f"{API}/integrations/webhooks"
LOOPBACK = override_settings(WEBHOOK_ALLOWED_HOSTS=["127.0.0.1"])


def events(world, organization, count, *, start=0):
    return events_record(events=[NewEvent(organization.id, f"api:{organization.id}:{start + n}", "task.assigned",
                                          "task", 500 + start + n) for n in range(count)])


def register(admin, url="https://hooks.example.jp/mimamori", types=("task.assigned",)):
    answer = admin.post(HOOKS, {"url": url, "event_types": list(types)}, format="json")
    assert answer.status_code == 201, answer.content
    return answer.json()


def test_an_org_admin_registers_an_endpoint_and_sees_the_secret_once(world, admin_for):
    admin = admin_for("care_centre")
    created = admin.post(HOOKS, {"url": "https://hooks.example.jp/x", "event_types": ["task.assigned"]},
                         format="json", HTTP_IDEMPOTENCY_KEY="hook-1")
    again = admin.post(HOOKS, {"url": "https://hooks.example.jp/x", "event_types": ["task.assigned"]},
                       format="json", HTTP_IDEMPOTENCY_KEY="hook-1")
    assert created.status_code == 201 and created.json()["secret"].startswith("whsec_")
    assert (again.status_code, again["Idempotent-Replayed"]) == (201, "true") and "secret" not in again.json()
    assert WebhookEndpoint.objects.count() == 1
    listed = admin.get(HOOKS).json()["results"]
    assert [h["id"] for h in listed] == [created.json()["id"]] and "secret" not in listed[0]
    rotated = admin.post(f"{HOOKS}/{created.json()['id']}/rotate-secret", {"overlap_hours": 1}, format="json")
    assert rotated.status_code == 201 and rotated.json()["secret"] != created.json()["secret"]
    assert rotated.json()["rotating_until"]


@pytest.mark.parametrize("body", [
    {"url": "http://hooks.example.jp/x", "event_types": ["task.assigned"]},
    {"url": "https://hooks.example.jp/x", "event_types": ["heartbeat"]},
    {"url": "https://hooks.example.jp/x", "event_types": []},
    {"url": "not a url", "event_types": ["task.assigned"]},
])
def test_a_bad_endpoint_is_400(world, admin_for, body):
    answer = admin_for("care_centre").post(HOOKS, body, format="json")
    assert answer.status_code == 400 and answer["Content-Type"] == "application/problem+json"


@pytest.mark.parametrize("persona", PERSONAS)
def test_nobody_but_the_org_admin_manages_endpoints_or_reads_the_feed(persona, world, admin_for, client_for):
    hook = register(admin_for("care_centre"))
    other = client_for(persona)
    if persona == "expired_commissioner":
        assert other.get(f"{API}/events").json()["code"] == "no_active_membership"
        return
    assert other.post(HOOKS, {"url": "https://h.example.jp/", "event_types": ["task.assigned"]},
                      format="json").json()["code"] == "org_admin_required"
    assert other.get(HOOKS).json()["results"] == []
    for verb in ("pause", "resume", "rotate-secret"):
        assert other.post(f"{HOOKS}/{hook['id']}/{verb}", {}, format="json").status_code == 404
    assert other.get(f"{HOOKS}/{hook['id']}/deliveries").status_code == 404
    assert other.get(f"{API}/events").json()["code"] == "org_admin_required"


def test_another_organisations_admin_finds_no_such_endpoint(world, admin_for):
    hook = register(admin_for("care_centre"))
    npo_admin = admin_for("npo")
    assert npo_admin.get(f"{HOOKS}/{hook['id']}").status_code == 404
    assert npo_admin.post(f"{HOOKS}/{hook['id']}/replay", {"delivery": 1}, format="json").status_code == 404


def test_pause_resume_replay_and_the_delivery_log(world, admin_for):
    receiver = Receiver().start()
    try:
        admin = admin_for("care_centre")
        with LOOPBACK:
            hook = register(admin, url=receiver.url("/a"))
        receiver.secrets["/a"] = [hook["secret"]]
        assert admin.post(f"{HOOKS}/{hook['id']}/pause", {}, format="json").json()["status"] == "paused"
        events(world, world.care_centre, 2)
        with LOOPBACK:
            endpoints_deliver(endpoint_ids=[hook["id"]])
        assert receiver.received == []
        assert admin.post(f"{HOOKS}/{hook['id']}/resume", {}, format="json").json()["status"] == "active"
        with LOOPBACK:
            endpoints_deliver(endpoint_ids=[hook["id"]])
        assert len(receiver.received) == 2
        log = admin.get(f"{HOOKS}/{hook['id']}/deliveries").json()["results"]
        assert [d["sequence"] for d in log] == [2, 1]
        assert all(d["attempt_log"][0]["status"] == 200 and d["delivered_at"] for d in log)
        now = timezone.now()
        replay = admin.post(f"{HOOKS}/{hook['id']}/replay", {
            "since": (now - datetime.timedelta(hours=1)).isoformat(), "until": now.isoformat()}, format="json")
        assert replay.json()["replayed"] == 2
        one = admin.post(f"{HOOKS}/{hook['id']}/replay", {"delivery": log[0]["id"]}, format="json")
        assert one.json()["replayed"] == 1
        assert admin.post(f"{HOOKS}/{hook['id']}/replay", {"delivery": 1, "since": now.isoformat()},
                          format="json").status_code == 400
        assert admin.post(f"{HOOKS}/{hook['id']}/replay", {"since": now.isoformat(), "until": now.isoformat()},
                          format="json").json()["code"] == "webhook_replay_range_invalid"
        with LOOPBACK:
            endpoints_deliver(endpoint_ids=[hook["id"]])
        assert len(receiver.received) == 4
        assert WebhookDelivery.objects.filter(delivered_at__isnull=True).count() == 0
        assert WebhookEndpoint.objects.get().status == EndpointStatus.ACTIVE
    finally:
        receiver.stop()


def test_the_feed_is_gap_free_per_organisation_and_continues_after_a_sequence(world, admin_for):
    admin = admin_for("care_centre")
    key = admin.post(f"{API}/integrations/clients", {"name": "feed", "scopes": ["events.read"],
                                                     "purposes": ["watch_over"]}, format="json").json()["key"]
    feed = machine(key)
    empty = feed.get(f"{API}/events").json()
    assert empty["results"] == [] and empty["heartbeat"]["last_sequence"] == 0 and empty["heartbeat"]["timestamp"]
    events(world, world.care_centre, 5)
    events(world, world.care_centre_2, 3)  # another organisation's: not in this feed, not in its numbering
    page = feed.get(f"{API}/events", {"after": 0, "limit": 3}).json()
    assert [e["sequence"] for e in page["results"]] == [1, 2, 3] and page["next_after"] == 3
    rest = feed.get(f"{API}/events", {"after": page["next_after"]}).json()
    assert [e["sequence"] for e in rest["results"]] == [4, 5] and rest["heartbeat"]["last_sequence"] == 5
    assert {e["type"] for e in rest["results"]} == {"task.assigned"}
    assert set(rest["results"][0]) == {"id", "type", "sequence", "timestamp", "subject_type", "subject_id"}
    caught_up = feed.get(f"{API}/events", {"after": 5}).json()
    assert caught_up["results"] == [] and caught_up["next_after"] == 5
    # The org admin reads the same feed; a client without the scope may not.
    assert [e["sequence"] for e in admin.get(f"{API}/events").json()["results"]] == [1, 2, 3, 4, 5]
    other = admin.post(f"{API}/integrations/clients", {"name": "x", "scopes": ["tasks.read"],
                                                       "purposes": ["watch_over"]}, format="json").json()["key"]
    assert machine(other).get(f"{API}/events").json()["code"] == "client_scope_denied"
    for bad in ({"after": -1}, {"after": "x"}, {"limit": 500}, {"unknown": 1}):
        assert feed.get(f"{API}/events", bad).status_code == 400, bad
