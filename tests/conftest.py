"""The suite's personas, named once (like Healthchecks' alice/bob/charlie).

World: Tama ward; districts A and B; Mr Tanaka lives in district A and has a
case led by care centre 1 (the team). Personas:
- commissioner_a (district A), commissioner_b (district B)
- care_worker, care_supervisor (care centre 1, on the team)
- care_outsider (care centre 2, not on the team)
- ward_caseworker, ward_supervisor (ward section, not on the team)
- npo_worker, partner (partner business integration), privacy_officer
- expired_commissioner (district A, term ended yesterday)
"""

from __future__ import annotations

import datetime
import os
from dataclasses import dataclass

import pytest
from django.conf import settings
from django.utils import timezone
from rest_framework.test import APIClient

from api.tokens import token_issue
from cases.models import Case, Consent, District, Organization, PartnerAgreement, Resident, User
from cases.models.choices import OrganizationKind, Role
from cases.models.consent import Decision, Grantor, Method
from permissions.grants import grants_sync_residents
from tests.factories import (
    CaseFactory,
    CouncilAreaFactory,
    DistrictFactory,
    MembershipFactory,
    OrganizationFactory,
    ResidentFactory,
    UserFactory,
    WardFactory,
)


def services_missing() -> str | None:
    """What a `services` test lacks here (PostgreSQL, Redis), or None when both are configured."""
    missing = []
    if settings.DATABASES["default"]["ENGINE"] != "backend.postgresql":
        missing.append("PostgreSQL (DATABASE_URL)")
    if not os.environ.get("REDIS_URL"):
        missing.append("Redis (REDIS_URL)")
    return " and ".join(missing) or None


def chromium_missing() -> bool:
    """True on a developer machine without Chromium; in CI (CI=true) the browser test runs and fails instead."""
    present = os.access("/usr/bin/chromium", os.X_OK) and os.access("/usr/bin/chromedriver", os.X_OK)
    return not present and os.environ.get("CI", "").lower() != "true"


def _commits_without_serialised_rollback(item) -> bool:
    """A test that commits (`transactional_db`, `django_db(transaction=True)`) and ends with a plain flush: the flush
    recreates the content types with new ids, and the next test that restores the serialised ones fails at setup."""
    marker = item.get_closest_marker("django_db")
    commits = "transactional_db" in item.fixturenames or bool(marker and marker.kwargs.get("transaction"))
    serialised = "django_db_serialized_rollback" in item.fixturenames or bool(
        marker and marker.kwargs.get("serialized_rollback"))
    return commits and not serialised


def pytest_collection_modifyitems(config, items):
    """`services` tests are skipped on the embedded default, `browser` tests where Chromium is absent; a test that
    commits must roll back serialised (`_commits_without_serialised_rollback`).

    .ci/run sets PostgreSQL and Redis up, installs Chromium and fails on any skip.
    """
    plain = [item.nodeid for item in items if _commits_without_serialised_rollback(item)]
    if plain:
        raise pytest.UsageError("these tests commit but do not roll back serialised "
                                "(django_db(transaction=True, serialized_rollback=True)): " + ", ".join(plain))
    missing = services_missing()
    skip_services = pytest.mark.skip(reason=f"needs {missing}; CI runs it")
    skip_browser = pytest.mark.skip(reason="needs Debian's chromium and chromium-driver; CI runs it")
    no_chromium = chromium_missing()
    for item in items:
        if missing and item.get_closest_marker("services"):
            item.add_marker(skip_services)
        if no_chromium and item.get_closest_marker("browser"):
            item.add_marker(skip_browser)


@dataclass
class World:
    district_a: District
    district_b: District
    council: Organization
    care_centre: Organization
    care_centre_2: Organization
    ward_section: Organization
    npo: Organization
    partner_business: Organization
    tanaka: Resident
    tanaka_case: Case
    suzuki: Resident
    suzuki_case: Case
    users: dict[str, User]




