"""`make bench-load`: the service's throughput on this machine, as deployed, under the city's own people.

For each checkout named by --code (default: this one), on a fresh copy of the seeded city (`createdb -T`,
dropped at the end; the load writes visits):

1. gunicorn under production settings with 4 sync workers (the checkout's docker/gunicorn.conf.py when
   it has one), a real Celery worker (the compose file's command) and beat, Redis db --redis-db;
2. phase 1: benchmarks/locustfile.py, headless, at each of --users (1, 8, 32) for --run-time seconds:
   per-route p50/p95/p99, requests/s, errors, and CPU seconds per request of the web workers, of
   PostgreSQL and of the load generator itself, read from /proc before and after;
3. the floors, when phase 1 ran at 8 users: the same people at 8 users sending one route only (`FLOORS`):
   /healthz, the HTTP stack alone (gunicorn, the middleware, the load generator: no token, no database), and
   /api/v1/me/tokens, the least an API request does (the token, the membership, one query of the caller's tokens, a
   DRF page, the access log's flush with nothing to write). The mix's requests/s at 8 users are printed as a
   share of each: how near the mix runs to what the stack answers at all;
4. phase 2: --backlog cases' next visit moved 30 days into the past (then VACUUM ANALYZE), then eight
   windows of the 8-user mix (--window seconds each), the overdue-visit sweep paused and running by turns
   (`_backlog_phase`): the drop in requests/s of the running windows against the paused ones, and the
   follow-up tasks the sweep opened meanwhile.

Run it under the shared lock (it keeps both cores busy): `flock /tmp/heavy.lock make bench-load`.
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import resource
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


def _postmaster(database: str) -> int:
    """PostgreSQL's main process (the parent of its long-lived checkpointer): the backends that exit are its
    children, so their CPU is counted in its cutime and cstime."""
    checkpointer = _psql(database, "SELECT pid FROM pg_stat_activity WHERE backend_type = 'checkpointer'")
    return int(Path(f"/proc/{checkpointer}/stat").read_text().rsplit(")", 1)[1].split()[1])


def _reaped_seconds(pid: int) -> float:
    """CPU seconds of a process's children that have exited (cutime + cstime)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[13]) + int(fields[14])) / TICKS


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
        self.vacuum = _psql(database, "SHOW autovacuum") != "on"  # see _settle

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


def _settle(stack: Stack) -> None:
    """Before each level: what autovacuum would have done by now, on a server that runs without it.

    The compose file's PostgreSQL runs autovacuum; a server configured as CI's does not, so every dead row
    of the run stays. Each access-log entry is inserted and then sealed (an UPDATE), so the log keeps a dead
    row per entry; with some 300,000 of them, after three minutes of load, the worker's PostgreSQL time (the
    sealer's) grew from 4 to 15-18 s a minute and the API's requests/s fell by a fifth, with or without the
    sweep (2026-12-06, docs/benchmarks.md). Vacuumed between levels, every level starts as autovacuum would
    keep the tables (its own CPU is not counted)."""
    if stack.vacuum:
        started = time.monotonic()
        _psql(stack.database, "VACUUM ANALYZE")
        print(f"  (autovacuum is off on this server: VACUUM ANALYZE took {time.monotonic() - started:.1f} s)",
              flush=True)


