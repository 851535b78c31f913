"""Fault tests with real processes and nothing mocked (tests/faults/stack.py): our own redis-server on a
spare port, real Celery workers and beat, a real API server (gunicorn), all on the test database
(pytest-django's `test_<name>`; transactional tests, so they see committed rows).

1. A worker is killed with SIGKILL in the middle of an escalation sweep.
2. Redis is flushed, then restarted empty, while delivery and sweep messages are queued.
3. Redis stops while the API is serving visits and referrals.

After recovery: every due escalation step fired exactly once (rows counted), no notification was
delivered twice, and the API kept answering 201 while the broker was down. Every wait polls with a
deadline; every process is ended by its own process-group id in the fixture's finaliser. Figures are
printed (run with -s to see them).
"""

from __future__ import annotations

import datetime
import time

import pytest
from django.utils import timezone

from api.tokens import token_issue
from cases.models import Consent, EscalationPolicy, Referral, Task, TaskEscalation, Visit
from cases.models.audited import seed_create
from cases.models.consent import Decision, Grantor, Method
from cases.services.escalations import BATCH
from notifications.models import Notification, OutboxMessage
from tests.faults.stack import Stack, visit_body, wait_for, with_email

pytestmark = [pytest.mark.services, pytest.mark.django_db(transaction=True, serialized_rollback=True)]


def _due_safety_checks(world, n: int) -> None:
    """n open urgent safety checks for the care centre, due two hours ago: both steps are due."""
    policy = EscalationPolicy.objects.get(task_kind="safety_check", organization_kind="", urgency="")
    first = policy.steps.order_by("position").first().after
    due = timezone.now() - datetime.timedelta(hours=2)
    seed_create(
        Task,
        [Task(kind="safety_check", urgency="urgent", assignee_organization=world.care_centre, due_at=due,
              case=world.tanaka_case, resident=world.tanaka, escalation_policy=policy,
              next_escalation_at=due + first, dedupe_key=f"fault:{i}") for i in range(n)],
        batch_size=1000,
    )


def _settled(expected_escalations: int) -> bool:
    return (TaskEscalation.objects.count() >= expected_escalations
            and not OutboxMessage.objects.filter(delivered_at__isnull=True).exists())


def _assert_delivered_once(stack: Stack) -> dict:
    in_app = OutboxMessage.objects.filter(channel="in_app")
    figures = {
        "outbox": OutboxMessage.objects.count(),
        "undelivered": OutboxMessage.objects.filter(delivered_at__isnull=True).count(),
        "notifications": Notification.objects.count(),
        "distinct notification keys": Notification.objects.values("key").distinct().count(),
        "emails sent": len(stack.emails()),
        "distinct e-mails": len(set(stack.emails())),
        "e-mail rows": OutboxMessage.objects.filter(channel="email").count(),
    }
    assert figures["undelivered"] == 0
    assert figures["notifications"] == figures["distinct notification keys"] == in_app.count()
    assert figures["emails sent"] == figures["distinct e-mails"] == figures["e-mail rows"]
    return figures


def _assert_escalated_once(n_tasks: int) -> dict:
    figures = {
        "escalations": TaskEscalation.objects.count(),
        "distinct (task, level)": TaskEscalation.objects.values("task_id", "level").distinct().count(),
        "tasks at level 2": Task.objects.filter(kind="safety_check", dedupe_key__startswith="fault:",
                                                escalation_level=2, next_escalation_at__isnull=True).count(),
    }
    assert figures["escalations"] == figures["distinct (task, level)"] == 2 * n_tasks
    assert figures["tasks at level 2"] == n_tasks
    return figures


def _referral(world) -> dict:
    return {"case": world.tanaka_case.id, "receiver_organization": world.ward_section.id, "urgency": "urgent",
            "reason": "介護認定の相談", "categories": ["basic", "health"]}


def test_kill_9_a_worker_in_the_middle_of_a_sweep(world, stack):
    n = 2000
    _due_safety_checks(world, n)
    stack.redis_start()
    stack.worker("w1", concurrency=1)
    stack.send("cases.tasks.escalations_sweep")
    wait_for(lambda: TaskEscalation.objects.exists(), what="the sweep's first batch", interval=0.01)
    stack.kill("w1")  # SIGKILL to the worker and its pool process, mid-sweep
    time.sleep(0.2)  # let PostgreSQL notice the dead connection and roll its open batch back
    at_kill = TaskEscalation.objects.count()
    assert 0 < at_kill < 2 * n, at_kill
    assert at_kill % BATCH == 0, at_kill  # whole batches only: the interrupted one left nothing behind

    # The killed sweep's message stays unacknowledged in Redis until its visibility timeout; recovery
    # comes from the beat's next sweeps, run by two workers at once (skip-locked batches).
    stack.worker("w2")
    stack.worker("w3")
    stack.beat()
    wait_for(lambda: _settled(2 * n), what="every step fired and delivered", tick=stack.supervise)
    figures = {"killed after": at_kill, **_assert_escalated_once(n), **_assert_delivered_once(stack),
               "restarted by the supervisor": stack.restarts}
    assert figures["notifications"] == 2 * 2 * n  # two users per step
    print(f"\nkill -9 mid-sweep: {figures}")