@pytest.fixture
def world(db) -> World:
    ward = WardFactory()
    area = CouncilAreaFactory(ward=ward, name="登戸地区")
    district_a = DistrictFactory(council_area=area, code="A", name="登戸1丁目")
    district_b = DistrictFactory(council_area=area, code="B", name="宿河原2丁目")
    council = OrganizationFactory(kind=OrganizationKind.COMMISSIONER_COUNCIL, name="登戸地区民児協", ward=ward)
    care_centre = OrganizationFactory(kind=OrganizationKind.CARE_CENTRE, name="登戸地域包括支援センター", ward=ward)
    care_centre_2 = OrganizationFactory(kind=OrganizationKind.CARE_CENTRE, name="菅地域包括支援センター", ward=ward)
    ward_section = OrganizationFactory(kind=OrganizationKind.WARD_SECTION, name="多摩区役所 高齢・障害課", ward=ward)
    npo = OrganizationFactory(kind=OrganizationKind.NPO, name="NPO法人 たまサロン", ward=ward)
    partner_business = OrganizationFactory(kind=OrganizationKind.PARTNER_BUSINESS, name="多摩新聞販売店", ward=ward)

    def member(username, org, role, districts=None, **kwargs):
        user = UserFactory(username=username)
        MembershipFactory(user=user, organization=org, role=role, districts=districts or [], **kwargs)
        return user

    now = timezone.now()
    users = {
        "commissioner_a": member("commissioner_a", council, Role.COMMISSIONER, [district_a]),
        "commissioner_b": member("commissioner_b", council, Role.COMMISSIONER, [district_b]),
        "care_worker": member("care_worker", care_centre, Role.WORKER),
        "care_supervisor": member("care_supervisor", care_centre, Role.SUPERVISOR),
        "care_outsider": member("care_outsider", care_centre_2, Role.WORKER),
        "ward_caseworker": member("ward_caseworker", ward_section, Role.WORKER),
        "ward_supervisor": member("ward_supervisor", ward_section, Role.SUPERVISOR),
        "npo_worker": member("npo_worker", npo, Role.WORKER),
        "partner": member("partner", partner_business, Role.INTEGRATION),
        "privacy_officer": member("privacy_officer", ward_section, Role.PRIVACY_OFFICER),
        "expired_commissioner": member(
            "expired_commissioner", council, Role.COMMISSIONER, [district_a],
            valid_from=now - datetime.timedelta(days=3 * 365), valid_until=now - datetime.timedelta(days=1),
        ),
    }
    tanaka = ResidentFactory(
        name_kanji="田中 一郎", name_kana="タナカ イチロウ", district=district_a, registered_by=council,
        date_of_birth=datetime.date(1944, 5, 3),
    )
    tanaka_case = CaseFactory(
        resident=tanaka, lead_organization=care_centre, lead_worker=users["care_worker"], team=[care_centre]
    )
    # Mr Tanaka agreed orally (recorded by Sato, 1 April) that the care centre may see his
    # basic, living-situation and health notes for watch-over — not his finances.
    Consent.objects.create(
        resident=tanaka, decision=Decision.GRANTED, grantor=Grantor.SELF, categories=["basic", "health",
        "living_situation"], purposes=["watch_over"], valid_from=now - datetime.timedelta(days=240),
        method=Method.ORAL, taken_by=users["commissioner_a"], taken_by_organization=council,
    ).recipient_organizations.set([care_centre])
    grants_sync_residents(resident_ids=[tanaka.id])
    suzuki = ResidentFactory(
        name_kanji="鈴木 花子", name_kana="スズキ ハナコ", district=district_b, registered_by=council
    )
    suzuki_case = CaseFactory(resident=suzuki, lead_organization=council, lead_worker=users["commissioner_b"])
    return World(
        district_a, district_b, council, care_centre, care_centre_2, ward_section, npo, partner_business,
        tanaka, tanaka_case, suzuki, suzuki_case, users,
    )


@pytest.fixture
def client_for(world):
    """An API client authenticated with a fresh token of the named persona."""

    def make(persona: str, **headers) -> APIClient:
        _, plaintext = token_issue(user=world.users[persona], name="test")
        client = APIClient()
        client.credentials(HTTP_AUTHORIZATION=f"Bearer {plaintext}", **headers)
        return client

    return make


# A partner business's agreement and Mr Tanaka's address as the register writes it (partner reports).
@pytest.fixture
def agreement(world):
    return PartnerAgreement.objects.create(
        code="TAMA-2026-001", organization=world.partner_business, municipality="川崎市多摩区",
        signals=["newspapers_piling_up", "mail_piling_up", "strange_smell"],
        valid_from=timezone.now() - datetime.timedelta(days=30))


@pytest.fixture
def tanaka_at_home(world):
    """Mr Tanaka lives at 登戸1丁目2番15号 コーポ登戸101 (the register's way of writing it)."""
    from cases import services

    services.resident_update(actor=world.users["commissioner_a"], resident=world.tanaka,
                             expected_version=world.tanaka.version, block_number="2-15", building="コーポ登戸",
                             room="101")
    world.tanaka.refresh_from_db()
    return world.tanaka
