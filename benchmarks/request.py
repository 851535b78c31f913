"""Benchmark: the whole request against its SQL floor, on a seed_scale city.

For each reader of `benchmarks.access` (a sparse commissioner, the busiest care-centre worker,
the busiest ward caseworker) it times, interleaved, medians of `--repeat`:

- request: `GET /api/v1/cases` (the first page of 50) and `GET /api/v1/notes?case=` (the first page
  of the reader's case with the most notes) through the whole Django stack in this
  process — middleware, token authentication, the membership check, the scoped query, the
  page written as JSON, the access log's rows — as `django.test.Client` sends it (no socket,
  no gunicorn: what a worker spends on the request, less the HTTP parsing);
- floor: the same 50 rows fetched by one hand-written SELECT by primary key (plus one for the
  teams) and written with orjson: what the answer costs at the least.

The floor's rows are checked to be the request's rows, key for key (times compared as instants),
or the benchmark stops. Every write a request makes (the access log, the token's last use) is
rolled back at the end, so the city is left as it was. It ends with
`worst whole-request/SQL floor: <ratio>`. Run it with `make bench-request` (DATABASE_URL of a
seed_scale PostgreSQL database).
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import statistics
import time
from collections.abc import Callable

import django

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "backend.settings.dev")
django.setup()

import orjson  # noqa: E402
from django.conf import settings  # noqa: E402
from django.db import connection, transaction  # noqa: E402
from django.db.models import Count  # noqa: E402
from django.test import Client  # noqa: E402

from api.tokens import token_issue  # noqa: E402
from benchmarks.access import _reader  # noqa: E402
from cases.selectors import notes_visible_to  # noqa: E402
from cases.selectors import today as local_today  # noqa: E402

PAGE = 50

CASE_SQL = """
SELECT c.id, r.id, r.name_kanji, r.name_kana, d.id, d.code, d.name, r.do_not_contact, c.concern, c.status,
       c.risk_level, o.id, o.kind, o.name, u.id, u.display_name, c.visit_cadence_days, c.next_visit_due,
       c.opened_at, c.closed_at, c.updated_at, c.version
FROM cases_case c
JOIN cases_resident r ON r.id = c.resident_id
JOIN cases_district d ON d.id = r.district_id
JOIN cases_organization o ON o.id = c.lead_organization_id
LEFT JOIN cases_user u ON u.id = c.lead_worker_id
WHERE c.id = ANY(%s)
ORDER BY c.due_order, c.id
"""
TEAM_SQL = """
SELECT t.case_id, o.id, o.kind, o.name FROM cases_caseteammember t
JOIN cases_organization o ON o.id = t.organization_id
WHERE t.case_id = ANY(%s) ORDER BY t.id
"""

NOTE_SQL = """
SELECT n.id, n.resident_id, n.case_id, n.category, n.body, u.id, u.display_name, o.id, o.kind, o.name,
       n.supersedes_id, s.id, n.created_at
