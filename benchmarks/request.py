"""Benchmark: the whole request against its SQL floor, on a seed_scale city.

For each reader of `benchmarks.access` (a sparse commissioner, the busiest care-centre worker,
the busiest ward caseworker) it times, interleaved, medians of `--repeat`:

- request: `GET /api/v1/cases` (the first page of 50), `GET /api/v1/notes?case=` (the first page
  of the reader's case with the most notes) and `GET /api/v1/referrals/inbox` (the first page of the
  reader's organisation's inbox; the city has no referrals, so `INBOX` of them are made for it in the
  benchmark's transaction from cases of its ward, half of them about cases it cannot see, so the
  free-text rule hides their reasons) through the whole Django stack in this
  process — middleware, token authentication, the membership check, the scoped query, the
  page written as JSON, the access log's rows — as `django.test.Client` sends it (no socket,
  no gunicorn: what a worker spends on the request, less the HTTP parsing);
- floor: the same 50 rows fetched by one hand-written SELECT by primary key (plus one for the
  teams; for the inbox, plus one for which of their cases the reader may see now) and written with
  orjson: what the answer costs at the least.

- least: `GET` of a view that reads nothing (benchmarks/stack_floor.py) by the same client: the part of
  every request that is the stack's own (middleware, DRF, the token and memberships, the access log's flush),
  so `bound`, `(least + floor) / floor`, is the least ratio the route could reach if everything else it does
  (its query through the ORM, the access log's rows, paging) cost nothing.

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
from benchmarks.stack_floor import reads_nothing, routed  # noqa: E402
from benchmarks.timing import medians_ms  # noqa: E402
from cases.selectors import notes_visible_to  # noqa: E402
from cases.selectors import today as local_today  # noqa: E402

PAGE = 50
INBOX = 300

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


REFERRAL_SQL = """
SELECT f.id, f.case_id, c.resident_id, so.id, so.kind, so.name, su.id, su.display_name, ro.id, ro.kind, ro.name,
       ru.id, ru.display_name, sv.id, sv.uuid, sv.name, f.reason, f.urgency, f.categories, f.status,
       f.status_reason, f.response_due_at, f.requested_at, f.answered_at, ab.id, ab.display_name, f.closed_at,
       f.created_at, f.updated_at
FROM cases_referral f
JOIN cases_case c ON c.id = f.case_id
JOIN cases_organization so ON so.id = f.sender_organization_id
JOIN cases_user su ON su.id = f.sender_user_id
JOIN cases_organization ro ON ro.id = f.receiver_organization_id
LEFT JOIN cases_user ru ON ru.id = f.receiver_user_id
LEFT JOIN service_directory_service sv ON sv.id = f.service_id
LEFT JOIN cases_user ab ON ab.id = f.answered_by_id
WHERE f.id = ANY(%s)
ORDER BY f.response_due_at, f.id
"""
READABLE_SQL = """
SELECT DISTINCT g.content_object_id FROM permissions_casegroupobjectpermission g
WHERE g.content_object_id = ANY(%s) AND g.group_id = ANY(%s)
  AND g.permission_id = (SELECT p.id FROM auth_permission p JOIN django_content_type t ON t.id = p.content_type_id
                         WHERE p.codename = 'view_case' AND t.app_label = 'cases')
  AND g.valid_from <= now() AND g.valid_until > now()
