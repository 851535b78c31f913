"""Benchmark: what a visit upload and a consent withdrawal cost, against their floors and the old path.

On a seed_scale city (DATABASE_URL, PostgreSQL), inside one transaction rolled back at the end and
each measured request in a savepoint rolled back at once (so every repetition sees the same history;
the floor's bare INSERTs are not, and stay until the end: they add to the 10x resident's visits),
interleaved, medians of `--repeat`:

- upload: `POST /api/v1/visits` through the whole Django stack in this process (middleware, token,
  membership, idempotency, the visit, its grants and provision rows, the access log), as
  `django.test.Client` sends it, by the district's commissioner, for a resident with the city's
  typical number of visits and for the same resident with 10x as many (the extra visits and their
  grants are added inside the transaction);
- floor: the same visit, its grant rows and its provision rows written by three hand-written
  INSERTs (the rows the policy derives for it, computed beforehand): what the write costs at the least;
- old: the same request with the grants written as before this change (the whole resident re-derived,
  stored rows read through a join, extra rows deleted one by one): the old `permissions/grants.py` and
  `permissions/policy.py` of commit 7983fa2, loaded from git (or a checkout, `--old-from`) under other names and put
  in place of the new writer for that request only;
- no-grants: the same request with no grants written at all (what the rest of the request costs, so
  new - no-grants is the grants' share);
- withdraw: `POST /api/v1/residents/<id>/consents/<id>/withdraw` for the resident with the most
  grant rows under one granted consent, new path and old path;
- the stack alone: a POST of the same body to a view that writes nothing (benchmarks/stack_floor.py), without and
  with an Idempotency-Key, by the same client: what any POST costs here; `(stack + floor) / floor` is the least
  upload/floor a visit upload could reach.

Each client's token is stamped as used before the run, as a token in use is (every request is rolled back, so
an unstamped one would be stamped again by each). For the same reason the connection keeps its prepared statements
across those rollbacks (`_prepared_statements_kept`): psycopg forgets them at any ROLLBACK, and a request that
follows a committed one on a live connection finds them prepared.

It prints the medians, the ratios (upload/floor, old/new) and the load average before and after.
Run it with `make bench-writes`.
"""

from __future__ import annotations

import argparse
import contextlib
import datetime
import os
import subprocess
import sys
import time
import types
import uuid
from collections.abc import Callable
from pathlib import Path

import django
import psycopg._preparing

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "backend.settings.dev")
django.setup()

from django.conf import settings  # noqa: E402
from django.contrib.auth.models import Group  # noqa: E402
from django.db import connection, transaction  # noqa: E402
from django.db.models import Count  # noqa: E402
from django.test import Client  # noqa: E402
from django.utils import timezone  # noqa: E402

import cases.services.consent as consent_service  # noqa: E402
import cases.services.visits as visit_service  # noqa: E402
from api.models import ApiToken  # noqa: E402
from api.tokens import token_issue  # noqa: E402
from benchmarks.stack_floor import routed, writes_nothing  # noqa: E402
from benchmarks.timing import medians_ms  # noqa: E402
from cases.models import Case, Consent, Membership, Resident, User, Visit  # noqa: E402
from cases.models.audited import seed_create  # noqa: E402
from cases.models.choices import Role  # noqa: E402
from cases.models.consent import Decision  # noqa: E402
from permissions.grants import grants_sync_residents  # noqa: E402
from permissions.models import VisitGroupObjectPermission  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
OLD_COMMIT = "7983fa2"  # the code as it was before incremental writes


class _Rollback(Exception):
    pass


@contextlib.contextmanager
def _undone():
    """A savepoint rolled back on leaving: the write is measured, then undone."""
    try:
        with transaction.atomic():
            yield
            raise _Rollback
    except _Rollback:
        pass


def _old_modules(old_from: str | None):
    """The old policy and writer, as `old_policy` and `old_grants` (their own imports rewired): from git at
    OLD_COMMIT, or from a checkout of that commit (`--old-from DIR`)."""
    def source(path: str) -> str:
        if old_from:
            return (Path(old_from) / path).read_text(encoding="utf-8")
        return subprocess.run(["git", "show", f"{OLD_COMMIT}:{path}"], cwd=ROOT, check=True, capture_output=True,
                              text=True).stdout

    policy = types.ModuleType("old_policy")
    sys.modules["old_policy"] = policy  # before running it: dataclasses look their module up
    exec(compile(source("permissions/policy.py"), "old_policy.py", "exec"), policy.__dict__)  # noqa: S102
    grants = types.ModuleType("old_grants")
    sys.modules["old_grants"] = grants
    code = source("permissions/grants.py").replace("from permissions.policy import", "from old_policy import")
    exec(compile(code, "old_grants.py", "exec"), grants.__dict__)  # noqa: S102
    return policy, grants


