"""Build or refresh the demo ward in one transaction (see the package docstring)."""

from __future__ import annotations

import datetime
from dataclasses import dataclass, field

from django.db import transaction
from django.utils import timezone

from cases.models import Case, Consent, District, Organization, Resident, User, Visit, Ward
from demo.population import TANAKA, Population, population_build
from demo.ward import DEMO_ACCOUNTS, DEMO_PASSWORD, WARD_CODE, DemoAccount, world_build
from permissions.grants import grants_sync_residents, memberships_sync_user

__all__ = ["DEMO_ACCOUNTS", "DEMO_PASSWORD", "TANAKA", "DemoAccount", "DemoReport", "demo_seed"]


@dataclass
class DemoReport:
    created: Population | None = None
    counts: dict[str, int] = field(default_factory=dict)


def demo_seed(*, today: datetime.date | None = None) -> DemoReport:
    """Build or refresh the demo ward in one transaction; residents are created only while it has none."""
    today = today or timezone.localdate()
    report = DemoReport()
    with transaction.atomic():
        ward, _ = Ward.objects.update_or_create(code=WARD_CODE, defaults={"name": "多摩区"})
        world = world_build(ward=ward)
        residents = Resident.objects.filter(district__council_area__ward=ward)
        if not residents.exists():
            report.created = population_build(world=world, today=today)
        users = User.objects.filter(memberships__organization__ward=ward).distinct()
        for user in users:
            memberships_sync_user(user=user)
        grants_sync_residents(resident_ids=list(residents.values_list("id", flat=True)))
    report.counts = {
        "districts": District.objects.filter(council_area__ward=ward).count(),
        "organizations": Organization.objects.filter(ward=ward).count(),
        "users": users.count(),
        "residents": residents.count(),
        "cases": Case.objects.filter(resident__district__council_area__ward=ward).count(),
        "consents": Consent.objects.filter(resident__district__council_area__ward=ward).count(),
        "visits": Visit.objects.filter(case__resident__district__council_area__ward=ward).count(),
    }
    return report