"""


def _ref(id_, **fields):
    return None if id_ is None else {"id": id_, **fields}


def _inbox_floor(ids: list[int], groups: list[int], organizations: set[int]) -> bytes:
    with connection.cursor() as cursor:
        cursor.execute(REFERRAL_SQL, [ids])
        rows = cursor.fetchall()
        cursor.execute(READABLE_SQL, [sorted({r[1] for r in rows}), groups])
        readable = {r[0] for r in cursor.fetchall()}
    now = datetime.datetime.now(datetime.UTC)
    page = []
    for r in rows:
        shown = r[1] in readable or r[3] in organizations
        page.append({
            "id": r[0], "case": r[1], "resident": r[2], "sender_organization": _ref(r[3], kind=r[4], name=r[5]),
            "sender_user": _ref(r[6], display_name=r[7]), "receiver_organization": _ref(r[8], kind=r[9], name=r[10]),
            "receiver_user": _ref(r[11], display_name=r[12]),
            "service": None if r[13] is None else {"hsds_id": str(r[14]), "name": r[15]},
            "reason": r[16] if shown else None, "urgency": r[17],
            "categories": orjson.loads(r[18]) if isinstance(r[18], str) else r[18], "status": r[19],
            "status_reason": r[20] if shown else None, "response_due_at": r[21],
            "overdue": bool(r[19] == "requested" and r[21] and r[21] < now), "requested_at": r[22],
            "answered_at": r[23], "answered_by": _ref(r[24], display_name=r[25]), "closed_at": r[26],
            "created_at": r[27], "updated_at": r[28]})
    return orjson.dumps(page)


def _make_inbox(user) -> tuple[list[int], set[int]] | None:
    """`INBOX` referrals to the reader's organisation (rolled back with the run): half about cases it sees,
    half about other cases of its ward, sent by another organisation of the ward. Returns the reader's
    groups and organisations for the floor, or None when it has no organisation to receive them."""
    from cases.models import Case, Membership, Organization, Referral
    from cases.models.audited import seed_create
    from cases.selectors import cases_visible_to
    from permissions.actors import actor_for

    membership = Membership.objects.active().filter(user=user).select_related("organization").first()
    if membership is None or membership.organization.ward_id is None:
        return None
    receiver = membership.organization
    sender = Organization.objects.filter(ward_id=receiver.ward_id).exclude(id=receiver.id).order_by("id").first()
    sender_user = Membership.objects.active().filter(organization=sender).values_list("user_id", flat=True).first()
    if sender is None or sender_user is None:
        return None
    seen = list(cases_visible_to(user=user).values_list("id", flat=True)[:INBOX // 2])
    unseen = list(Case.objects.filter(resident__district__council_area__ward_id=receiver.ward_id)
                  .exclude(id__in=seen).order_by("id").values_list("id", flat=True)[:INBOX - len(seen)])
    now = datetime.datetime.now(datetime.UTC)
    seed_create(Referral, [
        Referral(case_id=case_id, sender_organization=sender, sender_user_id=sender_user,
                 receiver_organization=receiver, reason=f"benchmark referral {n}", categories=["basic"],
                 status="requested" if n % 3 else "accepted", requested_at=now - datetime.timedelta(days=n % 20),
                 response_due_at=now + datetime.timedelta(hours=n - INBOX // 2), status_reason="")
        for n, case_id in enumerate(seen + unseen)
    ])
    actor = actor_for(user=user)
    return sorted(actor.group_ids), {standing.organization_id for standing in actor.standings}


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


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=40)
    args = parser.parse_args()
    if connection.vendor != "postgresql":
        raise SystemExit("run the benchmark on PostgreSQL (DATABASE_URL=postgres://...)")
    settings.DEBUG = False
    print(f"load average before: {os.getloadavg()[0]:.2f}; page {PAGE}; median of {args.repeat}, interleaved")
    print(f"{'reader':<16}{'route':<10}{'rows':>5}{'request ms':>11}{'floor ms':>10}{'ratio':>8}{'least ms':>10}"
          f"{'bound':>7}")
    worst = 0.0
    with transaction.atomic(), routed():
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
            reader = _make_inbox(user) if kind != "commissioner" else None
            if reader is not None:
                routes.append(("inbox", "/api/v1/referrals/inbox", {},
                               lambda ids, reader=reader: _inbox_floor(ids, *reader)))
            for label, path, params, floor_of in routes:
                def request(client=client, path=path, params=params):
                    response = client.get(path, {**params, "page_size": PAGE})
                    assert response.status_code == 200, response.content
                    return response

                shown = json.loads(request().content)["results"]
                floor = lambda ids=[row["id"] for row in shown], floor_of=floor_of: floor_of(ids)  # noqa: E731
                floor_rows = _instants(orjson.loads(floor()))
                if floor_rows != _instants(shown):
                    differ = next(((a["id"], k) for a, b in zip(floor_rows, _instants(shown), strict=False)
                                   for k in a if a[k] != b.get(k)), "the number or order of rows")
                    raise SystemExit(f"{kind} {label}: the floor's rows are not the request's rows ({differ})")
                times = medians_ms({"request": request, "floor": floor, "least": reads_nothing(client)},
                                   args.repeat)
                ratio = times["request"] / times["floor"]
                worst = max(worst, ratio)
                print(f"{kind:<16}{label:<10}{len(shown):>5}{times['request']:>11.2f}{times['floor']:>10.2f}"
                      f"{ratio:>8.2f}{times['least']:>10.2f}{(times['least'] + times['floor']) / times['floor']:>7.2f}")
        transaction.set_rollback(True)
    print(f"load average after: {os.getloadavg()[0]:.2f}")
    print(f"worst whole-request/SQL floor: {worst:.2f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
