"""`make bench-load`: the service's throughput on this machine, as deployed, under the city's own people.

For each checkout named by --code (default: this one), on a fresh copy of the seeded city (`createdb -T`,
dropped at the end; the load writes visits):

1. gunicorn under production settings with 4 sync workers (the checkout's docker/gunicorn.conf.py when
   it has one), a real Celery worker (the compose file's command) and beat, Redis db --redis-db;
2. phase 1: benchmarks/locustfile.py, headless, at each of --users (1, 8, 32) for --run-time seconds:
   per-route p50/p95/p99, requests/s, errors, and CPU seconds per request of the web workers and of
   PostgreSQL (the database's backends), read from /proc/<pid>/stat before and after;
3. phase 2: --backlog cases' next visit moved 30 days into the past (then VACUUM ANALYZE), the 8-user mix
   as a reference, then the overdue-visit sweep started as beat starts it and the same mix again: the drop
   in requests/s against the reference, and the follow-up tasks the sweep opened meanwhile.

Run it under the shared lock (it keeps both cores busy): `flock /tmp/heavy.lock make bench-load`.
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import secrets
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent.parent
PG = ["-h", "127.0.0.1", "-U", "postgres"]
TICKS = os.sysconf("SC_CLK_TCK")

# Readers of the city, with fresh tokens, and the cases each sees (its first page): run by the checkout's own
# `manage.py shell`, so only what both the code before and after has is used.
PREPARE = """
import json
from api.tokens import token_issue
from cases.models import Membership
from cases.models.choices import OrganizationKind, Role
from cases.selectors import cases_visible_to
people = []
def add(kind, memberships):
    for m in memberships:
        ids = list(cases_visible_to(user=m.user).values_list("id", flat=True)[:20])
        if ids:
            people.append({"kind": kind, "token": token_issue(user=m.user, name="bench-load")[1], "cases": ids})
active = Membership.objects.active().select_related("user").order_by("id")
add("commissioner", active.filter(role=Role.COMMISSIONER)[:24])
add("care_worker", active.filter(role=Role.WORKER, organization__kind=OrganizationKind.CARE_CENTRE)[:12])
add("ward_caseworker", active.filter(role=Role.WORKER, organization__kind=OrganizationKind.WARD_SECTION)[:8])
order = {"commissioner": [], "care_worker": [], "ward_caseworker": []}
for p in people:
    order[p["kind"]].append(p)
