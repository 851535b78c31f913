"""Benchmark: what the audit path costs a request — the caseload list and a visit upload, with and without it.

With the audit path a request notes what it serialised, looks up the grant bases
(one query per kind of record), writes one INSERT of access-log rows, and a write
also inserts its change entry and any provision records. Without it
(`audit.switch.audit_suspended()`, used only here) none of that happens. Both run
through the whole Django stack (middleware, token authentication, DRF,
serializers) with the test client, interleaved, and the medians are compared.

It builds its own data (a ward of its own) and leaves it there, with the access-log
rows it wrote (the log cannot be deleted): run it against a scratch PostgreSQL
database with the migrations applied:

    DATABASE_URL=postgres://... python -m benchmarks.audit_overhead [--residents 200] [--repeat 200]

It also times the sealer (chaining what the runs wrote), which runs in the
background every 30 seconds and is not on any request's path.
"""

from __future__ import annotations

import argparse
import os
import statistics
import time
import uuid
from collections.abc import Callable

import django

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "backend.settings.dev")
django.setup()

from django.conf import settings  # noqa: E402
from django.db import connection  # noqa: E402
from django.test import Client  # noqa: E402
from django.utils import timezone  # noqa: E402

from api.tokens import token_issue  # noqa: E402
from audit.chain import access_log_seal  # noqa: E402
from audit.models import AccessLogEntry  # noqa: E402
from audit.switch import audit_suspended  # noqa: E402
from cases import services  # noqa: E402
from cases.models.choices import OrganizationKind, Role  # noqa: E402
from tests.factories import (  # noqa: E402
    CaseFactory,
    CouncilAreaFactory,
    DistrictFactory,
    MembershipFactory,
    OrganizationFactory,
    ResidentFactory,
    UserFactory,
    WardFactory,
)


def _world(residents: int):
    ward = WardFactory(code=f"bench-{uuid.uuid4().hex[:6]}", name="ベンチ区")
    run = uuid.uuid4().hex[:8]  # the data of earlier runs stays: every code is new
    district = DistrictFactory(council_area=CouncilAreaFactory(ward=ward, code=f"area-{run}"), code=f"d-{run}")
    council = OrganizationFactory(kind=OrganizationKind.COMMISSIONER_COUNCIL, ward=ward)
    care = OrganizationFactory(kind=OrganizationKind.CARE_CENTRE, ward=ward)
    commissioner = UserFactory(username=f"bench-c-{uuid.uuid4().hex[:6]}")
    MembershipFactory(user=commissioner, organization=council, role=Role.COMMISSIONER, districts=[district])
    worker = UserFactory(username=f"bench-w-{uuid.uuid4().hex[:6]}")
    MembershipFactory(user=worker, organization=care, role=Role.WORKER)
    cases = []
    for _ in range(residents):
        resident = ResidentFactory(district=district, registered_by=council)
        cases.append(CaseFactory(resident=resident, lead_organization=care, lead_worker=worker, team=[care]))
        services.consent_record(actor=commissioner, resident=resident, decision="granted", grantor="self",
                                recipient_organizations=[care], categories=["basic", "health", "living_situation"],
                                purposes=["watch_over"], method="oral")
    return worker, commissioner, cases


def _city_readers():
    """The access benchmark's readers on the seed_scale data: the busiest care-centre worker, and a
    commissioner with the open cases of households that may be visited."""
    from benchmarks.access import _reader
    from cases.selectors import cases_visible_to

    worker, commissioner = _reader("care_worker"), _reader("commissioner")
    if worker is None or commissioner is None:
        raise SystemExit("no seed_scale city in this database: run make seed-scale first")
    cases = list(cases_visible_to(user=commissioner).exclude(status="closed")
                 .filter(resident__do_not_contact=False)[:50])
    return worker, commissioner, cases


def _client(user) -> Client:
    _, token = token_issue(user=user, name="bench")
    return Client(HTTP_AUTHORIZATION=f"Bearer {token}")


def _time(fn: Callable[[], object]) -> float:
    start = time.perf_counter()
    fn()
    return (time.perf_counter() - start) * 1000


def _compare(label: str, fn: Callable[[], object], repeat: int) -> tuple[float, float]:
    for _ in range(5):  # warm caches, plans and the connection
        fn()
        with audit_suspended():
            fn()
    with_audit, without = [], []
    for _ in range(repeat):
        with_audit.append(_time(fn))
        with audit_suspended():
            without.append(_time(fn))
    on, off = statistics.median(with_audit), statistics.median(without)
    print(f"{label:<28}{off:>12.2f}{on:>12.2f}{on / off:>9.3f}")
    return on, off


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--residents", type=int, default=200)
    parser.add_argument("--repeat", type=int, default=200)
    parser.add_argument("--seeded", action="store_true",
                        help="Use the seed_scale city in this database (its busiest care-centre worker and a "
                             "commissioner) instead of building a ward of its own.")
    args = parser.parse_args()
    if connection.vendor != "postgresql":
        raise SystemExit("run the benchmark on PostgreSQL (DATABASE_URL=postgres://...)")
    settings.DEBUG = False  # the dev settings' query log would weigh on both sides
    if args.seeded:
        worker, commissioner, cases = _city_readers()
    else:
        with audit_suspended():
            worker, commissioner, cases = _world(args.residents)
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE")
    reader, recorder = _client(worker), _client(commissioner)
    case_ids = [c.id for c in cases]

    def caseload():
        response = reader.get("/api/v1/cases", {"page_size": 50})
        assert response.status_code == 200 and len(response.json()["results"]) == 50

    position = iter(range(10**9))

    def upload():
        case_id = case_ids[next(position) % len(case_ids)]
        response = recorder.post("/api/v1/visits", {
            "case": case_id, "client_id": str(uuid.uuid4()), "channel": "home_visit", "outcome": "met",
            "occurred_at": timezone.now().isoformat(), "note": "お元気そうでした",
        }, content_type="application/json")
        assert response.status_code == 201, response.content

    before = AccessLogEntry.objects.count()
    data = ("the seed_scale city: the busiest care-centre worker's caseload" if args.seeded
            else f"{args.residents} residents and cases in one caseload")
    print(f"data: {data}; median of {args.repeat}, interleaved; every request commits (autocommit), as in production")
    print(f"{'request':<28}{'without ms':>12}{'with ms':>12}{'ratio':>9}")
    ratios = []
    for label, fn in (("caseload list (50 rows)", caseload), ("visit upload", upload)):
        on, off = _compare(label, fn, args.repeat)
        ratios.append(on / off)
    written = AccessLogEntry.objects.count() - before
    start = time.perf_counter()
    sealed = access_log_seal()
    seconds = time.perf_counter() - start
    print(f"access-log rows written: {written}; sealing {sealed} took {seconds * 1000:.0f} ms "
          f"({sealed / max(seconds, 1e-9):,.0f} entries/s, off the request path)")
    print(f"worst ratio: {max(ratios):.3f} (aim ≤ 1.15)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
