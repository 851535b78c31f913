"""Webhooks, sent by the delivery code to a real receiver on loopback that verifies every signature with
the Standard Webhooks library: thin payloads, order and exactly-once per endpoint across a day of downtime,
back-off per endpoint, 410 and days of failure disable (the org admin is told), SSRF refused, and no
personal data in any body, header or log row."""

from __future__ import annotations

import datetime
import json

import pytest
import time_machine
from django.test import override_settings
from django.utils import timezone

from cases import services
from integrations.delivery import endpoints_deliver, webhooks_deliver_due
from integrations.models import EndpointStatus, Event, WebhookAttempt, WebhookDelivery, WebhookEndpoint
from integrations.webhooks import webhook_register, webhook_replay, webhook_rotate_secret
from notifications.models import OutboxMessage
from tests.helpers import LOOPBACK, deliver, endpoint, events, referral_consent


def sweep():
    with LOOPBACK:
        return webhooks_deliver_due()


def test_a_referral_received_is_a_thin_signed_event_for_the_receiving_organisation(world, admin, receiver):
    hook = endpoint(admin, receiver, "/a")
    referral_consent(world, recipient=world.care_centre_2)
    referral = services.referral_create(
        actor=world.users["care_worker"], case=world.tanaka_case, receiver_organization=world.care_centre_2,
        reason="専門職による評価をお願いします", categories=["basic", "health"])
    event = Event.objects.get(organization=world.care_centre_2)
    assert (event.type, event.subject_type, event.subject_id, event.sequence) == (
        "referral.received", "referral", referral.id, 1)
    assert deliver().delivered == 1
    (got,) = receiver.received
    assert got.webhook_id == event.webhook_id == got.body["id"]
    assert got.body == {"id": event.webhook_id, "type": "referral.received", "organization": world.care_centre_2.id,
                        "sequence": 1, "timestamp": event.occurred_at.isoformat(),
                        "data": {"subject_type": "referral", "subject_id": referral.id,
                                 "link": f"/api/v1/referrals/{referral.id}"}}
    assert receiver.rejected == 0
    assert WebhookDelivery.objects.get(endpoint=hook).delivered_at is not None
    # The sender's organisation is not subscribed here: its event exists (the feed), no delivery of ours.
    assert not Event.objects.filter(organization=world.care_centre).exists()


def test_an_event_written_by_a_change_that_rolls_back_leaves_no_event_and_no_gap(world, admin, receiver):
    from django.db import transaction

    endpoint(admin, receiver, "/a")
    events(world, 1)
    with pytest.raises(RuntimeError), transaction.atomic():
        events(world, 2, start=10)
        raise RuntimeError("the change failed")
    events(world, 1, start=20)
    assert list(Event.objects.order_by("sequence").values_list("sequence", "key")) == [(1, "test:0"), (2, "test:20")]


def test_down_for_a_day_then_each_event_arrives_once_in_order(world, admin, receiver):
    endpoint(admin, receiver, "/a")
    start = timezone.now()
    with time_machine.travel(start, tick=False) as clock:
        port = receiver.stop()  # the receiver is down: connections are refused
        events(world, 5)
        for _ in range(24 * 6):  # a day, every 10 minutes: the sweep tries what is due
            sweep()
            clock.shift(datetime.timedelta(minutes=10))
            events(world, 0)
        events(world, 3, start=5)
        attempts = WebhookAttempt.objects.count()
        assert 10 < attempts < 80  # backed off (30 s doubling to 1 h), not once a minute
        assert not WebhookAttempt.objects.filter(status__isnull=False).exists()
        assert WebhookEndpoint.objects.get().status == EndpointStatus.ACTIVE  # a day is not days
        receiver.start(port)
        clock.shift(datetime.timedelta(hours=1))
        while sweep().delivered:
            pass
    ids = receiver.ids("/a")
    assert ids == [f"evt_{world.care_centre_2.id}_{n}" for n in range(1, 9)]
    assert receiver.rejected == 0
    assert not WebhookDelivery.objects.filter(delivered_at__isnull=True).exists()


