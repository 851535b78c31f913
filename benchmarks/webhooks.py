"""Benchmark: webhooks to 20 endpoints, 3 of them failing, sent by ONE real Celery worker process.

It writes `--events` events (10,000) for one organisation with 20 subscribed endpoints — one delivery per
event and endpoint — on a receiver on loopback (in this process, verifying every signature with the
Standard Webhooks library) where 3 endpoints answer 500 and 17 answer 200. It starts one
`celery -A backend worker --pool solo` process on a private redis-server, sends one delivery task for the
20 endpoints (it requeues itself while there is more), and times until the 17 healthy endpoints hold every
event; then counts duplicates per event id per endpoint (must be 0) and the failing endpoints' attempts
(backed off per endpoint, not per delivery). The benchmark's rows are deleted at the end (`--keep` leaves them).

    DATABASE_URL=postgres://... python -m benchmarks.webhooks --events 10000     # make bench-webhooks
"""

from __future__ import annotations

import argparse
import datetime
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from collections import Counter
from pathlib import Path

import django

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "backend.settings.dev")
django.setup()

from django.contrib.auth.models import Group  # noqa: E402
from django.db import connection  # noqa: E402
from django.utils import timezone  # noqa: E402

import integrations.events  # noqa: E402
from backend.celery import app  # noqa: E402
from cases.models import Membership, Organization, User, Ward  # noqa: E402
from cases.models.choices import OrganizationKind, Role  # noqa: E402
from integrations.events import NewEvent, events_record  # noqa: E402
from integrations.models import Event, EventCounter, WebhookAttempt, WebhookDelivery, WebhookEndpoint  # noqa: E402
from integrations.webhooks import _new_secret  # noqa: E402
from tests.integrations.receiver import Receiver  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
TIMEOUT = 3600.0
ENDPOINTS, FAILING = 20, 3


def _free_port(preferred: int) -> int:
    for port in range(preferred, preferred + 100):
        with socket.socket() as probe:
            try:
                probe.bind(("127.0.0.1", port))
            except OSError:
                continue
            return port
    raise RuntimeError("no free port")


