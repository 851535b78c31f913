"""Build or refresh the demo ward in one transaction (see the package docstring)."""

from __future__ import annotations

import datetime
from dataclasses import dataclass, field

from django.db import transaction
from django.utils import timezone

from cases.models import Case, Consent, District, Organization, PartnerAgreement, Resident, User, Visit, Ward
from cases.models.referrals import ReferralStatus
from cases.selectors import referrals_inbox_for, tasks_visible_to
from cases.services.tasks import OPEN_STATUSES
from demo.activity import Activity, activity_deliver, activity_seed
from demo.listings import directory_build
from demo.partners import agreements_build
from demo.population import TANAKA, Population, population_build
from demo.ward import DEMO_ACCOUNTS, DEMO_PASSWORD, WARD_CODE, DemoAccount, world_build
from notifications.selectors import notifications_of
from permissions.grants import grants_sync_residents
from permissions.memberships import memberships_sync_user
from service_directory.models import Service

__all__ = ["DEMO_ACCOUNTS", "DEMO_PASSWORD", "TANAKA", "DemoAccount", "DemoReport", "demo_seed"]


@dataclass
class Inbox:
    """What a demo account finds on logging in: open tasks (theirs and their queue's), referrals
    waiting in their inbox, unread notifications."""

    open_tasks: int
    referrals_waiting: int
    unread: int


@dataclass
class DemoReport:
    created: Population | None = None
    activity: Activity | None = None
    counts: dict[str, int] = field(default_factory=dict)
    inboxes: dict[str, Inbox] = field(default_factory=dict)


def demo_seed(*, today: datetime.date | None = None) -> DemoReport:
    """Build or refresh the demo ward in one transaction; residents are created only while it has none."""
    today = today or timezone.localdate()
    report = DemoReport()
    with transaction.atomic():
        ward, _ = Ward.objects.update_or_create(code=WARD_CODE, defaults={"name": "多摩区"})
        world = world_build(ward=ward)
        agreements_build(world=world)
        residents = Resident.objects.filter(district__council_area__ward=ward)
        if not residents.exists():
            report.created = population_build(world=world, today=today)
        users = User.objects.filter(memberships__organization__ward=ward).distinct()
        for user in users:
            memberships_sync_user(user=user)
        grants_sync_residents(resident_ids=list(residents.values_list("id", flat=True)))
        if report.created is not None:
            tanaka_case = Case.objects.get(resident__name_kanji=TANAKA["name_kanji"],
                                           resident__district__code=TANAKA["district"])
            report.activity = activity_seed(world=world, tanaka_case=tanaka_case)
        directory_build(world=world, today=today)
    if report.activity is not None:
        activity_deliver()
    report.inboxes = {account.username: _inbox(world.accounts[account.username]) for account in DEMO_ACCOUNTS}
    report.counts = {
        "districts": District.objects.filter(council_area__ward=ward).count(),
        "organizations": Organization.objects.filter(ward=ward).count(),
        "users": users.count(),
        "residents": residents.count(),
        "cases": Case.objects.filter(resident__district__council_area__ward=ward).count(),
        "consents": Consent.objects.filter(resident__district__council_area__ward=ward).count(),
        "visits": Visit.objects.filter(case__resident__district__council_area__ward=ward).count(),
        "partner agreements": PartnerAgreement.objects.filter(organization__ward=ward).count(),
        "listings": Service.objects.filter(organization__ward=ward).count(),
    }
    return report


def _inbox(user: User) -> Inbox:
    return Inbox(
        open_tasks=tasks_visible_to(user=user).filter(status__in=OPEN_STATUSES).count(),
        referrals_waiting=referrals_inbox_for(user=user).filter(status=ReferralStatus.REQUESTED).count(),
        unread=notifications_of(user=user).filter(read_at__isnull=True).count(),
    )
