"""Benchmark: the escalation sweep, run by ONE real Celery worker process, on PostgreSQL.

It creates `--items` due items (open urgent safety-check tasks whose first escalation step
is due and whose second is not), starts one `celery -A backend worker --pool solo` process
(a single process, no pool children) on a private redis-server (or on REDIS_URL with
`--broker env`), sends one sweep message, and times

- until every due step fired (each item: one `TaskEscalation`, the task moved on, one
  outbox message, all in one transaction per batch of 500): items/s;
- until every outbox message was delivered (an in-app notification each): messages/s.

It then counts duplicates, which must be 0: escalation rows beyond one per item, tasks
escalated more than once, notification keys seen twice. The benchmark's rows are deleted
at the end (`--keep` leaves them).

    DATABASE_URL=postgres://... python -m benchmarks.sweep --items 100000     # make bench-sweep
"""

from __future__ import annotations

import argparse
import datetime
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

import django

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "backend.settings.dev")
django.setup()

from django.conf import settings  # noqa: E402
from django.contrib.auth.models import Group  # noqa: E402
from django.db import connection  # noqa: E402
from django.db.models import Count  # noqa: E402
from django.utils import timezone  # noqa: E402

from backend.celery import app  # noqa: E402
from cases.models import EscalationPolicy, Membership, Organization, Task, TaskEscalation, User, Ward  # noqa: E402
from cases.models.audited import seed_create  # noqa: E402
from cases.models.choices import OrganizationKind, Role  # noqa: E402
from notifications.models import Notification, OutboxMessage  # noqa: E402
from tests.faults.stack import free_port  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
TIMEOUT = 3600.0


def _wait(predicate, what: str, timeout: float = TIMEOUT, interval: float = 0.5) -> float:
    start = time.monotonic()
    while not predicate():
        if time.monotonic() - start > timeout:
            raise SystemExit(f"timed out waiting for {what}")
        time.sleep(interval)
    return time.monotonic()