def _wait(predicate, what: str, timeout: float = TIMEOUT, interval: float = 0.5) -> float:
    start = time.monotonic()
    while not predicate():
        if time.monotonic() - start > timeout:
            raise SystemExit(f"timed out waiting for {what}")
        time.sleep(interval)
    return time.monotonic()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--events", type=int, default=10_000)
    parser.add_argument("--keep", action="store_true", help="leave the benchmark's rows in the database")
    args = parser.parse_args()
    if connection.vendor != "postgresql":
        raise SystemExit("Run it on PostgreSQL: set DATABASE_URL=postgres://...")
    if not shutil.which("redis-server"):
        raise SystemExit("redis-server not found")
    # The benchmark sends the one delivery task itself, to the worker's private broker.
    integrations.events.enqueue_webhooks = lambda endpoint_ids: False

    temp = Path(tempfile.mkdtemp(prefix="bench-webhooks-"))
    processes: list[subprocess.Popen] = []
    port = _free_port(6397)
    broker = f"redis://127.0.0.1:{port}/0"
    processes.append(subprocess.Popen(
        ["redis-server", "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"],
        stdout=open(temp / "redis.log", "wb"), stderr=subprocess.STDOUT, start_new_session=True))  # noqa: SIM115
    env = {**os.environ, "PYTHONUNBUFFERED": "1", "REDIS_URL": broker, "CELERY_BROKER_URL": broker,
           "WEBHOOK_ALLOWED_HOSTS": "127.0.0.1"}
    time.sleep(0.5)

    receiver = Receiver().start()
    tag = uuid.uuid4().hex[:8]
    ward = Ward.objects.create(code=f"w{tag}", name=f"bench {tag}")
    org = Organization.objects.create(kind=OrganizationKind.CARE_CENTRE, name="bench care", ward=ward)
    admin = User.objects.create(username=f"bench-{tag}-admin")
    Membership.objects.create(user=admin, organization=org, role=Role.ORG_ADMIN,
                              valid_from=timezone.now() - datetime.timedelta(days=1))
    paths = [f"/{'fail' if n < FAILING else 'ok'}{n}" for n in range(ENDPOINTS)]
    try:
        for path in paths:
            secret = _new_secret()
            receiver.secrets[path] = [secret]
            if path.startswith("/fail"):
                receiver.statuses[path] = 500
            WebhookEndpoint.objects.create(organization=org, url=receiver.url(path), event_types=["task.assigned"],
                                           secret=secret, created_by=admin)
        endpoint_ids = list(WebhookEndpoint.objects.filter(organization=org).values_list("id", flat=True))
        print(f"writing {args.events:,} events × {ENDPOINTS} endpoints …", flush=True)
        written = time.monotonic()
        for start in range(0, args.events, 500):
            events_record(events=[NewEvent(org.id, f"bench:{tag}:{i}", "task.assigned", "task", i)
                                  for i in range(start, min(start + 500, args.events))])
        print(f"  written in {time.monotonic() - written:.1f} s "
              f"({WebhookDelivery.objects.filter(endpoint__organization=org).count():,} deliveries)", flush=True)

        log = temp / "worker.log"
        processes.append(subprocess.Popen(
            [sys.executable, "-m", "celery", "-A", "backend", "worker", "--pool", "solo", "-Q", "urgent,default,bulk",
             "-n", "bench@%h", "--loglevel", "WARNING", "--without-gossip", "--without-mingle", "--without-heartbeat"],
            cwd=ROOT, env=env, stdout=open(log, "wb"), stderr=subprocess.STDOUT,  # noqa: SIM115
            start_new_session=True))
        time.sleep(3)
        healthy = [p for p in paths if p.startswith("/ok")]
        start = time.monotonic()
        with app.connection_for_write(broker) as conn:
            app.send_task("integrations.tasks.webhooks_deliver", args=[endpoint_ids], queue="default",
                          connection=conn)
        # The receiver's own per-path tallies: walking every request received at each poll cost the receiver
        # (same process, same GIL) more CPU than it spent answering as the count grew.
        done = _wait(lambda: all(len(receiver.distinct.get(p, ())) >= args.events for p in healthy),
                     "the healthy endpoints")
        time.sleep(2)  # anything still running would show up as a duplicate below
        elapsed = done - start
        received = {p: Counter(receiver.ids(p)) for p in paths}
        duplicates = sum(c - 1 for p in healthy for c in received[p].values() if c > 1)
        delivered = sum(len(received[p]) for p in healthy)
        failing_attempts = WebhookAttempt.objects.filter(delivery__endpoint__url__contains="/fail").count()
        in_order = all(list(dict.fromkeys(receiver.ids(p))) == sorted(dict.fromkeys(receiver.ids(p)),
                                                                       key=lambda i: int(i.rsplit("_", 1)[1]))
                       for p in healthy)
        print(f"\nevents: {args.events:,} × {ENDPOINTS} endpoints ({FAILING} answering 500); one worker process "
              f"(--pool solo); PostgreSQL {connection.pg_version // 10000}; load average {os.getloadavg()[0]:.2f}")
        print(f"healthy {len(healthy)} endpoints hold every event: {elapsed:.1f} s → {delivered / elapsed:,.0f} "
              f"deliveries/s")
        finished = sorted(receiver.last_at[p] - start for p in healthy)
        print(f"failing {FAILING} endpoints: {failing_attempts} attempts in all (backed off per endpoint); the "
              f"healthy ones finished between {finished[0]:.1f} s and {finished[-1]:.1f} s after the start")
        print(f"in order per endpoint: {in_order}; signatures rejected: {receiver.rejected}; TCP connections "
              f"opened: {receiver.connections:,}")
        print(f"duplicates per event id per healthy endpoint: {duplicates}")
        return 0 if duplicates == 0 and in_order and receiver.rejected == 0 else 1
    finally:
        for proc in reversed(processes):
            try:
                os.killpg(proc.pid, signal.SIGTERM)
                proc.wait(timeout=20)
            except (ProcessLookupError, subprocess.TimeoutExpired):
                os.killpg(proc.pid, signal.SIGKILL)
        receiver.stop()
        if not args.keep:
            WebhookEndpoint.objects.filter(organization=org).delete()
            Event.objects.filter(organization=org).delete()
            EventCounter.objects.filter(organization=org).delete()
            Membership.objects.filter(user=admin).delete()
            admin.delete()
            group = org.group_id
            org.delete()
            Group.objects.filter(id=group).delete()
            ward.delete()
        shutil.rmtree(temp, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