mixed = [p for trio in __import__("itertools").zip_longest(*order.values()) for p in trio if p]
print("PEOPLE" + json.dumps(mixed))
"""


def _psql(database: str, sql: str) -> str:
    return subprocess.run(["psql", *PG, "-d", database, "-Atc", sql], check=True, capture_output=True,
                          text=True).stdout.strip()


def _cpu_seconds(pids: list[int]) -> dict[int, float]:
    found = {}
    for pid in pids:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except (FileNotFoundError, ProcessLookupError):
            continue
        found[pid] = (int(fields[11]) + int(fields[12])) / TICKS  # utime + stime
    return found


def _children(pid: int) -> list[int]:
    out = subprocess.run(["pgrep", "-P", str(pid)], capture_output=True, text=True).stdout.split()
    return [int(p) for p in out]


def _backends(database: str) -> list[int]:
    return [int(p) for p in _psql(database, f"SELECT pid FROM pg_stat_activity WHERE datname = '{database}'")
            .split()]


def _used(before: dict[int, float], after: dict[int, float]) -> float:
    return sum(after[pid] - before.get(pid, 0.0) for pid in after)


class Stack:
    """gunicorn, a Celery worker and beat for one checkout on one database."""

    def __init__(self, code: Path, database: str, redis_db: int, port: int, workdir: Path) -> None:
        self.code, self.database, self.port, self.workdir = code, database, port, workdir
        self.env = {
            **os.environ, "DJANGO_SETTINGS_MODULE": "backend.settings.production",
            "SECRET_KEY": secrets.token_urlsafe(48), "DATABASE_URL": f"postgres://postgres@127.0.0.1:5432/{database}",
            "REDIS_URL": f"redis://127.0.0.1:6379/{redis_db}", "ALLOWED_HOSTS": "127.0.0.1,localhost",
            "PYTHONPATH": str(code),
        }
        self.python = str(code / ".venv" / "bin" / "python")
        self.processes: list[subprocess.Popen] = []

    def manage(self, *args: str) -> str:
        return subprocess.run([self.python, "manage.py", *args], cwd=self.code, env=self.env, check=True,
                              capture_output=True, text=True).stdout

    def _start(self, args: list[str], log: str) -> subprocess.Popen:
        process = subprocess.Popen(args, cwd=self.code, env=self.env, stdout=open(self.workdir / log, "w"),
                                   stderr=subprocess.STDOUT, start_new_session=True)
        self.processes.append(process)
        return process

    def start(self) -> None:
        config = self.code / "docker" / "gunicorn.conf.py"
        web = [self.python, "-m", "gunicorn", "backend.wsgi:application", "--bind", f"127.0.0.1:{self.port}",
               "--workers", "4", "--worker-class", "sync", "--error-logfile", "-"]
        if config.exists():
            web[3:3] = ["--config", str(config)]
        self.web = self._start(web, "gunicorn.log")
        celery = [self.python, "-m", "celery", "-A", "backend"]
        self.worker = self._start([*celery, "worker", "-Q", "urgent,default,bulk", "--prefetch-multiplier=1",
                                   "-O", "fair", "--concurrency=2", "--loglevel", "WARNING"], "worker.log")
        self._start([*celery, "beat", "--schedule", str(self.workdir / "beat-schedule"), "--loglevel", "WARNING"],
                    "beat.log")
        import urllib.request

        for _ in range(120):
            try:
                urllib.request.urlopen(urllib.request.Request(
                    f"http://127.0.0.1:{self.port}/healthz", headers={"X-Forwarded-Proto": "https"}), timeout=2)
                break
            except Exception:
                time.sleep(0.5)
        else:
            raise SystemExit(f"gunicorn did not answer; see {self.workdir / 'gunicorn.log'}")
        time.sleep(3)  # let the worker connect

    def web_workers(self) -> list[int]:
        return _children(self.web.pid)

    def worker_processes(self) -> list[int]:
        return [self.worker.pid, *_children(self.worker.pid)]

    def stop(self) -> None:
        for process in self.processes:
            try:
                os.killpg(process.pid, signal.SIGTERM)
            except ProcessLookupError:
                pass
        for process in self.processes:
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)


def _locust(stack: Stack, people: Path, users: int, seconds: int, prefix: Path, profile: Path | None = None) -> dict:
    """One level of load; returns per-route and total figures, with CPU seconds per request. With `profile`,
    py-spy samples one web worker for the middle of the run (collapsed stacks, for reading what is Python-bound)."""
    spy = None
    if profile is not None:
        spy = subprocess.Popen([str(Path(sys.executable).parent / "py-spy"), "record",
                                "--pid", str(stack.web_workers()[0]), "--format", "raw",
                                "--duration", str(max(seconds - 10, 5)), "--rate", "200", "--nonblocking",
                                "--output", str(profile)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    web_before = _cpu_seconds(stack.web_workers())
    pg_before = _cpu_seconds(_backends(stack.database))
    worker_before = _cpu_seconds(stack.worker_processes())
    load_before = os.getloadavg()[0]
    subprocess.run([sys.executable, "-m", "locust", "-f", str(HERE / "benchmarks" / "locustfile.py"), "--headless",
                    "--users", str(users), "--spawn-rate", str(users), "--run-time", f"{seconds}s",
                    "--host", f"http://127.0.0.1:{stack.port}", "--csv", str(prefix), "--only-summary",
                    "--loglevel", "WARNING", "--stop-timeout", "5"],
                   env={**os.environ, "BENCH_LOAD_PEOPLE": str(people)}, check=False,
                   stdout=open(f"{prefix}.out", "w"), stderr=subprocess.STDOUT)
    load_after = os.getloadavg()[0]
    if spy is not None:
        spy.wait(timeout=60)
    web = _used(web_before, _cpu_seconds(stack.web_workers()))
    pg = _used(pg_before, _cpu_seconds(_backends(stack.database)))
    worker = _used(worker_before, _cpu_seconds(stack.worker_processes()))
    routes = {}
    with open(f"{prefix}_stats.csv") as stats:
        for row in csv.DictReader(stats):
            routes[row["Name"]] = {
                "requests": int(row["Request Count"]), "errors": int(row["Failure Count"]),
                "rps": float(row["Requests/s"]), "p50": float(row["50%"] or 0), "p95": float(row["95%"] or 0),
                "p99": float(row["99%"] or 0),
            }
    total = routes.pop("Aggregated")
    count = max(total["requests"], 1)
    return {"users": users, "routes": routes, "total": total, "web_cpu_ms": 1000 * web / count,
            "pg_cpu_ms": 1000 * pg / count, "worker_cpu_s": worker, "load": (load_before, load_after)}


def _print_level(label: str, result: dict) -> None:
    total = result["total"]
    print(f"\n[{label}] {result['users']} users: {total['rps']:.1f} req/s, {total['requests']} requests, "
          f"{total['errors']} errors, p50/p95/p99 {total['p50']:.0f}/{total['p95']:.0f}/{total['p99']:.0f} ms; "
          f"CPU per request: web {result['web_cpu_ms']:.1f} ms, PostgreSQL {result['pg_cpu_ms']:.1f} ms; "
          f"worker CPU {result['worker_cpu_s']:.1f} s; load average {result['load'][0]:.2f} -> "
          f"{result['load'][1]:.2f}")
    print(f"  {'route':<16}{'req/s':>8}{'errors':>8}{'p50':>7}{'p95':>7}{'p99':>7}")
    for name, route in sorted(result["routes"].items()):
        print(f"  {name:<16}{route['rps']:>8.1f}{route['errors']:>8}{route['p50']:>7.0f}{route['p95']:>7.0f}"
              f"{route['p99']:>7.0f}")


def _run_code(code: Path, args, workdir: Path) -> dict:
    database = args.database
    commit = subprocess.run(["git", "-C", str(code), "rev-parse", "--short", "HEAD"], capture_output=True,
                            text=True).stdout.strip()
    print(f"\n=== {code} at {commit} ===", flush=True)
    subprocess.run(["dropdb", *PG, "--if-exists", database], check=True)
    started = time.monotonic()
    subprocess.run(["createdb", *PG, "-T", args.source, database], check=True)
    print(f"copy of {args.source} made in {time.monotonic() - started:.0f} s", flush=True)
    stack = Stack(code, database, args.redis_db, args.port, workdir)
    results = {"levels": []}
    try:
        stack.manage("migrate", "--noinput")
        shell = stack.manage("shell", "-c", PREPARE)
        people = json.loads(shell[shell.index("PEOPLE") + len("PEOPLE"):])
        kinds = {kind: sum(p["kind"] == kind for p in people) for kind in ("commissioner", "care_worker",
                                                                          "ward_caseworker")}
        print(f"readers: {kinds}", flush=True)
        people_file = workdir / "people.json"
        people_file.write_text(json.dumps(people))
        stack.start()
        for users in args.users:
            profile = args.profile / f"{code.name}-u{users}.txt" if args.profile and users == 8 else None
            result = _locust(stack, people_file, users, args.run_time, workdir / f"u{users}", profile)
            _print_level("phase 1", result)
            results["levels"].append(result)
        if args.backlog:
            _psql(database, f"UPDATE cases_case SET next_visit_due = CURRENT_DATE - 30 WHERE id IN ("
                            f"SELECT id FROM cases_case WHERE status <> 'closed' ORDER BY id LIMIT {args.backlog})")
            _psql(database, "VACUUM ANALYZE cases_case")  # not autovacuum's work during the measurement
            reference = _locust(stack, people_file, 8, args.run_time, workdir / "reference")
            _print_level("phase 2: reference, the backlog waiting", reference)
            opened_sql = "SELECT count(*) FROM cases_task WHERE kind = 'follow_up_visit'"
            before = int(_psql(database, opened_sql))
            subprocess.run([stack.python, "-m", "celery", "-A", "backend", "call", "cases.tasks.visits_overdue_sweep",
                            "--queue", "bulk"], cwd=code, env=stack.env, check=True, capture_output=True)
            time.sleep(2)
            result = _locust(stack, people_file, 8, args.run_time, workdir / "backlog")
            _print_level("phase 2: overdue backlog sweeping", result)
            opened = int(_psql(database, opened_sql)) - before
            before_rps = reference["total"]["rps"]
            drop = (1 - result["total"]["rps"] / before_rps) * 100
            print(f"  backlog of {args.backlog}: {opened} follow-up tasks opened during the run; "
                  f"throughput {result['total']['rps']:.1f} vs {before_rps:.1f} req/s just before: "
                  f"drop {drop:.1f} %", flush=True)
            results["backlog"] = {**result, "opened": opened, "drop_percent": drop}
    finally:
        stack.stop()
        subprocess.run(["dropdb", *PG, "--if-exists", database], check=False)
    return results


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--code", action="append", type=Path, help="a checkout to measure (repeatable)")
    parser.add_argument("--source", default="city", help="the seeded database to copy")
    parser.add_argument("--database", default="city_load", help="the copy's name (dropped at the end)")
    parser.add_argument("--users", default="1,8,32", type=lambda v: [int(u) for u in v.split(",")])
    parser.add_argument("--run-time", type=int, default=60, help="seconds per level")
    parser.add_argument("--backlog", type=int, default=10000, help="overdue cases for phase 2 (0: skip)")
    parser.add_argument("--redis-db", type=int, default=8)
    parser.add_argument("--port", type=int, default=8765)
    parser.add_argument("--profile", type=Path, help="a folder for py-spy's samples of one web worker at 8 users")
    args = parser.parse_args()
    codes = args.code or [HERE]
    if args.profile:
        args.profile.mkdir(parents=True, exist_ok=True)
    print(f"load average at start: {os.getloadavg()}; {os.cpu_count()} CPUs")
    summary = {}
    for code in codes:
        with tempfile.TemporaryDirectory(prefix="bench-load-") as workdir:
            summary[str(code)] = _run_code(code.resolve(), args, Path(workdir))
    print("\n=== summary: requests/s at each level ===")
    for code, result in summary.items():
        levels = ", ".join(f"{r['users']}: {r['total']['rps']:.1f} (p99 {r['total']['p99']:.0f} ms, "
                           f"{r['total']['errors']} errors)" for r in result["levels"])
        backlog = result.get("backlog")
        tail = f"; backlog drop {backlog['drop_percent']:.1f} % ({backlog['opened']} tasks)" if backlog else ""
        print(f"{code}: {levels}{tail}")
    if len(summary) > 1:
        first, *others = summary.values()
        for code, other in zip(list(summary)[1:], others, strict=True):
            for mine, theirs in zip(first["levels"], other["levels"], strict=True):
                print(f"{mine['users']} users: {mine['total']['rps'] / max(theirs['total']['rps'], 0.01):.2f}x "
                      f"the requests/s of {code}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