class World:
    """A ward with a care centre (the assignee, one worker) and a ward section: the benchmark's own rows."""

    def __init__(self) -> None:
        tag = uuid.uuid4().hex[:8]
        self.prefix = f"bench-sweep:{tag}:"
        self.ward = Ward.objects.create(code=f"b{tag}", name=f"bench {tag}")
        self.care = Organization.objects.create(kind=OrganizationKind.CARE_CENTRE, name="bench care", ward=self.ward)
        self.section = Organization.objects.create(kind=OrganizationKind.WARD_SECTION, name="bench ward",
                                                   ward=self.ward)
        self.users = []
        for org in (self.care, self.section):
            user = User.objects.create(username=f"bench-{tag}-{org.kind}")
            Membership.objects.create(user=user, organization=org, role=Role.WORKER,
                                      valid_from=timezone.now() - datetime.timedelta(days=1))
            self.users.append(user)

    def tasks(self, items: int) -> None:
        policy = EscalationPolicy.objects.get(task_kind="safety_check", organization_kind="", urgency="")
        first = policy.steps.order_by("position").first().after
        due = timezone.now() - first - datetime.timedelta(minutes=5)  # step 1 due, step 2 not yet
        batch = 5000
        for start in range(0, items, batch):
            seed_create(Task, [
                Task(kind="safety_check", urgency="urgent", assignee_organization=self.care, due_at=due,
                     escalation_policy=policy, next_escalation_at=due + first, dedupe_key=f"{self.prefix}{i}")
                for i in range(start, min(start + batch, items))
            ])

    def escalated(self) -> int:
        return TaskEscalation.objects.filter(task__dedupe_key__startswith=self.prefix).count()

    def undelivered(self) -> int:
        return OutboxMessage.objects.filter(recipient__in=self.users, delivered_at__isnull=True).count()

    def duplicates(self, items: int) -> dict[str, int]:
        escalations = TaskEscalation.objects.filter(task__dedupe_key__startswith=self.prefix)
        return {
            "escalation rows beyond one per item": escalations.count() - items,
            "tasks escalated twice at a level": escalations.values("task_id", "level").annotate(n=Count("id"))
            .filter(n__gt=1).count(),
            "notification keys seen twice": Notification.objects.filter(user__in=self.users).values("key")
            .annotate(n=Count("id")).filter(n__gt=1).count(),
            "outbox rows beyond one per item": OutboxMessage.objects.filter(recipient__in=self.users).count() - items,
        }

    def delete(self) -> None:
        """Remove the synthetic rows. They were bulk-created (no signals), so they go without signals too:
        a row-by-row delete of 100,000 tasks would also write 100,000 audit change entries."""
        db = connection.alias
        Notification.objects.filter(user__in=self.users)._raw_delete(db)
        OutboxMessage.objects.filter(recipient__in=self.users)._raw_delete(db)
        tasks = Task.objects.filter(dedupe_key__startswith=self.prefix)
        TaskEscalation.objects.filter(task__in=tasks)._raw_delete(db)
        tasks._raw_delete(db)
        groups = [self.care.group_id, self.section.group_id]
        Membership.objects.filter(user__in=self.users).delete()
        for user in self.users:
            user.delete()
        Organization.objects.filter(id__in=[self.care.id, self.section.id]).delete()
        Group.objects.filter(id__in=groups).delete()
        self.ward.delete()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--items", type=int, default=100_000)
    parser.add_argument("--broker", choices=["private", "env"], default="private",
                        help="private: a redis-server of its own on a spare port; env: REDIS_URL / the settings.")
    parser.add_argument("--keep", action="store_true", help="leave the benchmark's rows in the database")
    args = parser.parse_args()
    if connection.vendor != "postgresql":
        raise SystemExit("Run it on PostgreSQL: set DATABASE_URL=postgres://...")

    temp = Path(tempfile.mkdtemp(prefix="bench-sweep-"))
    processes: list[subprocess.Popen] = []
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": os.environ["DJANGO_SETTINGS_MODULE"], "PYTHONUNBUFFERED": "1"}
    broker = settings.CELERY_BROKER_URL
    if args.broker == "private":
        if not shutil.which("redis-server"):
            raise SystemExit("redis-server not found: use --broker env")
        port = free_port(6395)
        processes.append(subprocess.Popen(
            ["redis-server", "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"],
            stdout=open(temp / "redis.log", "wb"), stderr=subprocess.STDOUT, start_new_session=True))  # noqa: SIM115
        broker = f"redis://127.0.0.1:{port}/0"
        env.update(REDIS_URL=broker, CELERY_BROKER_URL=broker)
        time.sleep(0.5)

    world = World()
    try:
        print(f"creating {args.items:,} due items …", flush=True)
        created = time.monotonic()
        world.tasks(args.items)
        print(f"  created in {time.monotonic() - created:.1f} s", flush=True)
        log = temp / "worker.log"
        processes.append(subprocess.Popen(
            [sys.executable, "-m", "celery", "-A", "backend", "worker", "--pool", "solo", "-Q", "urgent,default,bulk",
             "-n", "bench@%h", "--loglevel", "WARNING", "--without-gossip", "--without-mingle", "--without-heartbeat"],
            cwd=ROOT, env=env, stdout=open(log, "wb"), stderr=subprocess.STDOUT,  # noqa: SIM115
            start_new_session=True))
        time.sleep(3)  # the worker connects; a message sent earlier would wait for it anyway

        start = time.monotonic()
        with app.connection_for_write(broker) as conn:
            app.send_task("cases.tasks.escalations_sweep", queue="urgent", connection=conn)
        fired = _wait(lambda: world.escalated() >= args.items, "every due step to fire")
        delivered = _wait(lambda: world.undelivered() == 0, "every notification to be delivered")
        time.sleep(2)  # anything still running would show up as a duplicate below
        duplicates = world.duplicates(args.items)

        sweep_s, delivery_s = fired - start, delivered - start
        print(f"\nitems due: {args.items:,}  (one worker process, --pool solo; PostgreSQL "
              f"{connection.pg_version // 10000}; batches of 500)")
        print(f"escalation sweep: {sweep_s:.1f} s  → {args.items / sweep_s:,.0f} items/s")
        print(f"fired and delivered (in-app): {delivery_s:.1f} s  → {args.items / delivery_s:,.0f} items/s end to end")
        for name, count in duplicates.items():
            print(f"duplicates — {name}: {count}")
        total = sum(duplicates.values())
        print(f"duplicates: {total}")
        return 0 if total == 0 else 1
    finally:
        for proc in reversed(processes):
            try:
                os.killpg(proc.pid, signal.SIGTERM)
                proc.wait(timeout=20)
            except (ProcessLookupError, subprocess.TimeoutExpired):
                os.killpg(proc.pid, signal.SIGKILL)
        if not args.keep:
            world.delete()
        shutil.rmtree(temp, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
