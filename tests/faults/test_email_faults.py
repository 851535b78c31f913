"""E-mail after a fault, with real worker processes, a real Redis and a real SMTP server on loopback
(aiosmtpd): nothing is mocked.

1. A worker is killed with SIGKILL in the middle of a batch of e-mail, while the server holds its
   answer to the k-th message: afterwards every row was sent, the k-th (the one in flight) at most
   twice, every other exactly once. Its unacknowledged message comes back after the visibility
   timeout; the time from the kill to its second run is measured.
2. Only the worker's pool process is killed: the worker requeues the message at once
   (reject on worker lost); measured the same way.
3. A new safety check's notifications (in-app and e-mail) under a backlog of 2,000 undelivered
   rows reach their users within seconds of the commit, measured with and without the backlog.

Figures are printed (run with -s to see them).
"""

from __future__ import annotations

import datetime
import statistics
import time
from collections import Counter
from dataclasses import dataclass

import pytest
from django.utils import timezone

from api.tokens import token_issue
from cases.models import Task, Visit
from notifications.messages import email_message_id
from notifications.models import Notification, OutboxMessage
from notifications.outbox import Message
from tests.faults.stack import Receiver, Stack, visit_body, wait_for, with_email

pytestmark = [pytest.mark.services, pytest.mark.django_db(transaction=True, serialized_rollback=True)]

VISIBILITY_TIMEOUT = 10.0  # tests/faults/settings.py


@pytest.fixture
def receiver():
    server = Receiver().start()
    yield server
    server.stop()


def _email_rows(world, n: int) -> list[int]:
    """n e-mail rows for one user, stored as outbox_write stores them, but not enqueued (the test
    decides what reaches the broker)."""
    with_email(world, "care_supervisor")
    user = world.users["care_supervisor"]
    messages = [Message(reason=f"task:{i}:assigned", recipient_id=user.id, recipient_email=user.email,
                        event="task_assigned", subject_type="task", subject_id=i, link=f"/api/v1/tasks/{i}",
                        urgent=True) for i in range(n)]
    OutboxMessage.objects.bulk_create([
        OutboxMessage(key=f"{m.reason}:u{m.recipient_id}:email", channel="email", recipient_id=m.recipient_id,
                      event=m.event, subject_type=m.subject_type, subject_id=m.subject_id, link=m.link, urgent=True)
        for m in messages])
    return list(OutboxMessage.objects.order_by("id").values_list("id", flat=True))


def _sends_per_row(receiver: Receiver) -> tuple[dict[int, int], Counter]:
    counts = receiver.per_message_id()
    per_row = {row.id: counts.get(email_message_id(row.key), 0) for row in OutboxMessage.objects.order_by("id")}
    return per_row, Counter(per_row.values())


