"""Benchmark: partner reports on PostgreSQL — what the answer tells, and how fast a burst is routed.

Two measurements, on a ward of the benchmark's own (its own municipality, so no other data matches):

- `--side-channel`: `--reports` reports (1,000) sent through the whole HTTP stack (middleware, token,
  idempotency, access log), alternating an address where one resident lives, one where nobody does and
  one where two do. Every answer must be the same bytes but for the report id (status, headers, body);
  it prints the median answer time of each kind and the run-to-run noise: the spread of the medians of
  the same reports sent in `--runs` separate runs (the largest difference between two runs' medians of
  one kind). The answer is sent before anything reads the register, so the kinds may differ by no more
  than that noise.
- `--burst`: a typhoon morning — `--reports` reports arrive at once (the same mix) while ONE real Celery
  worker (`--pool solo`, urgent/default/bulk, on a private redis-server) routes them, and the benchmark
  sends the sweep every 15 s as beat would (a report whose enqueue failed is routed by it); it prints the time
  until the last report's task exists, reports/s, and duplicates (must be 0: a report with two routings,
  a safety check opened twice for one report).

The benchmark's rows stay in the database: run it on a scratch database and drop it after.

    DATABASE_URL=postgres://... python -m benchmarks.partner_reports --side-channel --burst   # make bench-partner
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import random
import shutil
import signal
import statistics
import string
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import django


def _free_port(preferred: int) -> int:
    import socket

    for port in range(preferred, preferred + 100):
        with socket.socket() as probe:
            try:
                probe.bind(("127.0.0.1", port))
            except OSError:
                continue
            return port
    raise RuntimeError("no free port")


# A private redis-server (started in main) is the broker and the cache of this process and of its worker.
PORT = _free_port(6396)
BROKER = f"redis://127.0.0.1:{PORT}/0"
os.environ.update(REDIS_URL=BROKER, CELERY_BROKER_URL=BROKER)
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "backend.settings.dev")
django.setup()

from django.db import connection  # noqa: E402
from django.db.models import Count, F  # noqa: E402
from django.test import Client  # noqa: E402
from django.utils import timezone  # noqa: E402

from api.tokens import token_issue  # noqa: E402
from cases.models import PartnerAgreement, PartnerReport, PartnerReportRouting, Task  # noqa: E402
from cases.models.choices import OrganizationKind, Role  # noqa: E402
from cases.services.partner_reports import ROUTE_GRACE  # noqa: E402
from tests.factories import (  # noqa: E402
    CouncilAreaFactory,
    DistrictFactory,
    MembershipFactory,
    OrganizationFactory,
    ResidentFactory,
    UserFactory,
    WardFactory,
)

ROOT = Path(__file__).resolve().parent.parent
KINDS = ("matched", "unmatched", "multi")
TIMEOUT = 900.0
BEAT_SECONDS = 15.0  # the partner-reports sweep's beat schedule


class World:
    """A ward of its own: a partner with an agreement, a care centre, a ward section, and residents at the
    addresses the reports name (one at each matched address, two at each multi address)."""

    def __init__(self, reports: int) -> None:
        self.tag = "".join(random.choices(string.ascii_lowercase, k=8))
        self.municipality = f"ベンチ市{self.tag}区"
        self.town = "ベンチ町"
        ward = WardFactory(code=f"bp-{self.tag}", name=f"ベンチ区{self.tag}")
        district = DistrictFactory(council_area=CouncilAreaFactory(ward=ward, code=f"bp-{self.tag}"),
                                   code=f"bp-{self.tag}")
        council = OrganizationFactory(kind=OrganizationKind.COMMISSIONER_COUNCIL, ward=ward)
        care = OrganizationFactory(kind=OrganizationKind.CARE_CENTRE, ward=ward)
        section = OrganizationFactory(kind=OrganizationKind.WARD_SECTION, ward=ward)
        partner = OrganizationFactory(kind=OrganizationKind.PARTNER_BUSINESS, ward=ward)
        for org, role in ((care, Role.WORKER), (section, Role.WORKER), (partner, Role.INTEGRATION)):
            user = UserFactory(username=f"bp-{self.tag}-{org.kind}")
            MembershipFactory(user=user, organization=org, role=role)
            if org is partner:
                self.partner = user
        self.agreement = PartnerAgreement.objects.create(
            code=f"BP-{self.tag}", organization=partner, municipality=self.municipality,
            signals=["newspapers_piling_up", "mail_piling_up"], valid_from=timezone.now() - datetime.timedelta(days=1))
        per_kind = reports // len(KINDS) + 1
        for n in range(per_kind):
            self._resident(district, council, f"1-{n + 1}")
            for _ in range(2):
                self._resident(district, council, f"2-{n + 1}")

    def _resident(self, district, council, block: str) -> None:
        ResidentFactory(district=district, registered_by=council, municipality=self.municipality, town=self.town,
                        chome=None, block_number=block)

    def address(self, kind: str, n: int) -> str:
        """The way a delivery slip writes it: full width, 「の」, no municipality."""
        block = {"matched": 1, "multi": 2, "unmatched": 3}[kind]
        return f"{self.town}{block}の{n + 1}".translate(str.maketrans("0123456789", "０１２３４５６７８９"))

    def client(self) -> Client:
        _, token = token_issue(user=self.partner, name="bench")
        return Client(HTTP_AUTHORIZATION=f"Bearer {token}", HTTP_X_REQUEST_ID="bench-partner-0001")

    def body(self, kind: str, n: int, run: int) -> str:
        return json.dumps({"agreement": self.agreement.code, "reference": f"{run}-{kind}-{n}",
                           "address": self.address(kind, n), "observed_at": timezone.now().isoformat(),
                           "signals": ["newspapers_piling_up"]})


def _normalised(response) -> tuple:
    report_id = response.json()["id"]
    # The id's own digits are the only difference, in the body, the Location and so the Content-Length.
    digits = len(str(report_id))
    headers = sorted((k, v.removesuffix(f"/{report_id}") if k == "Location" else
                      str(int(v) - digits) if k == "Content-Length" else v) for k, v in response.items())
    return response.status_code, tuple(headers), response.content.replace(f'"id":{report_id},'.encode(), b"")


def side_channel(world: World, reports: int, runs: int) -> int:
    client = world.client()
    for n in range(20):  # warm-up: connections, caches, the first compiled queries
        client.post("/api/v1/partner-reports", world.body(KINDS[n % 3], n, -1), content_type="application/json")
    answers: set[tuple] = set()
    medians: dict[str, list[float]] = {kind: [] for kind in KINDS}
    every: dict[str, list[float]] = {kind: [] for kind in KINDS}
    for run in range(runs):
        times: dict[str, list[float]] = {kind: [] for kind in KINDS}
        for i in range(reports):
            kind, n = KINDS[i % 3], i // 3
            body = world.body(kind, n, run)
            start = time.perf_counter()
            response = client.post("/api/v1/partner-reports", body, content_type="application/json")
            times[kind].append((time.perf_counter() - start) * 1000)
            if response.status_code != 202:
                raise SystemExit(f"unexpected answer {response.status_code}: {response.content[:200]!r}")
            answers.add(_normalised(response))
        for kind in KINDS:
            medians[kind].append(statistics.median(times[kind]))
            every[kind].extend(times[kind])
    overall = {kind: statistics.median(every[kind]) for kind in KINDS}
    noise = max(max(m) - min(m) for m in medians.values())
    spread = max(overall.values()) - min(overall.values())
    print(f"\nside channel: {reports:,} reports × {runs} runs, alternating {', '.join(KINDS)} "
          f"(one client, the whole HTTP stack, no worker draining)")
    print(f"distinct answers but for the report id: {len(answers)} (must be 1)")
    for kind in KINDS:
        print(f"  {kind:<9} median {overall[kind]:6.2f} ms   per run: "
              + ", ".join(f"{m:.2f}" for m in medians[kind]))
    print(f"largest difference between kinds' medians: {spread:.3f} ms")
    print(f"run-to-run noise (largest spread of one kind's median across runs): {noise:.3f} ms")
    print(f"difference / noise: {spread / noise:.2f}" if noise else "noise 0")
    return 0 if len(answers) == 1 and spread <= max(noise, 0.05) else 1


def burst(world: World, reports: int, env: dict, temp: Path, processes: list) -> int:
    import redis

    # The side channel's reports were enqueued too (nobody routed them): the burst starts on an empty broker.
    redis.Redis.from_url(BROKER).flushdb()
    log = temp / "worker.log"
    processes.append(subprocess.Popen(
        [sys.executable, "-m", "celery", "-A", "backend", "worker", "--pool", "solo", "-Q", "urgent,default,bulk",
         "-n", "bench-partner@%h", "--loglevel", "WARNING", "--without-gossip", "--without-mingle",
         "--without-heartbeat"],
        cwd=ROOT, env=env, stdout=open(log, "wb"), stderr=subprocess.STDOUT, start_new_session=True))  # noqa: SIM115
    time.sleep(3)
    client = world.client()
    run = 1000
    start = time.monotonic()
    ids = []
    for i in range(reports):
        response = client.post("/api/v1/partner-reports", world.body(KINDS[i % 3], i // 3, run),
                               content_type="application/json")
        ids.append(response.json()["id"])
    received = time.monotonic()
    from backend.celery import app

    swept = received
    while PartnerReportRouting.objects.filter(report_id__in=ids).count() < reports:
        if time.monotonic() - start > TIMEOUT:
            raise SystemExit(f"timed out; worker log: {log.read_text()[-2000:]}")
        if time.monotonic() - swept > BEAT_SECONDS:
            # What beat does: the sweep routes a report whose enqueue failed (the broker slow or down).
            app.send_task("cases.tasks.partner_reports_sweep", queue="urgent")
            swept = time.monotonic()
        time.sleep(0.2)
    by_sweep = PartnerReport.objects.filter(id__in=ids, routed_at__gt=F("received_at") + ROUTE_GRACE).count()
    routed = time.monotonic()
    time.sleep(2)
    routings = PartnerReportRouting.objects.filter(report_id__in=ids)
    duplicates = {
        "reports routed twice": routings.values("report_id").annotate(n=Count("id")).filter(n__gt=1).count(),
        "safety checks opened twice for a report": Task.objects.filter(
            dedupe_key__in=[f"partner_report:{i}:safety_check" for i in ids]).values("dedupe_key")
        .annotate(n=Count("id")).filter(n__gt=1).count(),
        "reports still received": PartnerReport.objects.filter(id__in=ids, state="received").count(),
    }
    outcomes = dict(routings.values_list("outcome").annotate(n=Count("id")))
    joined = routings.filter(joined=True).count()
    version = connection.pg_version // 10000
    print(f"\nburst: {reports:,} reports, one worker process (--pool solo; PostgreSQL {version})")
    print(f"  all answered (202) in {received - start:.1f} s ({reports / (received - start):,.0f} reports/s, "
          "one client)")
    print(f"  last task exists {routed - start:.1f} s after the first report "
          f"({reports / (routed - start):,.0f} reports/s routed end to end; {routed - received:.1f} s after the "
          "last answer)")
    print(f"  outcomes: {outcomes}; joined an open task: {joined}; routed by the sweep (enqueue lost): {by_sweep}")
    for name, count in duplicates.items():
        print(f"  {name}: {count}")
    return 0 if sum(duplicates.values()) == 0 else 1


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--reports", type=int, default=1000)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--side-channel", action="store_true")
    parser.add_argument("--burst", action="store_true")
    args = parser.parse_args()
    if connection.vendor != "postgresql":
        raise SystemExit("Run it on PostgreSQL: set DATABASE_URL=postgres://...")
    if not (args.side_channel or args.burst):
        args.side_channel = args.burst = True
    if not shutil.which("redis-server"):
        raise SystemExit("redis-server not found")
    temp = Path(tempfile.mkdtemp(prefix="bench-partner-"))
    processes: list[subprocess.Popen] = []
    processes.append(subprocess.Popen(
        ["redis-server", "--port", str(PORT), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"],
        stdout=open(temp / "redis.log", "wb"), stderr=subprocess.STDOUT, start_new_session=True))  # noqa: SIM115
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    time.sleep(0.5)
    status = 0
    try:
        print(f"load average before: {os.getloadavg()[0]:.2f}", flush=True)
        if args.side_channel:
            status |= side_channel(World(args.reports), args.reports, args.runs)
        if args.burst:
            status |= burst(World(args.reports), args.reports, env, temp, processes)
        print(f"load average after: {os.getloadavg()[0]:.2f}")
        return status
    finally:
        for proc in reversed(processes):
            try:
                os.killpg(proc.pid, signal.SIGTERM)
                proc.wait(timeout=20)
            except (ProcessLookupError, subprocess.TimeoutExpired):
                os.killpg(proc.pid, signal.SIGKILL)
        shutil.rmtree(temp, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
