"""Benchmark: a fiscal year's full statistics release on the city, and the attack on it.

For every ward of the city (`manage.py seed_scale`), as that ward section's supervisor: release each of the
fiscal year's twelve months, then the year itself (`release_publish`: count every table for every area,
disclosure control, freeze). Prints the seconds per ward and in all, the figures published and withheld, and
with `--attack` the adversary's linear program over everything released (tests/plan_statistics/attack.py):
tables × cells × suppressed × reconstructed, the last of which must be 0.

The release writes (it freezes what it published), so run it on a scratch copy of the city, never on the
city itself:

    createdb -T city scratch && DATABASE_URL=postgres://.../scratch python manage.py migrate
    DATABASE_URL=postgres://.../scratch python -m benchmarks.statistics --year FY2025 --attack  # make bench-statistics
"""

from __future__ import annotations

import argparse
import os
import time

import django

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "backend.settings.dev")
django.setup()

from django.conf import settings  # noqa: E402
from django.db import connection  # noqa: E402

from cases.models import Membership, Ward  # noqa: E402
from cases.models.choices import OrganizationKind, Role  # noqa: E402
from plan_statistics.models import PublishedTable  # noqa: E402
from plan_statistics.periods import period_parse  # noqa: E402
from plan_statistics.services import release_publish  # noqa: E402


def _supervisor(ward: Ward):
    membership = Membership.objects.active().filter(
        role=Role.SUPERVISOR, organization__kind=OrganizationKind.WARD_SECTION, organization__ward=ward,
        user__is_active=True).select_related("user").order_by("id").first()
    return membership.user if membership else None


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--year", default="FY2025", help="The fiscal year to release (it must have ended).")
    parser.add_argument("--attack", action="store_true", help="Then attack every ward's release with the LP.")
    args = parser.parse_args()
    if connection.vendor != "postgresql":
        raise SystemExit("run it on a scratch copy of the city on PostgreSQL (DATABASE_URL)")
    year = period_parse(args.year)
    periods = [month.code for month in year.months()] + [year.code]
    load = os.getloadavg()
    print(f"statistics release of {year.code} (12 months, then the year), k={settings.STATISTICS_MIN_CELL}, "
          f"load average {load[0]:.2f} {load[1]:.2f} {load[2]:.2f}")
    total = 0.0
    for ward in Ward.objects.order_by("code"):
        user = _supervisor(ward)
        if user is None:
            continue
        started = time.perf_counter()
        months_seconds = 0.0
        for period in periods:
            release_publish(actor=user, ward_id=ward.id, period=period)
            if period == periods[-2]:
                months_seconds = time.perf_counter() - started
        seconds = time.perf_counter() - started
        total += seconds
        tables = PublishedTable.objects.filter(ward=ward)
        cells = withheld = hidden = 0
        for table in tables:
            for area in table.withheld["areas"].values():
                if area["published"]:
                    cells += len(area["values"])
                    withheld += len(area["withheld"])
                else:
                    hidden += 1
        print(f"  {ward.code:<16} {seconds:7.2f} s (12 months {months_seconds:6.2f} s, the year "
              f"{seconds - months_seconds:6.2f} s)  tables {tables.count()}  figures {cells}  withheld {withheld} "
              f"({withheld / max(cells, 1):.1%})  areas at the next level up {hidden}")
        if args.attack:
            from tests.plan_statistics.attack import attack

            started = time.perf_counter()
            report = attack(ward=ward, k=settings.STATISTICS_MIN_CELL)
            print(f"    attack: {report.line()}  [{time.perf_counter() - started:.1f} s]")
    load = os.getloadavg()
    print(f"all wards: {total:.1f} s for a fiscal year's full release; load average {load[0]:.2f} {load[1]:.2f} "
          f"{load[2]:.2f}")


if __name__ == "__main__":
    main()