def test_one_endpoint_answering_500_does_not_delay_another(world, admin, receiver, capsys):
    endpoint(admin, receiver, "/failing")
    endpoint(admin, receiver, "/healthy")
    receiver.statuses["/failing"] = 500
    events(world, 50)
    started = timezone.now()
    report = deliver(budget=30)
    latency = timezone.now() - started
    assert receiver.ids("/healthy") == [f"evt_{world.care_centre_2.id}_{n}" for n in range(1, 51)]
    assert report.failed == 1  # one attempt to the failing endpoint, then it backs off alone
    failing = WebhookEndpoint.objects.get(url__endswith="/failing")
    assert failing.next_attempt_at > timezone.now() and failing.consecutive_failures == 1
    assert WebhookDelivery.objects.filter(endpoint=failing, delivered_at__isnull=True).count() == 50
    with capsys.disabled():
        print(f"\nhealthy endpoint beside one answering 500: 50 deliveries in {latency.total_seconds() * 1000:.0f} ms")


def test_410_disables_at_once_and_the_org_admin_is_told(world, admin, receiver):
    hook = endpoint(admin, receiver, "/gone")
    receiver.statuses["/gone"] = 410
    events(world, 3)
    deliver()
    hook.refresh_from_db()
    assert (hook.status, hook.disabled_reason) == (EndpointStatus.DISABLED, "gone")
    assert WebhookAttempt.objects.count() == 1
    told = OutboxMessage.objects.filter(recipient=admin, event="webhook_disabled", subject_id=hook.id)
    assert told.exists() and all(m.link == f"/api/v1/integrations/webhooks/{hook.id}" for m in told)
    events(world, 1, start=3)  # a disabled endpoint gets no new deliveries
    assert WebhookDelivery.objects.filter(endpoint=hook).count() == 3


def test_failing_for_days_disables_and_the_org_admin_is_told(world, admin, receiver):
    hook = endpoint(admin, receiver, "/down")
    receiver.statuses["/down"] = 503
    start = timezone.now()
    with time_machine.travel(start, tick=False) as clock:
        events(world, 1)
        for _ in range(4 * 24):
            sweep()
            clock.shift(datetime.timedelta(hours=1))
    hook.refresh_from_db()
    assert (hook.status, hook.disabled_reason) == (EndpointStatus.DISABLED, "failing")
    assert OutboxMessage.objects.filter(recipient=admin, event="webhook_disabled").exists()
    assert WebhookAttempt.objects.count() <= 4 * 24


def test_replay_of_one_delivery_and_of_a_time_range(world, admin, receiver):
    hook = endpoint(admin, receiver, "/a")
    events(world, 3)
    deliver()
    first = WebhookDelivery.objects.filter(endpoint=hook).order_by("sequence").first()
    assert webhook_replay(actor=admin, endpoint_id=hook.id, delivery_id=first.id) == 1
    deliver()
    assert receiver.ids("/a")[-1] == f"evt_{world.care_centre_2.id}_1"  # the same webhook-id again
    now = timezone.now()
    assert webhook_replay(actor=admin, endpoint_id=hook.id, since=now - datetime.timedelta(hours=1),
                          until=now + datetime.timedelta(seconds=1)) == 3
    deliver()
    assert len(receiver.ids("/a")) == 3 + 1 + 3


def test_pause_then_resume_sends_what_waited_in_order(world, admin, receiver):
    from integrations.webhooks import webhook_pause, webhook_resume

    hook = endpoint(admin, receiver, "/a")
    webhook_pause(actor=admin, endpoint_id=hook.id)
    events(world, 4)
    assert deliver().delivered == 0 and receiver.received == []
    webhook_resume(actor=admin, endpoint_id=hook.id)
    deliver()
    assert receiver.ids("/a") == [f"evt_{world.care_centre_2.id}_{n}" for n in range(1, 5)]


