"""E-mail delivery: claimed and marked one row at a time, so a crash repeats at most the send in flight;
the outbox key is the Message-ID; a run stops at its time budget and hands back what it did not reach."""

from __future__ import annotations

import datetime
from unittest import mock

import pytest
from django.conf import settings
from django.core import mail
from django.test import override_settings
from django.utils import timezone

import api.tasks  # noqa: F401 (registers the tasks checked below)
import audit.tasks  # noqa: F401
import cases.tasks  # noqa: F401
import permissions.tasks  # noqa: F401
from backend.celery import app
from backend.settings import celery as celery_settings
from notifications import delivery, tasks
from notifications.delivery import outbox_deliver_due
from notifications.messages import email_message_id
from notifications.models import Notification, OutboxMessage
from notifications.outbox import Message, outbox_write


def _messages(world, n: int, *, urgent: bool = True) -> list[int]:
    user = world.users["care_supervisor"]
    user.email = "care_supervisor@example.jp"
    user.save(update_fields=["email"])
    return outbox_write(
        Message(reason=f"task:{i}:assigned", recipient_id=user.id, recipient_email=user.email, event="task_assigned",
                subject_type="task", subject_id=i, link=f"/api/v1/tasks/{i}", urgent=urgent)
        for i in range(n)
    )


def _email_rows():
    return OutboxMessage.objects.filter(channel="email").order_by("id")


def test_each_email_carries_its_outbox_key_as_message_id_and_is_sent_once(world):
    _messages(world, 3)
    first = outbox_deliver_due()
    again = outbox_deliver_due(now=timezone.now() + datetime.timedelta(days=1))
    assert (first.delivered, again.delivered, again.claimed) == (6, 0, 0)
    ids = [m.extra_headers["Message-ID"] for m in mail.outbox]
    assert sorted(ids) == sorted(email_message_id(row.key) for row in _email_rows())
    assert ids[0] == f"<task.0.assigned.u{world.users['care_supervisor'].id}.email@localhost>"
    assert all(row.claimed_at and row.delivered_at and row.attempts == 1 for row in _email_rows())


def test_a_crash_after_some_sends_repeats_only_the_one_in_flight(world):
    """The third send 'dies' after the mail left (the worker's process ends before it marks the row):
    the first two stay sent, the third is sent again once its claim is older than the lease, the
    rest once."""
    _messages(world, 5)
    sent = []
    real_send = mail.EmailMessage.send

    class Killed(BaseException):  # like SIGKILL: no except clause in the delivery code catches it
        pass

    def send(message, *args, **kwargs):
        sent.append(message.extra_headers["Message-ID"])
        real_send(message, *args, **kwargs)
        if len(sent) == 3:
            raise Killed

    with mock.patch.object(mail.EmailMessage, "send", send), pytest.raises(Killed):
        outbox_deliver_due()
    rows = list(_email_rows())
    assert [bool(r.delivered_at) for r in rows] == [True, True, False, False, False]
    assert rows[2].claimed_at is not None and rows[3].claimed_at is None  # the one in flight is claimed

    within_lease = outbox_deliver_due()
    assert within_lease.reclaimed == 0 and not _email_rows().get(id=rows[2].id).delivered_at  # a live send?
    after_lease = outbox_deliver_due(now=timezone.now() + delivery.claim_lease() + datetime.timedelta(seconds=1))
    assert after_lease.reclaimed == 1
    per_row = {}
    for message in mail.outbox:
        per_row[message.extra_headers["Message-ID"]] = per_row.get(message.extra_headers["Message-ID"], 0) + 1
    assert sorted(per_row.values()) == [1, 1, 1, 1, 2]
    assert per_row[email_message_id(rows[2].key)] == 2
    assert not OutboxMessage.objects.filter(delivered_at__isnull=True).exists()
    assert Notification.objects.count() == 5  # in-app: exactly once, whatever happened to the e-mails


