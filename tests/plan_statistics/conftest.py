"""A seeded test world with enough activity for statistics: the suite's ward, more districts and council
areas, a few hundred watched residents with visits, safety checks, referrals and consents over a fiscal
year (FY2024, April 2024 to March 2025), drawn from a fixed seed."""

from __future__ import annotations

import datetime
import random
import uuid

import pytest

from cases.models import (
    Case,
    Consent,
    CouncilArea,
    District,
    Referral,
    Resident,
    Task,
    Visit,
)
from cases.models.audited import seed_create
from cases.models.choices import HouseholdType
from cases.models.consent import Category
from cases.models.referrals import ReferralStatus
from cases.models.visits import Channel, Outcome, WarningSign
from plan_statistics.periods import TOKYO
from tests.factories import CouncilAreaFactory, DistrictFactory

YEAR_START = datetime.datetime(2024, 4, 1, tzinfo=TOKYO)


def _moment(rng: random.Random) -> datetime.datetime:
    return YEAR_START + datetime.timedelta(minutes=rng.randrange(365 * 24 * 60))


def populate(world, *, residents: int, seed: int) -> None:
    """Residents spread over four districts in two council areas, with a year of activity."""
    rng = random.Random(seed)
    ward = world.district_a.council_area.ward
    area = world.district_a.council_area
    CouncilArea.objects.filter(pk=area.pk).update(council=world.council)
    second = CouncilAreaFactory(ward=ward, name="宿河原地区")
    districts = [world.district_a, world.district_b, DistrictFactory(council_area=second, code="C", name="宿河原1丁目"),
                 DistrictFactory(council_area=second, code="D", name="宿河原3丁目")]
    users = world.users
    orgs = [world.council, world.care_centre, world.care_centre_2, world.ward_section, world.npo]
    made = seed_create(Resident, [
        Resident(name_kanji=f"住民 {i}", name_kana="ジュウミン", name_kana_key="ｼﾞｭｳﾐﾝ",
                 date_of_birth=datetime.date(rng.randint(1925, 1975), rng.randint(1, 12), rng.randint(1, 28)),
                 postal_code="2140014", town="登戸", block_number="1-1", district=rng.choice(districts),
                 household_type=rng.choice([HouseholdType.LIVES_ALONE] * 4 + [HouseholdType.ELDERLY_COUPLE] * 2
                                           + [HouseholdType.WITH_FAMILY, HouseholdType.OTHER]),
                 registered_by=world.council, created_at=YEAR_START - datetime.timedelta(days=30))
        for i in range(residents)])
    cases = seed_create(Case, [
        Case(resident=r, concern="見守り", lead_organization=rng.choice(orgs[:2]),
             opened_at=YEAR_START - datetime.timedelta(days=20),
             closed_at=None if rng.random() < 0.9 else _moment(rng)) for r in made])
    visits = []
    for case in cases:
        for _ in range(rng.randint(2, 10)):
            outcome = rng.choice([Outcome.MET] * 6 + [Outcome.ABSENT, Outcome.NO_ANSWER, Outcome.HOSPITALISED])
            signs = rng.sample([s for s, _ in WarningSign.choices], rng.choice([0, 0, 0, 1, 2])) \
                if outcome != Outcome.MET else []
            visits.append(Visit(case=case, recorded_by=users["commissioner_a"], organization=world.council,
                                client_id=uuid.UUID(int=rng.getrandbits(128)), occurred_at=_moment(rng),
                                channel=rng.choice([Channel.HOME_VISIT] * 3 + [Channel.PHONE, Channel.SALON]),
                                outcome=outcome, warning_signs=signs))
    seed_create(Visit, visits)
    tasks = []
    for n, visit in enumerate(v for v in visits if v.outcome == Outcome.NO_ANSWER):
        opened = visit.occurred_at + datetime.timedelta(minutes=30)
        minutes = rng.choice([5, 10, 20, 40, 50, 90, 200, 600, 2000, None])
        tasks.append(Task(kind="safety_check", status="acknowledged" if minutes else "open", urgency="urgent",
                          assignee_organization=world.care_centre, due_at=opened + datetime.timedelta(hours=1),
                          resident=visit.case.resident, case=visit.case, visit=visit, dedupe_key=f"stats:{n}",
                          created_at=opened, escalation_level=rng.choice([0, 0, 0, 1, 1, 2, 3]),
                          acknowledged_at=opened + datetime.timedelta(minutes=minutes) if minutes else None))
    seed_create(Task, tasks)
    referrals = []
    for case in rng.sample(cases, len(cases) // 2):
        sender, receiver = rng.sample(orgs, 2)
        requested = _moment(rng)
        status = rng.choice([ReferralStatus.REQUESTED, ReferralStatus.ACCEPTED, ReferralStatus.COMPLETED,
                             ReferralStatus.COMPLETED, ReferralStatus.REJECTED, ReferralStatus.CANCELLED])
        answered = requested + datetime.timedelta(hours=rng.randint(1, 72)) \
            if status in (ReferralStatus.ACCEPTED, ReferralStatus.COMPLETED, ReferralStatus.REJECTED) else None
        referrals.append(Referral(case=case, sender_organization=sender, sender_user=users["care_worker"],
                                  receiver_organization=receiver, reason="支援の依頼", categories=["basic"],
                                  status=status, requested_at=requested, answered_at=answered))
    seed_create(Referral, referrals)
    consents = [Consent(resident=r, decision="granted", grantor="self",
                        categories=rng.sample([c for c, _ in Category.choices], rng.randint(1, 4)),
                        purposes=["watch_over"], valid_from=YEAR_START - datetime.timedelta(days=10),
                        method="oral", taken_by=users["commissioner_a"], taken_by_organization=world.council,
                        taken_at=YEAR_START - datetime.timedelta(days=10))
                for r in made if rng.random() < 0.7]
    seed_create(Consent, consents)
    assert District.objects.filter(council_area__ward=ward).count() == 4


@pytest.fixture
def stats_world(world):
    populate(world, residents=250, seed=15)
    return world