def test_redis_flushed_and_restarted_while_messages_are_queued(world, stack):
    with_email(world, "care_supervisor", "ward_supervisor")
    n = 300
    _due_safety_checks(world, n)
    token = token_issue(user=world.users["commissioner_a"], name="fault")[1]
    stack.redis_start()
    stack.api()  # no worker yet: what the API enqueues waits in Redis
    assert all(stack.post(token, "/visits", visit_body(world))[0] == 201 for _ in range(10))
    for _ in range(3):
        stack.send("cases.tasks.escalations_sweep")
    before_flush = wait_for(stack.queued, what="queued messages")
    stack.redis().flushall()
    assert stack.queued() == 0

    assert all(stack.post(token, "/visits", visit_body(world))[0] == 201 for _ in range(5))
    stack.send("cases.tasks.escalations_sweep")
    before_restart = wait_for(stack.queued, what="queued messages")
    stack.redis_stop()
    stack.redis_start()  # --save "" and no AOF: it comes back empty
    assert stack.queued() == 0

    stack.worker("w1")
    stack.beat()
    wait_for(lambda: _settled(2 * n), what="every step fired and delivered", tick=stack.supervise)
    visits = Visit.objects.count()
    figures = {"queued before flush": before_flush, "queued before restart": before_restart, "visits": visits,
               "safety checks from visits": Task.objects.filter(visit__isnull=False).count(),
               **_assert_escalated_once(n), **_assert_delivered_once(stack),
               "restarted by the supervisor": stack.restarts}
    assert figures["visits"] == figures["safety checks from visits"] == 15
    assert figures["emails sent"] > 0
    print(f"\nredis flushed and restarted: {figures}")


def test_the_api_keeps_accepting_visits_and_referrals_while_the_broker_is_down(world, stack):
    with_email(world, "care_supervisor", "ward_supervisor")
    Consent.objects.create(
        resident=world.tanaka, decision=Decision.GRANTED, grantor=Grantor.SELF, categories=["basic", "health"],
        purposes=["referral"], valid_from=timezone.now() - datetime.timedelta(days=1), method=Method.ORAL,
        taken_by=world.users["care_worker"], taken_by_organization=world.care_centre,
    ).recipient_organizations.set([world.ward_section])
    sato = token_issue(user=world.users["commissioner_a"], name="fault")[1]
    care = token_issue(user=world.users["care_worker"], name="fault")[1]
    stack.redis_start()
    stack.worker("w1")
    stack.beat()
    stack.api()
    normal = [stack.post(sato, "/visits", visit_body(world)) for _ in range(5)]
    assert [status for status, _ in normal] == [201] * 5
    wait_for(lambda: _settled(0), what="the first visits' notifications")

    stack.redis_stop()
    outage = [stack.post(sato, "/visits", visit_body(world)) for _ in range(15)]
    outage += [stack.post(care, "/referrals", _referral(world)) for _ in range(15)]
    waiting = OutboxMessage.objects.filter(delivered_at__isnull=True).count()
    stack.redis_start()
    wait_for(lambda: _settled(0), what="delivery after the broker came back", tick=stack.supervise)

    statuses = [status for status, _ in outage]
    latencies = sorted(seconds for _, seconds in outage)
    figures = {
        "accepted while down": statuses.count(201), "requests while down": len(outage),
        "max latency while down (s)": round(latencies[-1], 3),
        "median latency while down (s)": round(latencies[len(latencies) // 2], 3),
        "median latency with the broker up (s)": round(sorted(seconds for _, seconds in normal)[2], 3),
        "undelivered when it came back": waiting,
        "visits": Visit.objects.count(), "safety checks": Task.objects.filter(kind="safety_check").count(),
        "referrals": Referral.objects.filter(status="requested").count(),
        "answer tasks": Task.objects.filter(kind="answer_referral").count(),
        **_assert_delivered_once(stack),
        "restarted by the supervisor": stack.restarts,
    }
    assert statuses == [201] * 30
    assert waiting > 0  # they were stored while nothing could be enqueued
    assert figures["visits"] == figures["safety checks"] == 20
    assert figures["referrals"] == figures["answer tasks"] == 15
    assert "outbox enqueue failed" in stack.log("api")
    print(f"\nbroker down while serving: {figures}")
