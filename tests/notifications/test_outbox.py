"""The transactional outbox: written with the change, delivered after commit, once; ids and links only."""

from __future__ import annotations

import datetime
import re
from unittest import mock

import pytest
from django.core import mail
from django.utils import timezone
from kombu.exceptions import OperationalError

import cases.tasks  # noqa: F401 (registers the tasks checked below)
import notifications.tasks  # noqa: F401
from api.serializers.notifications import NotificationSerializer
from backend.celery import app
from cases.models import Referral
from notifications import outbox
from notifications.delivery import outbox_deliver, outbox_deliver_due
from notifications.models import Notification, OutboxMessage
from tests.helpers import API, refer, referral_consent

INSTANT = re.compile(r"\d{4}-\d{2}-\d{2}T[0-9:.]+(?:Z|[+-]\d{2}:\d{2})?")


@pytest.fixture
def emails(world):
    for user in world.users.values():
        user.email = f"{user.username}@example.jp"
        user.save(update_fields=["email"])


def test_the_outbox_is_written_with_the_change_and_delivered_once(world, client_for, emails):
    referral_consent(world)
    referral = refer(client_for("care_worker"), world).json()
    rows = OutboxMessage.objects.filter(subject_type="referral", subject_id=referral["id"])
    assert {(r.recipient.username, r.channel) for r in rows} == {
        (u, c) for u in ("ward_caseworker", "ward_supervisor") for c in ("in_app", "email")}
    assert all(r.delivered_at is None for r in rows)

    first = outbox_deliver_due()
    again = outbox_deliver(ids=list(OutboxMessage.objects.values_list("id", flat=True)))
    assert first.delivered == OutboxMessage.objects.count() and again.delivered == 0
    assert Notification.objects.count() == OutboxMessage.objects.filter(channel="in_app").count()
    assert len(mail.outbox) == OutboxMessage.objects.filter(channel="email").count()
    assert Notification.objects.values("key").distinct().count() == Notification.objects.count()


def test_a_refused_change_leaves_no_message(world, client_for):
    referral_consent(world, categories=["basic"])
    assert refer(client_for("care_worker"), world).status_code == 409
    assert not OutboxMessage.objects.exists() and not Referral.objects.exists()


def test_notifications_and_emails_carry_no_personal_data(world, client_for, emails):
    referral_consent(world)
    care = client_for("care_worker")
    referral = refer(care, world, reason=f"{world.tanaka.name_kanji}さんの介護認定").json()
    client_for("ward_caseworker").post(f"{API}/referrals/{referral['id']}/accept", {}, format="json")
    outbox_deliver_due()
    resident = world.tanaka
    secrets = [resident.name_kanji, resident.name_kana, resident.name_kanji.split()[0], resident.phone,
               resident.block_number, "介護認定", str(resident.date_of_birth)]
    texts = [f"{m.subject}\n{m.body}" for m in mail.outbox]
    texts += [" ".join(str(v) for v in NotificationSerializer(n).data.values()) for n in Notification.objects.all()]
    # Instants the service writes are not the resident's: "2026-12-07T19:29" holds a block number "6-12".
    texts = [INSTANT.sub("<instant>", text) for text in texts]
    assert len(mail.outbox) >= 3 and Notification.objects.count() >= 3
    for text in texts:
        for secret in secrets:
            assert secret not in text, (secret, text)
        assert f"/api/v1/referrals/{referral['id']}" in text


def test_a_broker_outage_never_fails_the_request_and_the_sweep_delivers_later(
        world, client_for, django_capture_on_commit_callbacks):
    referral_consent(world)
    outbox._broker_down_until = 0.0
    with mock.patch.object(app.Task, "apply_async", side_effect=OperationalError("broker down")) as publish:
        with django_capture_on_commit_callbacks(execute=True):
            response = refer(client_for("care_worker"), world)
    assert response.status_code == 201
    assert publish.called
    assert OutboxMessage.objects.filter(delivered_at__isnull=True).count() == 2
    assert outbox_deliver_due().delivered == 2
    outbox._broker_down_until = 0.0


def test_after_a_failed_enqueue_the_api_does_not_wait_for_the_broker_again(world):
    outbox._broker_down_until = 0.0
    with mock.patch.object(app.Task, "apply_async", side_effect=OperationalError("down")) as publish:
        assert outbox.enqueue_delivery([1], queue="urgent") is False
        assert outbox.enqueue_delivery([2], queue="urgent") is False
    assert publish.call_count == 1
    outbox._broker_down_until = 0.0


def test_a_failing_email_backs_off_and_is_retried_by_the_sweep(world, client_for, emails):
    referral_consent(world)
    refer(client_for("care_worker"), world)
    with mock.patch("notifications.delivery.EmailMessage.send", side_effect=OSError("smtp down")):
        report = outbox_deliver_due()
    assert report.failed == 2 and Notification.objects.count() == 2
    waiting = OutboxMessage.objects.filter(delivered_at__isnull=True)
    assert waiting.count() == 2 and all(m.attempts == 1 and m.last_error == "OSError" for m in waiting)
    assert outbox_deliver_due().delivered == 0  # backing off
    later = timezone.now() + datetime.timedelta(minutes=2)
    assert outbox_deliver_due(now=later).delivered == 2
    assert len(mail.outbox) == 2


def test_my_notifications_only_and_marking_read(world, client_for):
    referral_consent(world)
    refer(client_for("care_worker"), world)
    outbox_deliver_due()
    mine = Notification.objects.get(user=world.users["ward_caseworker"])
    client = client_for("ward_caseworker")
    listed = client.get(f"{API}/notifications").json()["results"]
    assert [n["id"] for n in listed] == [mine.id]
    assert listed[0]["title"] and listed[0]["link"].startswith("/api/v1/referrals/")
    for persona in ("care_worker", "npo_worker", "ward_supervisor"):
        other = client_for(persona)
        assert mine.id not in [n["id"] for n in other.get(f"{API}/notifications").json()["results"]]
        assert other.post(f"{API}/notifications/{mine.id}/read", format="json").status_code == 404
    first = client.post(f"{API}/notifications/{mine.id}/read", format="json")
    again = client.post(f"{API}/notifications/{mine.id}/read", format="json")
    assert first.status_code == again.status_code == 200
    assert first.json()["read_at"] == again.json()["read_at"] is not None
    assert client.get(f"{API}/notifications?unread=true").json()["results"] == []
    refused = client.get(f"{API}/notifications?unread=maybe")  # true or false: never silently no filter
    assert (refused.status_code, refused.json()["errors"][0]["field"]) == (400, "unread")


def test_celery_is_configured_to_lose_nothing():
    conf = app.conf
    assert conf.task_acks_late and conf.task_reject_on_worker_lost and conf.worker_prefetch_multiplier == 1
    assert {q.name for q in conf.task_queues} >= {"urgent", "bulk"}
    beat = conf.beat_schedule
    assert beat["escalations-sweep"]["options"]["queue"] == "urgent"
    assert beat["outbox-sweep"]["options"]["queue"] == "default"  # redelivery never in front of fresh urgent work
    assert beat["escalations-sweep"]["schedule"] <= 60 and beat["outbox-sweep"]["schedule"] <= 60
    for name in ("notifications.tasks.outbox_deliver", "notifications.tasks.outbox_sweep",
                 "cases.tasks.escalations_sweep", "cases.tasks.visits_overdue_sweep"):
        task = app.tasks[name]
        assert task.acks_late and task.reject_on_worker_lost and 0 < task.max_retries <= 5, name