@contextlib.contextmanager
def _prepared_statements_kept():
    """The connection's prepared statements kept across the benchmark's own rollbacks.

    psycopg takes any ROLLBACK (a savepoint's too) as a sign that a table a prepared statement reads may have been
    dropped or altered, and prepares every statement again at its next use. Each measured write here is undone by a
    rollback, which undoes no DDL; without this, every measured request would prepare again the statements (the
    token look-up, the facts of the visit's resident, the access log's INSERT) that a request served after a
    committed one finds prepared on its connection. `_check_statements_kept` fails the run if this stops working."""
    manager = psycopg._preparing.PrepareManager
    discard = manager._should_discard
    manager._should_discard = lambda self, prep, results: False
    try:
        yield
    finally:
        manager._should_discard = discard


def _check_statements_kept(request: Callable[[], None]) -> None:
    """Rolled-back requests in a row: the statements they prepare must be run again by the next, not prepared again
    (PostgreSQL counts a statement's executions from its preparing, so a statement prepared again counts 1)."""
    def executions() -> dict[str, int]:
        with connection.cursor() as cursor:
            cursor.execute("SELECT statement, generic_plans + custom_plans FROM pg_prepared_statements")
            return dict(cursor.fetchall())

    request()
    request()
    before = executions()
    request()
    after = executions()
    grew = [statement for statement, count in before.items() if after.get(statement, 0) > count]
    if not grew or any(after.get(statement, 0) < count for statement, count in before.items()):
        raise SystemExit("the connection's prepared statements were not kept across a rolled-back request")


@contextlib.contextmanager
def _no_writer():
    """For one request: no grants written at all (what the rest of the request costs)."""
    new_visit = visit_service.grants_sync_new_visit
    visit_service.grants_sync_new_visit = lambda *, visit: None
    try:
        yield
    finally:
        visit_service.grants_sync_new_visit = new_visit


@contextlib.contextmanager
def _old_writer(old_grants):
    """For one request: grants written by the old code (a whole-resident re-derivation)."""
    new_visit, new_consent = visit_service.grants_sync_new_visit, consent_service.grants_sync_residents
    visit_service.grants_sync_new_visit = lambda *, visit: old_grants.grants_sync_residents(
        resident_ids=[visit.case.resident_id])
    consent_service.grants_sync_residents = old_grants.grants_sync_residents
    try:
        yield
    finally:
        visit_service.grants_sync_new_visit, consent_service.grants_sync_residents = new_visit, new_consent