def _killed_mid_batch(stack: Stack, receiver: Receiver, world, *, n: int, k: int, whole_worker: bool) -> dict:
    ids = _email_rows(world, n)
    receiver.hold_at = k
    stack.use_smtp(receiver)
    stack.redis_start()
    stack.worker("w1", concurrency=1)
    task_id = stack.send("notifications.tasks.outbox_deliver", args=[ids])
    wait_for(receiver.holding.is_set, what=f"the {k}th e-mail to reach the server", interval=0.01)
    # Read while the server holds the k-th reply, so the sender is blocked: after a pool process is killed
    # the worker starts a new one at once, which goes on with the rest of the batch.
    in_flight = OutboxMessage.objects.filter(claimed_at__isnull=False, delivered_at__isnull=True)
    at_kill = {"sent and marked": OutboxMessage.objects.filter(delivered_at__isnull=False).count(),
               "claimed, not marked": in_flight.count(), "received by the server": receiver.count()}
    assert at_kill == {"sent and marked": k - 1, "claimed, not marked": 1, "received by the server": k}, at_kill
    in_flight_id = in_flight.get().id
    if whole_worker:
        stack.kill("w1")  # SIGKILL to the worker and its pool process: nobody can requeue
    else:
        stack.kill_pool_process("w1")  # the worker lives and sees its child lost
    killed_at = time.monotonic()
    receiver.released.set()
    time.sleep(0.3)  # let PostgreSQL notice the dead connection

    if whole_worker:
        stack.worker("w2")  # no beat: only the restored message can finish the batch
    log = "w2" if whole_worker else "w1"
    wait_for(lambda: stack.log(log).count(f"[{task_id}] received") >= (1 if whole_worker else 2),
             what="the killed message to run again", timeout=VISIBILITY_TIMEOUT + 30, interval=0.05)
    rerun_after = time.monotonic() - killed_at
    wait_for(lambda: OutboxMessage.objects.filter(delivered_at__isnull=True).count() <= 1, what="the rest of the batch")
    if OutboxMessage.objects.filter(delivered_at__isnull=True).exists():
        # The rerun came before the in-flight row's claim was 3 s old (the lease): it left that row, a
        # send that might still be live, to a later run; the next redelivery sweep sends it.
        time.sleep(3.2)
        stack.send("notifications.tasks.outbox_sweep", queue="default")
    wait_for(lambda: not OutboxMessage.objects.filter(delivered_at__isnull=True).exists(),
             what="every row sent", tick=stack.supervise)

    per_row, histogram = _sends_per_row(receiver)
    assert histogram == {1: n - 1, 2: 1}, histogram
    assert per_row[in_flight_id] == 2  # the only repeat is the send that was in flight
    assert receiver.count() == n + 1
    return {"rows": n, "killed after sends": k, **at_kill, "sends per row (sends: rows)": dict(histogram),
            "repeated row": f"the one in flight ({in_flight_id})", "kill to rerun (s)": round(rerun_after, 2)}


def test_a_worker_killed_mid_batch_repeats_at_most_the_one_send_in_flight(world, stack, receiver):
    figures = _killed_mid_batch(stack, receiver, world, n=40, k=12, whole_worker=True)
    # Only the visibility timeout brings the message back (counted from its delivery to the killed
    # worker, a moment before the kill), found by the next 1 s restore scan.
    assert VISIBILITY_TIMEOUT - 3 <= figures["kill to rerun (s)"] <= VISIBILITY_TIMEOUT + 5
    assert "possible repeat" in stack.log("w2")
    print(f"\nkill -9 of the worker mid-batch (visibility timeout {VISIBILITY_TIMEOUT:.0f} s): {figures}")


def test_a_killed_pool_process_is_requeued_at_once(world, stack, receiver):
    figures = _killed_mid_batch(stack, receiver, world, n=40, k=12, whole_worker=False)
    assert figures["kill to rerun (s)"] < 8  # the pool is checked every 5 s (celery's maintain_pool timer)
    print(f"\nkill -9 of the pool process mid-batch: {figures}")