def test_a_failed_send_releases_its_claim_and_the_rows_before_it_stay_sent(world):
    _messages(world, 3)
    calls = []
    real_send = mail.EmailMessage.send

    def send(message, *args, **kwargs):
        calls.append(message)
        if len(calls) == 2:
            raise ConnectionRefusedError
        return real_send(message, *args, **kwargs)

    with mock.patch.object(mail.EmailMessage, "send", send):
        report = outbox_deliver_due()
    assert (report.delivered, report.failed) == (3 + 2, 1)
    failed = _email_rows().get(delivered_at__isnull=True)
    assert failed.claimed_at is None and failed.last_error == "ConnectionRefusedError" and failed.attempts == 1
    assert failed.available_at > timezone.now() + datetime.timedelta(seconds=25)


def test_a_delivery_run_stops_at_its_budget_and_requeues_the_rest_on_its_own_queue(world):
    ids = _messages(world, 4)
    email_ids = list(_email_rows().values_list("id", flat=True))
    clock = iter([0.0] + [0.0, 0.0, 10.0] + [10.0] * 20)
    with mock.patch.object(delivery, "_clock", lambda: next(clock)), \
            mock.patch("notifications.outbox.enqueue_delivery") as enqueue:
        delivered = tasks.outbox_deliver(ids)
    assert delivered == 4 + 2  # the in-app rows, then two e-mails before the budget ran out
    enqueue.assert_called_once_with(email_ids[2:], queue="urgent")


def test_a_routine_message_is_requeued_on_default(world):
    ids = _messages(world, 1, urgent=False)
    with mock.patch.object(delivery, "DELIVER_BUDGET_SECONDS", -1.0), \
            mock.patch("notifications.outbox.enqueue_delivery") as enqueue:
        tasks.outbox_deliver.run(ids)
    assert enqueue.call_args.kwargs == {"queue": "default"}


def test_the_sweep_is_bounded_by_its_budget(world):
    _messages(world, 30)
    report = outbox_deliver_due(time_budget=0.0, batch=10, email_batch=10)
    assert report.more and report.delivered <= 10 + 1  # one in-app batch, at most one e-mail


@override_settings(OUTBOX_EMAIL_CLAIM_LEASE_SECONDS=2, EMAIL_TIMEOUT=None)
def test_the_lease_and_the_send_timeout_come_from_settings():
    assert delivery.claim_lease() == datetime.timedelta(seconds=2)
    assert delivery.send_timeout() == delivery.DEFAULT_SEND_TIMEOUT
    assert delivery.claim_lease() < datetime.timedelta(seconds=delivery.DEFAULT_CLAIM_LEASE_SECONDS)


def test_a_killed_task_comes_back_within_minutes_and_no_live_task_outlives_the_timeout():
    timeout = celery_settings.VISIBILITY_TIMEOUT
    assert timeout <= 300
    longest_wait = settings.TASK_RETRY["retry_backoff_max"]  # a retry waits unacknowledged for its countdown
    longest_run = max(delivery.SWEEP_BUDGET_SECONDS, delivery.DELIVER_BUDGET_SECONDS, 20.0)  # escalation sweep
    assert timeout > 2 * (longest_wait + longest_run)
    for name in ("audit.tasks.retention", "permissions.tasks.memberships_sync", "audit.tasks.access_log_seal_sweep"):
        assert app.tasks[name].acks_late is False, name  # unbounded: acked on receipt, re-run by beat


@override_settings(DEFAULT_FROM_EMAIL="見守り <mimamori@ward.example.jp>")
def test_the_message_id_is_the_key_at_the_sender_domain():
    assert email_message_id("task:17:escalation:1:u5:email") == "<task.17.escalation.1.u5.email@ward.example.jp>"


def test_a_recipient_who_lost_their_address_is_not_retried_forever(world):
    _messages(world, 1)
    world.users["care_supervisor"].email = ""
    world.users["care_supervisor"].save(update_fields=["email"])
    report = outbox_deliver_due()
    assert report.delivered == 2 and mail.outbox == []
    assert _email_rows().get().last_error == "no address"