def _typical_resident() -> tuple[Resident, Case, int]:
    """A resident with the city's median number of visits on one case, whose district has a commissioner."""
    counts = list(Visit.objects.values("case_id").annotate(n=Count("id")).order_by("n").values_list("case_id", "n"))
    median = counts[len(counts) // 2][1]
    commissioned = set(Membership.objects.active().filter(role=Role.COMMISSIONER)
                       .values_list("district_assignments__district_id", flat=True))
    for case_id, n in counts[len(counts) // 2:]:
        case = Case.objects.select_related("resident").get(pk=case_id)
        if case.resident.district_id in commissioned and n == median:
            return case.resident, case, n
    raise SystemExit("no resident with a commissioner and the median number of visits")


def _commissioner_of(resident: Resident):
    membership = Membership.objects.active().filter(
        role=Role.COMMISSIONER, district_assignments__district_id=resident.district_id).order_by("id").first()
    return membership.user


def _add_visits(case: Case, user, organization_id: int, count: int) -> None:
    """`count` earlier visits on the case, with their grants as the policy derives them (inside the run)."""
    now = timezone.now()
    seed_create(Visit, [
        Visit(case=case, recorded_by=user, organization_id=organization_id, client_id=uuid.uuid4(),
              occurred_at=now - datetime.timedelta(days=30 + i), uploaded_at=now, channel="home_visit", outcome="met")
        for i in range(count)
    ], batch_size=1000)
    grants_sync_residents(resident_ids=[case.resident_id])


FLOOR_VISIT = """
INSERT INTO cases_visit (case_id, recorded_by_id, organization_id, client_id, occurred_at, uploaded_at, channel,
                         outcome, warning_signs, note)
VALUES (%s, %s, %s, %s, %s, %s, 'home_visit', 'met', '[]', '') RETURNING id
"""
FLOOR_GRANTS = """
INSERT INTO permissions_visitgroupobjectpermission (content_object_id, group_id, permission_id, valid_from,
                                                   valid_until, basis)
SELECT %s, g, p, f, u, b FROM unnest(%s::int[], %s::int[], %s::timestamptz[], %s::timestamptz[], %s::text[])
    AS t(g, p, f, u, b)
"""
FLOOR_PROVISIONS = """
INSERT INTO audit_provisionrecord (provided_at, recorded_at, recipient_id, resident_id, item, category, basis,
                                   basis_code)
SELECT now(), now(), r, %s, 'visit', 'living_situation', b, split_part(b, ':', 1)
FROM unnest(%s::int[], %s::text[]) AS t(r, b)
ON CONFLICT DO NOTHING
"""


def _floor(case: Case, user, organization_id: int, template_visit_id: int) -> Callable[[], None]:
    """The visit, its grant rows and its provision rows by hand-written SQL (the rows computed beforehand)."""
    rows = list(VisitGroupObjectPermission.objects.filter(content_object_id=template_visit_id).values_list(
        "group_id", "permission_id", "valid_from", "valid_until", "basis"))
    columns = [list(column) for column in zip(*rows, strict=True)]
    shared = [(group_id, basis) for group_id, _, _, _, basis in rows if basis.split(":")[0] != "author"]
    recipients = {g: org or council for g, org, council in Group.objects.filter(
        id__in=[g for g, _ in shared]).values_list("id", "organization__id", "district__council_area__council_id")}
    provision_recipients = [recipients[g] for g, _ in shared if recipients.get(g)]
    provision_bases = [b for g, b in shared if recipients.get(g)]

    def write():
        now = timezone.now()
        with connection.cursor() as cursor:
            cursor.execute(FLOOR_VISIT, [case.id, user.id, organization_id, uuid.uuid4(),
                                         now - datetime.timedelta(minutes=30), now])
            visit_id = cursor.fetchone()[0]
            cursor.execute(FLOOR_GRANTS, [visit_id, *columns])
            cursor.execute(FLOOR_PROVISIONS, [case.resident_id, provision_recipients, provision_bases])
    return write


def _upload_body(case: Case) -> dict:
    return {"case": case.id, "client_id": str(uuid.uuid4()), "channel": "home_visit", "outcome": "met",
            "occurred_at": (timezone.now() - datetime.timedelta(minutes=30)).isoformat()}


def _upload(client: Client, case: Case, *, old=None, bare: bool = False) -> Callable[[], None]:
    writer = (lambda: _old_writer(old)) if old else _no_writer if bare else contextlib.nullcontext

    def request():
        with _undone(), writer():
            response = client.post("/api/v1/visits", _upload_body(case), content_type="application/json")
            assert response.status_code == 201, response.content
    return request


def _heaviest_consent() -> tuple[Consent, int]:
    """The granted, unwithdrawn consent under which one resident's records hold the most visit grants."""
    row = (VisitGroupObjectPermission.objects.filter(basis__startswith="consent:").values("basis")
           .annotate(n=Count("id")).order_by("-n").first())
    consent = Consent.objects.get(pk=int(row["basis"].split(":")[1]))
    if consent.decision != Decision.GRANTED or consent.withdrawn_at is not None:
        raise SystemExit("the heaviest consent is not withdrawable")
    return consent, row["n"]


def _withdraw(client: Client, consent: Consent, *, old=None) -> Callable[[], None]:
    def request():
        with _undone(), (_old_writer(old) if old else contextlib.nullcontext()):
            response = client.post(f"/api/v1/residents/{consent.resident_id}/consents/{consent.id}/withdraw",
                                   {"grantor": "self"}, content_type="application/json")
            assert response.status_code == 200, response.content
    return request


def _client_of(user: User) -> Client:
    """A client with a fresh token of the user's, stamped as used: a request stamps its token at most every 15
    minutes, and every measured request here is rolled back, so an unstamped token would be stamped (one more
    UPDATE) by each of them, which no request of a token in use does."""
    token, plaintext = token_issue(user=user, name="bench")
    ApiToken.objects.filter(pk=token.pk).update(last_used_at=timezone.now())
    return Client(HTTP_AUTHORIZATION=f"Bearer {plaintext}")


def _keeper_client(consent: Consent) -> Client:
    """A client of someone who may withdraw the consent (a keeper of the register: tried in order)."""
    resident = consent.resident
    candidates = list(Membership.objects.active().filter(
        role=Role.COMMISSIONER, district_assignments__district_id=resident.district_id).values_list("user", flat=True))
    candidates += list(Membership.objects.active().filter(
        organization_id=consent.taken_by_organization_id, role__in=[Role.SUPERVISOR, Role.WORKER])
        .values_list("user", flat=True))
    candidates += list(Membership.objects.active().filter(
        organization__ward_id=resident.district.council_area.ward_id, role=Role.PRIVACY_OFFICER)
        .values_list("user", flat=True))
    for user_id in dict.fromkeys(candidates):
        client = _client_of(User.objects.get(pk=user_id))
        with _undone():
            status = client.post(f"/api/v1/residents/{consent.resident_id}/consents/{consent.id}/withdraw",
                                 {"grantor": "self"}, content_type="application/json").status_code
        if status == 200:
            return client
    raise SystemExit("nobody may withdraw the heaviest consent")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=30)
    parser.add_argument("--old-from", help="a checkout of the old commit to load the old writer from (default: git)")
    parser.add_argument("--analyze", choices=("auto", "always", "never"), default="auto",
                        help="ANALYZE inside the run's transaction (auto: when the city has no planner statistics, "
                             "as after seeding with autovacuum off)")
    args = parser.parse_args()
    if connection.vendor != "postgresql":
        raise SystemExit("run the benchmark on PostgreSQL (DATABASE_URL=postgres://...)")
    settings.DEBUG = False
    _, old = _old_modules(args.old_from)
    commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True,
                            text=True).stdout.strip()
    print(f"commit {commit} against {OLD_COMMIT}; load average before: {os.getloadavg()[0]:.2f}; "
          f"median of {args.repeat}, interleaved")
    results: dict[str, dict[str, float]] = {}
    with transaction.atomic(), routed(), _prepared_statements_kept():
        with connection.cursor() as cursor:
            cursor.execute("SELECT reltuples FROM pg_class WHERE relname = 'permissions_visitgroupobjectpermission'")
            unanalysed = cursor.fetchone()[0] < 0
        if args.analyze == "always" or (args.analyze == "auto" and unanalysed):
            # Planner statistics for this run only: ANALYZE is transactional, rolled back with the rest.
            started = time.perf_counter()
            with connection.cursor() as cursor:
                cursor.execute("ANALYZE")
            print(f"ANALYZE inside the run's transaction: {time.perf_counter() - started:.1f} s")
        consent, rows = _heaviest_consent()
        resident, case, typical = _typical_resident()
        user = _commissioner_of(resident)
        organization_id = user.memberships.filter(role=Role.COMMISSIONER).values_list(
            "organization_id", flat=True).first()
        client = _client_of(user)
        _check_statements_kept(_upload(client, case))
        print(f"{'resident':<22}{'visits':>7}{'new ms':>9}{'old ms':>9}{'no-grants ms':>13}{'floor ms':>10}"
              f"{'new/floor':>10}{'old/new':>9}")
        for label, extra in (("typical", 0), ("10x the visits", 9 * typical)):
            if extra:
                _add_visits(case, user, organization_id, extra)
            visits = Visit.objects.filter(case__resident=resident).count()
            template = Visit.objects.filter(case=case, organization_id=organization_id).order_by("-id").first()
            measured = {"new": _upload(client, case), "old": _upload(client, case, old=old),
                        "bare": _upload(client, case, bare=True),
                        "floor": _floor(case, user, organization_id, template.id)}
            if not extra:
                measured["least"] = writes_nothing(client, _upload_body(case), keyed=False)
                measured["least keyed"] = writes_nothing(client, _upload_body(case), keyed=True)
            times = medians_ms(measured, args.repeat)
            results[label] = times
            print(f"{label:<22}{visits:>7}{times['new']:>9.2f}{times['old']:>9.2f}{times['bare']:>13.2f}"
                  f"{times['floor']:>10.2f}{times['new'] / times['floor']:>10.2f}{times['old'] / times['new']:>9.2f}")
        least = results["typical"]
        print(f"{'the stack alone':<22}{'':>7}{least['least']:>9.2f}{'':>9}{'':>13}{'':>10}"
              f"{(least['least'] + least['floor']) / least['floor']:>10.2f}   (a POST of the same body that writes "
              f"nothing; {least['least keyed']:.2f} ms with an Idempotency-Key)")
        keeper = _keeper_client(consent)
        visits = Visit.objects.filter(case__resident_id=consent.resident_id).count()
        times = medians_ms({"new": _withdraw(keeper, consent), "old": _withdraw(keeper, consent, old=old)},
                            args.repeat)
        print(f"{'withdraw (heaviest)':<22}{visits:>7}{times['new']:>9.2f}{times['old']:>9.2f}{'':>13}{'':>10}{'':>10}"
              f"{times['old'] / times['new']:>9.2f}   ({rows} visit grants under consent:{consent.id})")
        transaction.set_rollback(True)
    typical_new, heavy_new = results["typical"]["new"], results["10x the visits"]["new"]
    print(f"load average after: {os.getloadavg()[0]:.2f}")
    print(f"upload 10x/typical: {heavy_new / typical_new:.2f}; worst upload/floor: "
          f"{max(r['new'] / r['floor'] for r in results.values()):.2f}; grants' share of the upload (new - no-grants): "
          + ", ".join(f"{label} {r['new'] - r['bare']:.1f} ms (old {r['old'] - r['bare']:.1f})"
                      for label, r in results.items())
          + f"; withdrawal: {times['new']:.1f} ms")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