def _backlog(world, n: int) -> None:
    """n undelivered rows, half in-app and half e-mail, ten minutes old and never enqueued: what a
    flushed broker leaves for the redelivery sweep."""
    with_email(world, "ward_caseworker")
    user = world.users["ward_caseworker"]
    old = timezone.now() - datetime.timedelta(minutes=10)
    OutboxMessage.objects.bulk_create(
        [OutboxMessage(key=f"backlog:{i}:u{user.id}:{channel}", channel=channel, recipient_id=user.id,
                       event="task_reminder", subject_type="task", subject_id=i, link=f"/api/v1/tasks/{i}",
                       urgent=True, created_at=old, available_at=old)
         for i in range(n // 2) for channel in ("in_app", "email")],
        batch_size=1000,
    )


@dataclass
class Fresh:
    """One safety check's notifications: seconds from the commit of its outbox rows to each in-app
    delivery and to each e-mail's arrival at the server; backlog rows still undelivered then."""

    in_app: list[float]
    email: list[float]
    backlog_left: int


def _fresh_latencies(stack: Stack, receiver: Receiver, token: str, world, *, visits: int) -> list[Fresh]:
    """Upload visits with warning signs one after another and time each one's notifications."""
    measured = []
    for _ in range(visits):
        body = visit_body(world)
        assert stack.post(token, "/visits", body)[0] == 201
        task = Task.objects.get(visit=Visit.objects.get(client_id=body["client_id"]))
        rows = OutboxMessage.objects.filter(subject_type="task", subject_id=task.id).exclude(key__startswith="backlog:")
        wait_for(lambda rows=rows: rows.exists() and not rows.filter(delivered_at__isnull=True).exists(),
                 what="the safety check's notifications", timeout=30, interval=0.02)
        left = OutboxMessage.objects.filter(key__startswith="backlog:", delivered_at__isnull=True).count()
        committed = min(row.created_at for row in rows).timestamp()
        email_ids = [email_message_id(row.key) for row in rows if row.channel == "email"]
        wait_for(lambda ids=email_ids: set(ids) <= set(receiver.first_seen()),
                 what="the safety check's e-mails at the server", timeout=30, interval=0.02)
        seen = receiver.first_seen()
        measured.append(Fresh(
            in_app=[row.delivered_at.timestamp() - committed for row in rows if row.channel == "in_app"],
            email=[seen[i] - committed for i in email_ids], backlog_left=left))
        time.sleep(0.5)
    return measured


def _summary(measured: list[Fresh], channel: str) -> dict:
    values = [seconds for fresh in measured for seconds in getattr(fresh, channel)]
    return {"median (s)": round(statistics.median(values), 3), "max (s)": round(max(values), 3)}


@pytest.mark.parametrize(("concurrency", "bound"), [(2, 3.0), (1, 7.0)], ids=["two processes", "one process"])
def test_a_new_safety_check_goes_ahead_of_a_backlog_of_2000_rows(world, stack, concurrency, bound):
    """Two pool processes (compose): one is always free of the sweep, so a fresh delivery starts at once.
    One (make run): it waits at most for the sweep run in hand (5 s budget), then goes first."""
    with_email(world, "care_worker", "care_supervisor")
    slow = Receiver(delay=0.02).start()  # 20 ms an answer, like a relay across the network
    try:
        stack.use_smtp(slow)
        token = token_issue(user=world.users["commissioner_a"], name="fault")[1]
        stack.redis_start()
        stack.worker("w1", concurrency=concurrency)
        stack.beat()
        stack.api()
        quiet = _fresh_latencies(stack, slow, token, world, visits=5)

        _backlog(world, 2000)
        wait_for(lambda: OutboxMessage.objects.filter(key__startswith="backlog:", channel="email",
                                                      delivered_at__isnull=False).count() > 20,
                 what="the redelivery sweep to be working on the backlog")
        busy = _fresh_latencies(stack, slow, token, world, visits=5)
        started = time.monotonic()
        wait_for(lambda: not OutboxMessage.objects.filter(delivered_at__isnull=True).exists(),
                 what="the backlog to drain", timeout=120)
        drained_after = time.monotonic() - started
    finally:
        slow.stop()

    # Only the visits delivered while the backlog was still there count as "with backlog" (a fast
    # machine may drain it before the last one).
    under = [fresh for fresh in busy if fresh.backlog_left > 0]
    figures = {
        "without backlog: in-app": _summary(quiet, "in_app"), "without backlog: e-mail": _summary(quiet, "email"),
        "with backlog: in-app": _summary(under, "in_app"), "with backlog: e-mail": _summary(under, "email"),
        "backlog rows still undelivered when each was delivered": [fresh.backlog_left for fresh in busy],
        "backlog drained (s after the last fresh one)": round(drained_after, 1),
        "notifications": Notification.objects.count(),
        "distinct notification keys": Notification.objects.values("key").distinct().count(),
    }
    print(f"\na new safety check under a backlog of 2,000 rows, {concurrency} worker process(es): {figures}")
    assert len(under) >= 3  # the backlog was still there: these fresh ones went ahead of it
    assert all(max(fresh.in_app + fresh.email) < bound for fresh in under)
    assert all(fresh.in_app and fresh.email for fresh in busy)
    assert figures["notifications"] == figures["distinct notification keys"]