def _children_cpu_seconds() -> float:
    """CPU seconds of this process's finished children (locust, once a level ends): the load generator's share
    of the two cores, which the service does not get."""
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def _locust(stack: Stack, people: Path, users: int, seconds: int, prefix: Path, profile: Path | None = None,
            route: str | None = None) -> dict:
    """One level of load (the mix, or GETs of `route` only); returns per-route and total figures, with CPU seconds
    per request. With `profile`, py-spy samples one web worker for the middle of the run (collapsed stacks, for
    reading what is Python-bound).

    PostgreSQL's CPU is its backends of the copy that live through the level plus every PostgreSQL process
    that exited meanwhile (counted in the postmaster's children time): connections live 60 s (CONN_MAX_AGE),
    so most of a level's backends are replaced within it, and reading only the live ones missed about two
    thirds of PostgreSQL's work. Under the shared lock nothing else should use the server."""
    spy = None
    if profile is not None:
        spy = subprocess.Popen([str(Path(sys.executable).parent / "py-spy"), "record",
                                "--pid", str(stack.web_workers()[0]), "--format", "raw",
                                "--duration", str(max(seconds - 10, 5)), "--rate", "200", "--nonblocking",
                                "--output", str(profile)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    web_before = _cpu_seconds(stack.web_workers())
    postmaster = _postmaster(stack.database)
    pg_before, pg_exited_before = _cpu_seconds(_backends(stack.database)), _reaped_seconds(postmaster)
    worker_before = _cpu_seconds(stack.worker_processes())
    load_before = os.getloadavg()[0]
    generator_before = _children_cpu_seconds()
    subprocess.run([sys.executable, "-m", "locust", "-f", str(HERE / "benchmarks" / "locustfile.py"), "--headless",
                    "--users", str(users), "--spawn-rate", str(users), "--run-time", f"{seconds}s",
                    "--host", f"http://127.0.0.1:{stack.port}", "--csv", str(prefix), "--only-summary",
                    "--loglevel", "WARNING", "--stop-timeout", "5", "OneRoute" if route else "Person"],
                   env={**os.environ, "BENCH_LOAD_PEOPLE": str(people), "BENCH_LOAD_ROUTE": route or ""}, check=False,
                   stdout=open(f"{prefix}.out", "w"), stderr=subprocess.STDOUT)
    load_after = os.getloadavg()[0]
    generator = _children_cpu_seconds() - generator_before
    if spy is not None:
        spy.wait(timeout=60)
    web = _used(web_before, _cpu_seconds(stack.web_workers()))
    pg_after = _cpu_seconds(_backends(stack.database))
    exited = sum(seconds for pid, seconds in pg_before.items() if pid not in pg_after)  # counted again when reaped
    pg = _used(pg_before, pg_after) + _reaped_seconds(postmaster) - pg_exited_before - exited
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
            "pg_cpu_ms": 1000 * pg / count, "generator_cpu_ms": 1000 * generator / count, "worker_cpu_s": worker,
            "load": (load_before, load_after)}


def _print_level(label: str, result: dict, routes: bool = True) -> None:
    total = result["total"]
    print(f"\n[{label}] {result['users']} users: {total['rps']:.1f} req/s, {total['requests']} requests, "
          f"{total['errors']} errors, p50/p95/p99 {total['p50']:.0f}/{total['p95']:.0f}/{total['p99']:.0f} ms; "
          f"CPU per request: web {result['web_cpu_ms']:.1f} ms, PostgreSQL {result['pg_cpu_ms']:.1f} ms, "
          f"load generator {result['generator_cpu_ms']:.1f} ms; "
          f"worker CPU {result['worker_cpu_s']:.1f} s; load average {result['load'][0]:.2f} -> "
          f"{result['load'][1]:.2f}", flush=True)
    if not routes:
        return
    print(f"  {'route':<16}{'req/s':>8}{'errors':>8}{'p50':>7}{'p95':>7}{'p99':>7}")
    for name, route in sorted(result["routes"].items()):
        print(f"  {name:<16}{route['rps']:>8.1f}{route['errors']:>8}{route['p50']:>7.0f}{route['p95']:>7.0f}"
              f"{route['p99']:>7.0f}")


# What the mix at 8 users is read against: the HTTP stack alone, and the least an API request does.
FLOORS = ("/healthz", "/api/v1/me/tokens")
FLOOR_USERS = 8


def _floors(stack: Stack, people: Path, args, workdir: Path, mix: dict) -> dict:
    """Each of `FLOORS` alone at `FLOOR_USERS`, and the mix's requests/s at that level as a share of it."""
    floors = {}
    for route in FLOORS:
        _settle(stack)
        result = _locust(stack, people, FLOOR_USERS, args.run_time, workdir / f"floor{route.replace('/', '-')}",
                         route=route)
        _print_level(f"floor: GET {route} only", result, routes=False)
        floors[route] = result
    shares = ", ".join(f"{100 * mix['total']['rps'] / max(floor['total']['rps'], 0.01):.0f} % of {route}'s"
                       for route, floor in floors.items())
    print(f"  the mix at {FLOOR_USERS} users: {mix['total']['rps']:.1f} req/s, {shares}", flush=True)
    return floors


# Pauses the overdue-visit sweep between two windows of phase 2, run by the checkout's `manage.py shell`: its
# waiting chunk (held by the worker until its countdown ends) is revoked, a running chunk is let finish (and its
# next message revoked), then what it set off (its notifications' delivery) is let finish too: the worker has
# nothing running or taken twice in a row. The chain's mark is cleared, so the next start is taken as beat's.
SWEEP_PAUSE = """
import time
from backend.celery import app
from django.core.cache import cache
from cases import tasks
name, revoked, quiet = "cases.tasks.visits_overdue_sweep", set(), 0
for _ in range(120):
    inspect = app.control.inspect(timeout=1.0, limit=1)
    scheduled = [s["request"] for found in (inspect.scheduled() or {}).values() for s in found]
    reserved = [r for found in (inspect.reserved() or {}).values() for r in found]
    active = [a for found in (inspect.active() or {}).values() for a in found]
    waiting = [t["id"] for t in scheduled + reserved if t["name"] == name and t["id"] not in revoked]
    for task_id in waiting:
        app.control.revoke(task_id)
        revoked.add(task_id)
    busy = waiting or active or [t for t in reserved if t["id"] not in revoked]
    quiet = 0 if busy else quiet + 1
    if quiet == 2:
        break
    time.sleep(0.5)
else:
    raise SystemExit("the sweep would not pause")
if hasattr(tasks, "_chain_key"):
    cache.delete(tasks._chain_key(tasks.visits_overdue_sweep, ()))
print("PAUSED", len(revoked))
"""
# Windows of phase 2: P paused, S sweeping, in an order symmetric in time, so a pace of the machine that drifts
# steadily through the phase weighs on both alike.
BACKLOG_WINDOWS = "PSSPPSSP"


def _drop(windows: list[dict]) -> float:
    """Per cent fewer requests/s in the sweeping windows than in the paused ones (as many of each)."""
    rates = [sum(w["total"]["rps"] for w in windows if w["sweeping"] is on) for on in (False, True)]
    return (1 - rates[1] / rates[0]) * 100


def _backlog_phase(stack: Stack, people: Path, args, workdir: Path) -> dict:
    """The drop in requests/s while the overdue-visit sweep works through the backlog, against windows of the
    same length with the sweep paused, taking turns (`BACKLOG_WINDOWS`) on the same data.

    Measured once before and once after (the old way), the drop mixed the sweep's cost with the run's own
    course: on a server without autovacuum the access log's dead rows slowed its sealer more each minute (a
    fifth of the requests/s after about four minutes of load, sweep or not: `_settle`); the reference was read
    before the sweep's first tasks existed, while the sweeping level's readers (the backlog's lead workers)
    saw their task lists and notifications grow; and two 60 s levels of the same load differ by several
    percent. Taking turns puts every paused window next to a sweeping one on the same data, in an order
    that cancels a steady drift (each half, PSSP, on its own too). Each sweeping run starts its chain as
    beat does, with a chunk at once: this overstates the sweep a little, never understates it. The tasks
    opened in paused windows must be 0: the sweep really was paused. Even so the two halves of one run have
    differed by up to 10 points on this machine: read one run's drop as within about 3 points, and run it
    again before comparing two commits."""
    opened_sql = "SELECT count(*) FROM cases_task WHERE kind = 'follow_up_visit'"
    _locust(stack, people, 8, 20, workdir / "backlog-warm-up")  # caches and plans, when phase 1 did not run
    windows, sweeping = [], False
    for position, state in enumerate(BACKLOG_WINDOWS, start=1):
        _settle(stack)
        if state == "S" and not sweeping:
            subprocess.run([stack.python, "-m", "celery", "-A", "backend", "call", "cases.tasks.visits_overdue_sweep",
                            "--queue", "bulk"], cwd=stack.code, env=stack.env, check=True, capture_output=True)
            time.sleep(2)
        elif state == "P" and sweeping:
            stack.manage("shell", "-c", SWEEP_PAUSE)
        sweeping = state == "S"
        before = int(_psql(stack.database, opened_sql))
        result = _locust(stack, people, 8, args.window, workdir / f"backlog-{position}")
        result.update(sweeping=sweeping, opened=int(_psql(stack.database, opened_sql)) - before)
        _print_level(f"phase 2, window {position}: {'sweeping' if sweeping else 'paused'}, "
                     f"{result['opened']} tasks opened", result, routes=False)
        windows.append(result)
    paused = [w for w in windows if not w["sweeping"]]
    swept = [w for w in windows if w["sweeping"]]
    print(f"\n  {'route':<16}{'req/s paused':>14}{'sweeping':>10}{'p50 paused':>12}{'sweeping':>10}")
    for name in sorted(windows[0]["routes"]):
        rps = [sum(w["routes"][name]["rps"] for w in group) / len(group) for group in (paused, swept)]
        p50 = [sum(w["routes"][name]["p50"] for w in group) / len(group) for group in (paused, swept)]
        print(f"  {name:<16}{rps[0]:>14.1f}{rps[1]:>10.1f}{p50[0]:>12.0f}{p50[1]:>10.0f}")
    rps = [sum(w["total"]["rps"] for w in group) / len(group) for group in (paused, swept)]
    drop, halves = _drop(windows), [_drop(windows[:4]), _drop(windows[4:])]
    opened = sum(w["opened"] for w in swept)
    leaked = sum(w["opened"] for w in paused)
    print(f"  backlog of {args.backlog}: {opened} follow-up tasks opened while sweeping ({leaked} while paused); "
          f"throughput {rps[1]:.1f} sweeping vs {rps[0]:.1f} req/s paused: drop {drop:.1f} % "
          f"(each half: {halves[0]:.1f} %, {halves[1]:.1f} %)", flush=True)
    if leaked:
        print("  the sweep opened tasks while paused: the drop above is understated", flush=True)
    return {"windows": windows, "opened": opened, "drop_percent": drop, "halves": halves}


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
            _settle(stack)
            result = _locust(stack, people_file, users, args.run_time, workdir / f"u{users}", profile)
            _print_level("phase 1", result)
            results["levels"].append(result)
        mix = next((level for level in results["levels"] if level["users"] == FLOOR_USERS), None)
        if args.floors and mix is not None:
            results["floors"] = _floors(stack, people_file, args, workdir, mix)
        if args.backlog:
            _psql(database, f"UPDATE cases_case SET next_visit_due = CURRENT_DATE - 30 WHERE id IN ("
                            f"SELECT id FROM cases_case WHERE status <> 'closed' ORDER BY id LIMIT {args.backlog})")
            _psql(database, "VACUUM ANALYZE cases_case")  # not autovacuum's work during the measurement
            results["backlog"] = _backlog_phase(stack, people_file, args, workdir)
    finally:
        stack.stop()
        subprocess.run(["dropdb", *PG, "--if-exists", database], check=False)
    return results


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--code", action="append", type=Path, help="a checkout to measure (repeatable)")
    parser.add_argument("--source", default="city", help="the seeded database to copy")
    parser.add_argument("--database", default="city_load", help="the copy's name (dropped at the end)")
    parser.add_argument("--users", default="1,8,32", type=lambda v: [int(u) for u in v.split(",") if u],
                        help="phase 1's levels ('' skips phase 1)")
    parser.add_argument("--run-time", type=int, default=60, help="seconds per level")
    parser.add_argument("--floors", action=argparse.BooleanOptionalAction, default=True,
                        help=f"after the {FLOOR_USERS}-user level: {', '.join(FLOORS)} alone, at {FLOOR_USERS} users")
    parser.add_argument("--backlog", type=int, default=10000, help="overdue cases for phase 2 (0: skip)")
    parser.add_argument("--window", type=int, default=60, help="seconds per window of phase 2 (8 windows)")
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
        floors = "".join(f"; {route} alone: {floor['total']['rps']:.1f}"
                         for route, floor in result.get("floors", {}).items())
        tail = f"; backlog drop {backlog['drop_percent']:.1f} % ({backlog['opened']} tasks)" if backlog else ""
        print(f"{code}: {levels}{floors}{tail}")
    if len(summary) > 1:
        first, *others = summary.values()
        for code, other in zip(list(summary)[1:], others, strict=True):
            for mine, theirs in zip(first["levels"], other["levels"], strict=True):
                print(f"{mine['users']} users: {mine['total']['rps'] / max(theirs['total']['rps'], 0.01):.2f}x "
                      f"the requests/s of {code}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