FROM cases_note n
JOIN cases_user u ON u.id = n.author_id
JOIN cases_organization o ON o.id = n.author_organization_id
LEFT JOIN cases_note s ON s.supersedes_id = n.id
WHERE n.id = ANY(%s)
ORDER BY n.created_at DESC, n.id DESC
"""


def _notes_floor(ids: list[int]) -> bytes:
    with connection.cursor() as cursor:
        cursor.execute(NOTE_SQL, [ids])
        rows = cursor.fetchall()
    return orjson.dumps([
        {"id": r[0], "resident": r[1], "case": r[2], "category": r[3], "body": r[4],
         "author": {"id": r[5], "display_name": r[6]},
         "author_organization": {"id": r[7], "kind": r[8], "name": r[9]},
         "supersedes": r[10], "superseded_by": r[11], "created_at": r[12]}
        for r in rows
    ])


def _caseload_floor(ids: list[int], today: datetime.date) -> bytes:
    with connection.cursor() as cursor:
        cursor.execute(CASE_SQL, [ids])
        rows = cursor.fetchall()
        cursor.execute(TEAM_SQL, [ids])
        teams: dict[int, list[dict]] = {case_id: [] for case_id in ids}
        for case_id, org_id, kind, name in cursor.fetchall():
            teams[case_id].append({"id": org_id, "kind": kind, "name": name})
    return orjson.dumps([
        {"id": r[0], "resident_detail": {"id": r[1], "name_kanji": r[2], "name_kana": r[3],
                                         "district": {"id": r[4], "code": r[5], "name": r[6]},
                                         "do_not_contact": r[7]},
         "concern": r[8], "status": r[9], "risk_level": r[10],
         "lead_organization": {"id": r[11], "kind": r[12], "name": r[13]},
         "lead_worker_detail": None if r[14] is None else {"id": r[14], "display_name": r[15]},
         "team": teams[r[0]], "visit_cadence_days": r[16], "next_visit_due": r[17],
         "visit_overdue": bool(r[17] and r[17] < today), "opened_at": r[18], "closed_at": r[19],
         "updated_at": r[20], "version": r[21]}
        for r in rows
    ])


def _instants(value):
    """Rows with every ISO date-time turned into an aware datetime, so +09:00 and UTC compare equal."""
    if isinstance(value, dict):
        return {k: _instants(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_instants(v) for v in value]
    if isinstance(value, str) and len(value) > 19 and value[10:11] == "T":
        return datetime.datetime.fromisoformat(value.replace("Z", "+00:00"))
    return value


def _medians_ms(fns: dict[str, Callable[[], object]], repeat: int) -> dict[str, float]:
    for fn in fns.values():
        for _ in range(3):
            fn()
    samples: dict[str, list[float]] = {name: [] for name in fns}
    for _ in range(repeat):
        for name, fn in fns.items():
            start = time.perf_counter()
            fn()
            samples[name].append((time.perf_counter() - start) * 1000)
    return {name: statistics.median(times) for name, times in samples.items()}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=40)
    args = parser.parse_args()
    if connection.vendor != "postgresql":
        raise SystemExit("run the benchmark on PostgreSQL (DATABASE_URL=postgres://...)")
    settings.DEBUG = False
    print(f"load average before: {os.getloadavg()[0]:.2f}; page {PAGE}; median of {args.repeat}, interleaved")
    print(f"{'reader':<16}{'route':<10}{'rows':>5}{'request ms':>11}{'floor ms':>10}{'ratio':>8}")
    worst = 0.0
    with transaction.atomic():
        for kind in ("commissioner", "care_worker", "ward_caseworker"):
            user = _reader(kind)
            if user is None:
                raise SystemExit("no seed_scale city in this database: run make seed-scale first")
            _, token = token_issue(user=user, name="bench")
            client = Client(HTTP_AUTHORIZATION=f"Bearer {token}")

            busiest = (notes_visible_to(user=user).values("case_id").annotate(n=Count("id"))
                       .order_by("-n").first())
            routes = [("caseload", "/api/v1/cases", {}, lambda ids: _caseload_floor(ids, local_today()))]
            if busiest is not None:
                routes.append(("notes", "/api/v1/notes", {"case": busiest["case_id"]}, _notes_floor))
            for label, path, params, floor_of in routes:
                def request(client=client, path=path, params=params):
                    response = client.get(path, {**params, "page_size": PAGE})
                    assert response.status_code == 200, response.content
                    return response

                shown = json.loads(request().content)["results"]
                floor = lambda ids=[row["id"] for row in shown], floor_of=floor_of: floor_of(ids)  # noqa: E731
                if _instants(orjson.loads(floor())) != _instants(shown):
                    raise SystemExit(f"{kind} {label}: the floor's rows are not the request's rows")
                times = _medians_ms({"request": request, "floor": floor}, args.repeat)
                ratio = times["request"] / times["floor"]
                worst = max(worst, ratio)
                print(f"{kind:<16}{label:<10}{len(shown):>5}{times['request']:>11.2f}{times['floor']:>10.2f}"
                      f"{ratio:>8.2f}")
        transaction.set_rollback(True)
    print(f"load average after: {os.getloadavg()[0]:.2f}")
    print(f"worst whole-request/SQL floor: {worst:.2f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
