"""Benchmark: the public directory's search at ward scale, with and without its cache.

Builds a ward of its own with SERVICES listings (default 5,000: salons, children's cafeterias, exercise
groups, consultation counters ... across 25 districts, each with a place, a schedule and its taxonomy
terms) through `listings_import`, then times the first page of a text + taxonomy + open-now search
(`/api/hsds/services?search=さろん&taxonomy_code=EL&open_now=true`, 20 a page) through the whole Django
stack (middleware, throttle, DRF, serializers) with the test client, on a Tuesday at 10:30 in Tokyo:

- without the cache (DIRECTORY_CACHE_SECONDS=0): every request searches;
- with the cache (60 s): the first request searches, the rest are read from the cache (Redis when
  REDIS_URL is set, else the process's memory).

It leaves its data there: run it against a scratch PostgreSQL database with the migrations applied:

    DATABASE_URL=postgres://... REDIS_URL=redis://... python -m benchmarks.directory [--services 5000] [--repeat 200]
"""

from __future__ import annotations

import argparse
import datetime
import os
import random
import statistics
import time
import uuid

import django

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "backend.settings.dev")
django.setup()

import time_machine  # noqa: E402
from django.conf import settings  # noqa: E402
from django.db import connection  # noqa: E402
from django.test import Client, override_settings  # noqa: E402

from service_directory.models import DirectoryOrganization  # noqa: E402
from service_directory.schedules import TOKYO  # noqa: E402
from service_directory.services import ListingImport, listings_import  # noqa: E402
from tests.factories import CouncilAreaFactory, DistrictFactory, WardFactory  # noqa: E402

T = datetime.time
KINDS = (  # (share, name, reading, taxonomy codes, byday, opens, closes, monthly)
    (0.35, "ふれあいサロン", "ふれあいさろん", ["EL-SALON", "CA-WATCH"], "TU", T(10), T(12), False),
    (0.15, "子ども食堂", "こどもしょくどう", ["CF-FOOD"], "2SA", T(17), T(19), True),
    (0.20, "いきいき体操", "いきいきたいそう", ["EL-PREV", "CA-EXERCISE"], "MO,TH", T(10), T(11), False),
    (0.10, "認知症カフェ", "にんちしょうかふぇ", ["EL-DEMENTIA"], "1FR", T(13, 30), T(15, 30), True),
    (0.10, "総合相談窓口", "そうごうそうだんまどぐち", ["EL-CONSULT"], "MO,TU,WE,TH,FR", T(8, 30), T(17, 15), False),
    (0.10, "子育てひろば", "こそだてひろば", ["CF-PLAY"], "TU,WE,FR", T(10), T(15), False),
)
SEARCH = {"search": "さろん", "taxonomy_code": "EL", "open_now": "true", "per_page": "20"}
TUESDAY_1030 = datetime.datetime(2026, 12, 8, 10, 30, tzinfo=TOKYO)


def _kind(share: float) -> tuple:
    for kind in KINDS:
        share -= kind[0]
        if share <= 0:
            return kind
    return KINDS[-1]


def _build(count: int) -> None:
    rng = random.Random(5000)
    run = uuid.uuid4().hex[:6]
    ward = WardFactory(code=f"bench-{run}", name="ベンチ区")
    area = CouncilAreaFactory(ward=ward, code=f"area-{run}")
    districts = [DistrictFactory(council_area=area, code=f"{run}-{i:02d}", name=f"ベンチ{i}丁目") for i in range(25)]
    organization = DirectoryOrganization.objects.create(ward=ward, name=f"ベンチ地域活動連絡会 {run}",
                                                        description="ベンチマーク用")
    listings = []
    for n in range(count):
        _, name, kana, codes, byday, opens, closes, monthly = _kind(rng.random())
        district = districts[n % len(districts)]
        listings.append(ListingImport(
            name=f"{name}（{district.name}）{n}", name_kana=kana, description=f"{name}です。", taxonomy_codes=codes,
            schedules=[{"freq": "MONTHLY" if monthly else "WEEKLY", "byday": byday, "opens_at": opens,
                        "closes_at": closes, "dtstart": datetime.date(2025, 4, 1)}],
            location={"name": f"{district.name}会館", "address_1": f"ベンチ町{n % 9 + 1}丁目{n % 40 + 1}番1号",
                      "postal_code": f"21400{n % 25:02d}", "district": district},
            area_district_ids=[district.id]))
    for start in range(0, count, 500):
        listings_import(organization=organization, listings=listings[start:start + 500], updated_by=organization.name)


def _percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(fraction * (len(ordered) - 1))))]


def _time(client: Client, repeat: int) -> tuple[list[float], dict]:
    timings, body = [], {}
    for _ in range(repeat):
        started = time.perf_counter()
        response = client.get("/api/hsds/services", SEARCH)
        timings.append((time.perf_counter() - started) * 1000)
        assert response.status_code == 200, response.content[:300]
        body = response.json()
    return timings, body


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--services", type=int, default=5000)
    parser.add_argument("--repeat", type=int, default=200)
    args = parser.parse_args()
    if connection.vendor != "postgresql":
        print(f"note: running on {connection.vendor}; the figures that count are PostgreSQL's")
    started = time.perf_counter()
    _build(args.services)
    print(f"built {args.services} listings in {time.perf_counter() - started:.1f} s")
    client = Client()
    cache = settings.CACHES["default"]["BACKEND"].rsplit(".", 1)[-1]
    results = {}
    with time_machine.travel(TUESDAY_1030, tick=True), override_settings(DIRECTORY_ANON_THROTTLE_RATE="1000000/minute"):
        for label, seconds in (("without cache", 0), ("with cache", 60)):
            with override_settings(DIRECTORY_CACHE_SECONDS=seconds):
                client.get("/api/hsds/services", SEARCH)  # warm: connections, imports; fills the cache
                timings, body = _time(client, args.repeat)
            results[label] = timings
            print(f"{label:14} median {statistics.median(timings):7.2f} ms  p95 {_percentile(timings, 0.95):7.2f} ms"
                  f"  ({args.repeat} requests; {body['total_items']} matches, first page {body['size']})")
    ratio = statistics.median(results["without cache"]) / statistics.median(results["with cache"])
    print(f"cache backend: {cache}; median without / with the cache: {ratio:.1f}x")
    print(f"load average: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")


if __name__ == "__main__":
    main()
