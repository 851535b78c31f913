"""The demo ward: a believable Tama Ward (川崎市多摩区) to try the API by hand.

`demo_seed` builds six council areas (地区民児協) with their commissioner
districts, the ward's care centres, ward sections, NPOs and partners, about
300 synthetic residents with their cases, consents and recent visits, and the
named demo accounts in `DEMO_ACCOUNTS` with a fixed password and fixed API
tokens (listed in the README). A second run refreshes the directory, the
accounts and their tokens and leaves the residents alone.

Synthetic data must never reach a production database: both seeding commands
(`seed_demo`, `seed_scale`) ask `seeding_refusal` first.
"""

from __future__ import annotations

import datetime
import os
from dataclasses import dataclass, field

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from cases.demo.population import TANAKA, Population, population_build
from cases.demo.ward import DEMO_ACCOUNTS, DEMO_PASSWORD, WARD_CODE, DemoAccount, world_build
from cases.models import Case, Consent, District, Organization, Resident, User, Visit, Ward
from permissions.grants import grants_sync_residents, memberships_sync_user

__all__ = ["DEMO_ACCOUNTS", "DEMO_PASSWORD", "TANAKA", "DemoAccount", "DemoReport", "demo_seed", "seeding_refusal"]


def seeding_refusal() -> str | None:
    """Why synthetic data may not be written here (production settings), or None when it may."""
    module = settings.SETTINGS_MODULE or os.environ.get("DJANGO_SETTINGS_MODULE", "")
    if module.endswith(".production") or (not settings.DEBUG and "test" not in module):
        return (
            f"Refusing to seed synthetic data under settings {module or '(unknown)'!r}: "
            "run it against a development or scratch database (DJANGO_SETTINGS_MODULE=backend.settings.dev)."
        )
    return None


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