def test_after_a_secret_rotation_both_secrets_verify(world, admin, receiver):
    hook = endpoint(admin, receiver, "/a")
    old = hook.secret
    rotated = webhook_rotate_secret(actor=admin, endpoint_id=hook.id, overlap_hours=1)
    receiver.secrets["/a"] = [old]  # a receiver not yet switched
    events(world, 1)
    deliver()
    receiver.secrets["/a"] = [rotated.secret]  # and one that switched
    events(world, 1, start=1)
    deliver()
    assert len(receiver.ids("/a")) == 2 and receiver.rejected == 0
    assert len(receiver.received[0].headers["webhook-signature"].split(" ")) == 2


@pytest.mark.parametrize("url", ["http://127.0.0.1:9/x", "https://127.0.0.1/x", "https://10.0.0.8/x",
                                 "https://169.254.169.254/latest", "https://[::1]/x", "ftp://example.jp/x",
                                 "https://user:pw@example.jp/x"])
def test_private_loopback_and_link_local_targets_are_refused(world, admin, url):
    from cases.errors import RuleViolation
    from integrations.targets import TargetRefused, target_resolve

    with pytest.raises(TargetRefused):
        target_resolve(url)
    if url.startswith("http://"):
        with pytest.raises(RuleViolation):
            webhook_register(actor=admin, url=url, event_types=["task.assigned"])


def test_a_name_that_resolves_to_loopback_is_refused_at_send_time(world, admin, receiver):
    hook = WebhookEndpoint.objects.create(organization=world.care_centre_2, url="https://localhost:9/x",
                                          event_types=["referral.changed"], secret="whsec_" + "A" * 44,
                                          created_by=admin)
    events(world, 1)
    with override_settings(WEBHOOK_ALLOWED_HOSTS=[]):
        endpoints_deliver(endpoint_ids=[hook.id])
    attempt = WebhookAttempt.objects.get()
    assert (attempt.status, attempt.error) == (None, "target_refused:internal_address")


def test_no_body_header_or_log_row_carries_personal_data(world, admin, receiver):
    """A resident seeded with distinctive name, address, phone and a note; the events about them (a referral
    received and changed, a task assigned) go out; nothing that left or was logged holds any of it."""
    endpoint(admin, receiver, "/a", types=("referral.received", "referral.changed", "task.assigned",
                                           "task.changed"))
    tanaka = world.tanaka
    tanaka.phone, tanaka.town, tanaka.block_number, tanaka.building = "044-987-6543", "宿河原", "7-31", "みどり荘"
    tanaka.save()
    note = services.note_write(actor=world.users["care_worker"], resident=tanaka, category="health",
                               body="夜間に転倒して右手首を痛めた", case=world.tanaka_case)
    referral_consent(world, recipient=world.care_centre_2)
    referral = services.referral_create(
        actor=world.users["care_worker"], case=world.tanaka_case, receiver_organization=world.care_centre_2,
        reason="転倒の評価をお願いします", categories=["basic", "health"])
    services.referral_transition(actor=world.users["care_worker"], referral_id=referral.id, action="cancel",
                                 reason="本人の希望で取り下げ")
    deliver()
    assert [r.body["type"] for r in receiver.received] == ["referral.received", "referral.changed"]
    secrets = [tanaka.name_kanji, tanaka.name_kana, "タナカ", "田中", tanaka.phone, "044-987", "宿河原", "みどり荘",
               "7-31", note.body, "転倒", tanaka.postal_code]
    sent = [r.raw.decode() + json.dumps(r.headers, ensure_ascii=False) for r in receiver.received]
    logged = [json.dumps(list(model.objects.values()), default=str, ensure_ascii=False)
              for model in (Event, WebhookDelivery, WebhookAttempt, WebhookEndpoint)]
    for text in sent + logged:
        for secret in secrets:
            assert secret not in text, secret


def test_a_dead_broker_is_asked_once_then_left_to_the_sweep(monkeypatch):
    import integrations.events as events_module
    from integrations import tasks

    calls = []

    def refuse(*args, **kwargs):
        calls.append(args)
        raise ConnectionError("broker down")

    monkeypatch.setattr(tasks.webhooks_deliver, "apply_async", refuse)
    monkeypatch.setattr(events_module, "_broker_down_until", 0.0)
    assert events_module.enqueue_webhooks([1]) is False
    assert events_module.enqueue_webhooks([2]) is False
    assert len(calls) == 1
