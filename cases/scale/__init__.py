"""A city-scale synthetic data set for benchmarks: a Kawasaki-like city of seven wards.

`scale_seed` builds the directory (`city.py`: wards, council areas, one
commissioner district per ~77 residents, care centres, ward sections, NPOs and
their staff) and the people (`people.py`: residents, their cases, teams,
consents, notes, `years` years of visits) in bulk, with the object permissions
derived by the one writer in permissions/, in one transaction.

The same N and seed give the same data: every draw comes from generators
seeded with the seed, in a fixed order, and the slow Faker calls only fill small
pools up front. Dates are relative to the day it runs.
"""

from __future__ import annotations

import random
import time
from dataclasses import dataclass, field

from django.apps import apps
from django.db import connection, transaction
from faker import Faker

from cases.models import Ward
from cases.scale.city import CODE_PREFIX, Progress, Sizing, city_build, scale_sizing
from cases.scale.people import People
from permissions.memberships import memberships_sync_all

__all__ = ["AlreadySeeded", "Progress", "ScaleReport", "Sizing", "scale_counts", "scale_seed", "scale_sizing"]


class AlreadySeeded(Exception):
    """The city's wards exist already: seeding twice would duplicate the data set."""


@dataclass
class ScaleReport:
    sizing: Sizing
    seconds: dict[str, float] = field(default_factory=dict)
    counts: dict[str, int] = field(default_factory=dict)


def scale_seed(
    *, residents: int, seed: int, years: int = 10, batch: int = 5000, progress: Progress | None = None
) -> ScaleReport:
    """Build the whole data set with its permissions in one transaction: all of it or nothing.

    Raises AlreadySeeded when the city is in the database already (it may share
    one with the demo ward).
    """
    if residents < 1 or years < 0 or batch < 1:
        raise ValueError("residents and batch must be at least 1, years at least 0")
    if Ward.objects.filter(code__startswith=CODE_PREFIX).exists():
        raise AlreadySeeded("the city data set is already in this database; seed a fresh database")
    report = ScaleReport(sizing=scale_sizing(residents=residents))
    rng = random.Random(seed)
    fake = Faker("ja_JP")
    fake.seed_instance(seed)
    staff_names = [fake.name() for _ in range(512)]
    building_words = [fake.building_name() for _ in range(64)]
    with transaction.atomic():
        started = time.monotonic()
        city = city_build(sizing=report.sizing, rng=rng, staff_names=staff_names, batch=batch, progress=progress)
        report.seconds["directory"] = time.monotonic() - started
        People(city, sizing=report.sizing, seed=seed, years=years, batch=batch, rng=rng,
               building_words=building_words, progress=progress).build(seconds=report.seconds)
        started = time.monotonic()
        memberships_sync_all()
        report.seconds["groups"] = time.monotonic() - started
    # Bulk-loaded tables have no planner statistics until autovacuum gets to them; without them the
    # scoped queries are planned for one row (a grant table of millions read as a handful), so a
    # benchmark run straight after the seed measures bad plans. A loaded database is analysed first.
    if connection.vendor == "postgresql":
        started = time.monotonic()
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE")
        report.seconds["analyze"] = time.monotonic() - started
    report.counts = scale_counts()
    return report


def scale_counts() -> dict[str, int]:
    """Rows per table that has any (the whole database, not only the city), by table name."""
    counts = {model._meta.db_table: model._base_manager.count()
              for model in apps.get_models(include_auto_created=True) if model._meta.managed}
    return {table: count for table, count in sorted(counts.items()) if count}
