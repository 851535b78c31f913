"""Fault tests with real processes and nothing mocked: our own redis-server on a spare port, real
Celery workers and beat (`celery -A backend worker|beat`), a real API server (gunicorn), all on the
test database (pytest-django's `test_<name>`; transactional tests, so they see committed rows).

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
import email
import email.header
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
import uuid
from pathlib import Path

import pytest
import redis
from django.db import connection
from django.utils import timezone

from api.tokens import token_issue
from backend.celery import app
from cases.models import Consent, EscalationPolicy, Referral, Task, TaskEscalation, Visit
from cases.models.consent import Decision, Grantor, Method
from cases.services.escalations import BATCH
from notifications.models import Notification, OutboxMessage

pytestmark = [pytest.mark.services, pytest.mark.django_db(transaction=True, serialized_rollback=True)]

ROOT = Path(__file__).resolve().parents[2]
DEADLINE = 60.0
QUEUES = ("urgent", "default", "bulk")


def wait_for(predicate, *, what: str, timeout: float = DEADLINE, interval: float = 0.1, tick=None):
    end = time.monotonic() + timeout
    while True:
        if tick is not None:
            tick()
        value = predicate()
        if value:
            return value
        if time.monotonic() > end:
            raise AssertionError(f"timed out after {timeout:.0f}s waiting for {what}")
        time.sleep(interval)


def _free_port(preferred: int) -> int:
    for port in range(preferred, preferred + 100):
        with socket.socket() as probe:
            try:
                probe.bind(("127.0.0.1", port))
            except OSError:
                continue
            return port
    raise RuntimeError("no free port")


class Stack:
    """The processes of one test. Each runs in its own session, so it is ended with its whole group."""

    def __init__(self, tmp_path: Path) -> None:
        self.tmp = tmp_path
        self.port = _free_port(6390)
        self.redis_url = f"redis://127.0.0.1:{self.port}/0"
        self.mail_dir = tmp_path / "mail"
        self.mail_dir.mkdir()
        db = connection.settings_dict
        password = f":{db['PASSWORD']}" if db.get("PASSWORD") else ""
        self.env = {
            **os.environ,
            "DJANGO_SETTINGS_MODULE": "tests.faults.settings",
            "DATABASE_URL": f"postgres://{db['USER']}{password}@{db['HOST']}:{db['PORT']}/{db['NAME']}",
            "REDIS_URL": self.redis_url,
            "FAULT_MAIL_DIR": str(self.mail_dir),
            "FAULT_BEAT_SCHEDULE": str(tmp_path / "beat-schedule"),
            "PYTHONUNBUFFERED": "1",
        }
        self.env.pop("CELERY_BROKER_URL", None)
        self.procs: dict[str, subprocess.Popen] = {}
        self.argv: dict[str, list[str]] = {}
        self.restarts: list[str] = []
        self.api_url = ""

    # processes
    def _start(self, name: str, argv: list[str]) -> subprocess.Popen:
        log = open(self.tmp / f"{name}.log", "ab")  # noqa: SIM115 (closed with the process)
        proc = subprocess.Popen(argv, cwd=ROOT, env=self.env, stdout=log, stderr=subprocess.STDOUT,
                                start_new_session=True)
        log.close()
        self.procs[name] = proc
        self.argv[name] = argv
        return proc

    def supervise(self) -> None:
        """What the deployment's restart policy does (compose: `restart: unless-stopped`): a worker or beat
        that died on its own is started again. kombu's Redis transport can crash a worker on broker loss
        ("Unrecoverable error: AttributeError ... 'hostname'" while restoring unacked messages)."""
        for name, proc in list(self.procs.items()):
            if name != "redis" and proc.poll() is not None:
                self.restarts.append(name)
                self._start(name, self.argv[name])

    def log(self, name: str) -> str:
        path = self.tmp / f"{name}.log"
        return path.read_text(errors="replace") if path.exists() else ""

    def kill(self, name: str, sig: int = signal.SIGKILL) -> None:
        proc = self.procs.pop(name)
        try:
            os.killpg(proc.pid, sig)
        except ProcessLookupError:
            pass
        proc.wait(timeout=20)

    def close(self) -> None:
        for name in list(self.procs):
            self.kill(name)

    # redis
    def redis(self) -> redis.Redis:
        return redis.Redis.from_url(self.redis_url, socket_connect_timeout=1, socket_timeout=2)

    def redis_start(self) -> None:
        self._start("redis", ["redis-server", "--port", str(self.port), "--bind", "127.0.0.1", "--save", "",
                              "--appendonly", "no"])
        wait_for(self._redis_up, what="redis-server", timeout=15, interval=0.05)

    def _redis_up(self) -> bool:
        try:
            return bool(self.redis().ping())
        except redis.RedisError:
            return False

    def redis_stop(self) -> None:
        self.kill("redis")

    def queued(self) -> int:
        client = self.redis()
        return sum(client.llen(queue) for queue in QUEUES)

    # celery and the API
    def worker(self, name: str, concurrency: int = 2) -> None:
        self._start(name, [sys.executable, "-m", "celery", "-A", "backend", "worker", "-Q", ",".join(QUEUES),
                           "-c", str(concurrency), "-n", f"{name}@%h", "--loglevel", "INFO", "--without-gossip",
                           "--without-mingle", "--without-heartbeat"])
        wait_for(lambda: " ready." in self.log(name), what=f"worker {name}", interval=0.2)

    def beat(self) -> None:
        self._start("beat", [sys.executable, "-m", "celery", "-A", "backend", "beat", "--loglevel", "INFO"])
        wait_for(lambda: "Sending due task" in self.log("beat"), what="beat", interval=0.2)

    def api(self) -> str:
        port = _free_port(18400)
        self._start("api", [sys.executable, "-m", "gunicorn", "backend.wsgi", "-b", f"127.0.0.1:{port}", "-w", "2",
                            "--timeout", "60"])
        self.api_url = f"http://127.0.0.1:{port}"
        wait_for(self._api_up, what="API server", interval=0.2)
        return self.api_url

    def _api_up(self) -> bool:
        try:
            with urllib.request.urlopen(f"{self.api_url}/healthz", timeout=2) as response:
                return response.status == 200
        except OSError:
            return False

    def send(self, task: str, queue: str = "urgent") -> None:
        """What beat does: put one sweep message on the broker."""
        with app.connection_for_write(self.redis_url) as conn:
            app.send_task(task, queue=queue, connection=conn)

    def post(self, token: str, path: str, body: dict) -> tuple[int, float]:
        request = urllib.request.Request(
            f"{self.api_url}/api/v1{path}", data=json.dumps(body).encode(), method="POST",
            headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"},
        )
        started = time.perf_counter()
        try:
            with urllib.request.urlopen(request, timeout=30) as response:
                status = response.status
        except urllib.error.HTTPError as error:
            status = error.code
        return status, time.perf_counter() - started

    def emails(self) -> list[tuple[str, str]]:
        """(recipient, subject) of every e-mail the processes sent (file backend)."""
        sent = []
        for path in sorted(self.mail_dir.glob("*.log")):
            for chunk in path.read_text().split("-" * 79):
                if "Subject:" not in chunk:
                    continue
                message = email.message_from_string(chunk.strip())
                subject = str(email.header.make_header(email.header.decode_header(message["Subject"])))
                sent.append((message["To"], subject))
        return sent


@pytest.fixture
def stack(world, tmp_path):
    if connection.vendor != "postgresql" or not shutil.which("redis-server"):
        pytest.skip("needs PostgreSQL and a redis-server binary")
    processes = Stack(tmp_path)
    yield processes
    processes.close()  # before pytest-django flushes the database: nothing holds a connection


def _due_safety_checks(world, n: int) -> None:
    """n open urgent safety checks for the care centre, due two hours ago: both steps are due."""
    policy = EscalationPolicy.objects.get(task_kind="safety_check", organization_kind="", urgency="")
    first = policy.steps.order_by("position").first().after
    due = timezone.now() - datetime.timedelta(hours=2)
    Task.objects.bulk_create(
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


def _with_email(world, *names: str) -> None:
    for name in names:
        world.users[name].email = f"{name}@example.jp"
        world.users[name].save(update_fields=["email"])


def _visit(world) -> dict:
    return {"case": world.tanaka_case.id, "client_id": str(uuid.uuid4()),
            "occurred_at": (timezone.now() - datetime.timedelta(minutes=20)).isoformat(), "channel": "home_visit",
            "outcome": "no_answer", "warning_signs": ["newspapers_piling", "mail_piling"]}


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
    _with_email(world, "care_supervisor", "ward_supervisor")
    n = 300
    _due_safety_checks(world, n)
    token = token_issue(user=world.users["commissioner_a"], name="fault")[1]
    stack.redis_start()
    stack.api()  # no worker yet: what the API enqueues waits in Redis
    assert all(stack.post(token, "/visits", _visit(world))[0] == 201 for _ in range(10))
    for _ in range(3):
        stack.send("cases.tasks.escalations_sweep")
    before_flush = wait_for(stack.queued, what="queued messages")
    stack.redis().flushall()
    assert stack.queued() == 0

    assert all(stack.post(token, "/visits", _visit(world))[0] == 201 for _ in range(5))
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
    _with_email(world, "care_supervisor", "ward_supervisor")
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
    normal = [stack.post(sato, "/visits", _visit(world)) for _ in range(5)]
    assert [status for status, _ in normal] == [201] * 5
    wait_for(lambda: _settled(0), what="the first visits' notifications")

    stack.redis_stop()
    outage = [stack.post(sato, "/visits", _visit(world)) for _ in range(15)]
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
