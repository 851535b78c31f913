"""Benchmark: a disaster declared over a whole ward of the city, its campaign opened by ONE real Celery worker.

Run it on a scratch COPY of a seeded city (it writes the list, an event, its grants and tasks), migrated:

    createdb -T city h_copy && DATABASE_URL=postgres://…/h_copy python manage.py migrate
    DATABASE_URL=postgres://…/h_copy python -m benchmarks.disaster          # make bench-disaster

It takes the ward with the most residents and times

- deriving the ward's evacuation-support list from the register (the ward's criteria);
- declaring an event over every district of the ward, with the ward's commissioner councils and its council of
  social welfare as supporters, until the LAST safety-check task exists: the declaration enqueues the campaign
  after commit, and one `celery worker --pool solo` process (on a private redis-server) opens it in chunks of
  500 residents (DCBA49-11-3 grants, entry grants, provision records, tasks);
- a retried declaration (same client_id) and the campaign run once more from the start: it must create nothing;
- the progress view (GET …/progress through the API, counts by district) at that size, median of 5;
- the printable PDF of the ward's largest district (bytes, seconds);
- closing the event: every grant ended, one review task each.
"""

from __future__ import annotations

import argparse
import datetime
import os
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def _free_port(start: int) -> int:
    for port in range(start, start + 200):
        with socket.socket() as sock:
            if sock.connect_ex(("127.0.0.1", port)) != 0:
                return port
    raise SystemExit("no free port for redis-server")


# The private broker is chosen before Django reads its settings: the declaration's own enqueue goes to it.
TEMP = Path(tempfile.mkdtemp(prefix="bench-disaster-"))
PORT = _free_port(6420)
BROKER = f"redis://127.0.0.1:{PORT}/0"
os.environ.update(REDIS_URL=BROKER, CELERY_BROKER_URL=BROKER)
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "backend.settings.dev")

import django  # noqa: E402

django.setup()

from django.db import connection  # noqa: E402
from django.db.models import Count  # noqa: E402
from django.utils import timezone  # noqa: E402
from rest_framework.test import APIClient  # noqa: E402

from api.disaster_export import export_pdf  # noqa: E402
from api.tokens import token_issue  # noqa: E402
from audit.models import ProvisionRecord  # noqa: E402
from cases.models import (  # noqa: E402
    DisasterEvent,
    District,
    EvacuationListEntry,
    LegalBasisGrant,
    Membership,
    Organization,
    Task,
    User,
    Ward,
)
from cases.models.choices import OrganizationKind, Role  # noqa: E402
from cases.models.escalations import TaskKind  # noqa: E402
from cases.selectors import disaster_export_for  # noqa: E402
from cases.services.disaster import (  # noqa: E402
    disaster_event_close,
    disaster_event_declare,
    evacuation_list_refresh,
)
from cases.tasks import disaster_campaign  # noqa: E402
from permissions.models import EvacuationEntryGroupObjectPermission  # noqa: E402
from tests.helpers import fixture_update  # noqa: E402

TIMEOUT = 3600.0


def load() -> str:
    return " ".join(Path("/proc/loadavg").read_text().split()[:3])


def _wait(predicate, what: str, interval: float = 0.2) -> float:
    start = time.monotonic()
    while not predicate():
        if time.monotonic() - start > TIMEOUT:
            raise SystemExit(f"timed out waiting for {what}")
        time.sleep(interval)
    return time.monotonic()


def _supervisor(ward: Ward) -> tuple[User, Organization]:
    """A supervisor of the ward's section (the benchmark's own account when the city has none)."""
    section = Organization.objects.filter(ward=ward, kind=OrganizationKind.WARD_SECTION).order_by("id").first()
    membership = Membership.objects.active().filter(organization=section, role=Role.SUPERVISOR).first()
    if membership is not None:
        return membership.user, section
    user, _ = User.objects.get_or_create(username=f"bench-disaster-{ward.id}")
    Membership.objects.create(user=user, organization=section, role=Role.SUPERVISOR,
                              valid_from=timezone.now() - datetime.timedelta(days=1))
    return user, section


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.parse_args()
    if connection.vendor != "postgresql":
        raise SystemExit("Run it on PostgreSQL: set DATABASE_URL=postgres://… (a scratch copy of the city)")
    if not shutil.which("redis-server"):
        raise SystemExit("redis-server not found")
    processes: list[subprocess.Popen] = [subprocess.Popen(
        ["redis-server", "--port", str(PORT), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"],
        stdout=open(TEMP / "redis.log", "wb"), stderr=subprocess.STDOUT, start_new_session=True)]  # noqa: SIM115
    try:
        return run(processes)
    finally:
        for proc in reversed(processes):
            try:
                os.killpg(proc.pid, signal.SIGTERM)
                proc.wait(timeout=20)
            except (ProcessLookupError, subprocess.TimeoutExpired):
                os.killpg(proc.pid, signal.SIGKILL)
        shutil.rmtree(TEMP, ignore_errors=True)


def run(processes: list[subprocess.Popen]) -> int:
    print(f"load average at start: {load()}")
    ward = Ward.objects.annotate(n=Count("council_areas__districts__residents")).order_by("-n").first()
    supervisor, section = _supervisor(ward)
    districts = list(District.objects.filter(council_area__ward=ward).values_list("id", flat=True))
    supporters = list(Organization.objects.filter(ward=ward, kind__in=[
        OrganizationKind.COMMISSIONER_COUNCIL, OrganizationKind.SOCIAL_WELFARE_COUNCIL]).values_list("id", flat=True))
    print(f"ward {ward.name}: {ward.n:,} residents, {len(districts)} districts, {len(supporters)} supporter "
          f"organisations (commissioner councils and the council of social welfare)")

    started = time.monotonic()
    report = evacuation_list_refresh(actor=supervisor)
    print(f"list derived from the register: {report.listed:,} listed in {time.monotonic() - started:.1f} s")

    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    processes.append(subprocess.Popen(
        [sys.executable, "-m", "celery", "-A", "backend", "worker", "--pool", "solo", "-Q", "urgent,default,bulk",
         "-n", "bench-disaster@%h", "--loglevel", "WARNING", "--without-gossip", "--without-mingle",
         "--without-heartbeat"], cwd=ROOT, env=env, stdout=open(TEMP / "worker.log", "wb"),  # noqa: SIM115
        stderr=subprocess.STDOUT, start_new_session=True))
    time.sleep(4)  # the worker connects

    expected = EvacuationListEntry.objects.filter(ward=ward, status="listed",
                                                  resident__district_id__in=districts).count()
    client_id = uuid.uuid4()
    started = time.monotonic()
    event, created = disaster_event_declare(actor=supervisor, client_id=client_id, kind="earthquake",
                                            district_ids=districts, supporter_organization_ids=supporters,
                                            exercise=False)
    declared = time.monotonic()
    checks = Task.objects.filter(disaster_event=event, kind=TaskKind.DISASTER_CHECK)
    done = _wait(lambda: DisasterEvent.objects.filter(pk=event.pk, checks_opened_at__isnull=False).exists(),
                 "the campaign to open every check")
    tasks, grants = checks.count(), LegalBasisGrant.objects.filter(disaster_event=event).count()
    rows = EvacuationEntryGroupObjectPermission.objects.filter(basis__startswith="DCBA49-11-3:").count()
    provisions = ProvisionRecord.objects.filter(basis_code="DCBA49-11-3").count()
    total = done - started
    print(f"\ndeclared over the whole ward (one worker, --pool solo; PostgreSQL {connection.pg_version // 10000}; "
          f"chunks of 500): the declaration answered in {declared - started:.2f} s, the last of {tasks:,} tasks "
          f"existed {total:.1f} s after it → {tasks / total:,.0f} residents/s")
    print(f"  listed residents in the area: {expected:,}; tasks: {tasks:,} (missing: {expected - tasks})")
    print(f"  DCBA49-11-3 grants: {grants:,}; entry grant rows: {rows:,}; provision records: {provisions:,}")
    print(f"  load average: {load()}")

    started = time.monotonic()
    again, created_again = disaster_event_declare(actor=supervisor, client_id=client_id, kind="earthquake",
                                                  district_ids=districts, supporter_organization_ids=supporters,
                                                  exercise=False)
    DisasterEvent.objects.filter(pk=event.pk).update(checks_cursor=0, checks_opened_at=None)  # run it all again
    disaster_campaign.apply_async(args=[event.id], queue="bulk")
    _wait(lambda: DisasterEvent.objects.filter(pk=event.pk, checks_opened_at__isnull=False).exists(),
          "the repeated campaign")
    duplicates = {
        "events declared by the retry": int(created_again or again.id != event.id),
        "tasks beyond one per listed resident": checks.count() - tasks,
        "dedupe keys seen twice": checks.values("resident_id").annotate(n=Count("id")).filter(n__gt=1).count(),
        "grants beyond the first run": LegalBasisGrant.objects.filter(disaster_event=event).count() - grants,
        "provision records beyond the first run": ProvisionRecord.objects.filter(
            basis_code="DCBA49-11-3").count() - provisions,
    }
    print(f"\nretried declaration and the whole campaign run again: {time.monotonic() - started:.1f} s")
    for name, count in duplicates.items():
        print(f"  duplicates — {name}: {count}")

    # A third of the checks reported, so the progress groups several outcomes per district.
    ids = list(checks.order_by("id").values_list("id", flat=True)[: tasks // 3])
    fixture_update(Task.objects.filter(id__in=ids[0::3]), status="completed", outcome="safe_at_home")
    fixture_update(Task.objects.filter(id__in=ids[1::3]), status="completed", outcome="evacuated")
    fixture_update(Task.objects.filter(id__in=ids[2::3]), outcome="not_reached")
    _, token = token_issue(user=supervisor, name="bench-disaster")
    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION=f"Bearer {token}")
    times = []
    for _ in range(6):
        started = time.monotonic()
        response = api.get(f"/api/v1/disaster-events/{event.id}/progress")
        times.append(time.monotonic() - started)
        assert response.status_code == 200, response.content[:300]
    districts_answered = len(response.json()["districts"])
    print(f"\nprogress view (GET …/progress, {tasks:,} checks, {districts_answered} districts): median "
          f"{statistics.median(times[1:]) * 1000:.0f} ms of 5 (first, cold: {times[0] * 1000:.0f} ms)")

    biggest = (EvacuationListEntry.objects.filter(ward=ward, status="listed").values("resident__district_id")
               .annotate(n=Count("id")).order_by("-n").first())
    started = time.monotonic()
    export = disaster_export_for(user=supervisor, event=event, district_id=biggest["resident__district_id"])
    pdf = export_pdf(export.rows, event=event, generated_at=export.generated_at, organization=export.organization)
    print(f"printable PDF of the largest district ({len(export.rows)} residents): {len(pdf):,} bytes in "
          f"{time.monotonic() - started:.1f} s")

    started = time.monotonic()
    disaster_event_close(actor=supervisor, event=event)
    closed = time.monotonic() - started
    now = timezone.now()
    still = EvacuationEntryGroupObjectPermission.objects.filter(basis__startswith="DCBA49-11-3:",
                                                                valid_until__gt=now).count()
    reviews = Task.objects.filter(disaster_event=event, kind=TaskKind.REVIEW_GRANT).count()
    print(f"closed in {closed:.1f} s: entry grants still open {still}, review tasks {reviews:,} for {grants:,} grants")
    print(f"load average at end: {load()}")
    failures = sum(duplicates.values()) + (expected - tasks) + still + (grants - reviews)
    print(f"failures: {failures}")
    return 0 if failures == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
