"""A caseload page can be found two ways: each row's grant looked up (EXISTS), or every row tested against a
hash of the reader's grants. Which is faster depends on how many of the cases the reader sees; the rows, their
order and what is withheld must not."""

from __future__ import annotations

import datetime

import pytest
from django.db import connection
from django.utils import timezone

from cases.models import Case
from cases.selectors import cases_visible_to
from permissions import access
from permissions.grants import grants_sync_residents
from tests.factories import CaseFactory, DistrictFactory, ResidentFactory


@pytest.fixture
def caseloads(world):
    """Twelve more cases led by the care centre in district A, due on different days, some closed, and ten led
    by the NPO in a district no commissioner covers, that nobody else holds: readers who see many, few and none
    of them."""
    today = timezone.localdate()
    residents = []
    for n in range(12):
        resident = ResidentFactory(district=world.district_a, registered_by=world.council)
        CaseFactory(resident=resident, lead_organization=world.care_centre, team=[world.care_centre],
                    next_visit_due=None if n % 5 == 0 else today + datetime.timedelta(days=n % 4 - 1),
                    status="closed" if n % 3 == 0 else "open")
        residents.append(resident.id)
    # A district no commissioner of the ward covers.
    world.district_c = DistrictFactory(council_area=world.district_a.council_area, code="C", name="菅3丁目")
    for _ in range(10):
        CaseFactory(resident=ResidentFactory(district=world.district_c, registered_by=world.council),
                    lead_organization=world.npo, team=[world.npo])
    grants_sync_residents(resident_ids=residents)
    access._BY_HASH.clear()
    yield world
    access._BY_HASH.clear()


def _found(user, *, hashed: bool, **filters) -> list[int]:
    groups = access.acting_groups(user=user) or []
    if not groups:  # no active membership: scope reads nothing, either way
        return []
    granted = access._granted(Case, groups=groups, codename="view_case", hashed=hashed)
    return list(Case.objects.filter(granted, **filters).order_by("due_order", "id").values_list("id", flat=True))


@pytest.mark.parametrize("filters", [{}, {"status": "open"}, {"next_visit_due__isnull": True}])
def test_both_ways_find_the_same_cases_in_the_same_order(caseloads, filters):
    for user in caseloads.users.values():
        exists, hashed = _found(user, hashed=False, **filters), _found(user, hashed=True, **filters)
        assert hashed == exists, user.username
    care = _found(caseloads.users["care_worker"], hashed=True, **filters)
    assert len(care) >= 3
    assert not set(Case.objects.filter(lead_organization=caseloads.npo).values_list("id", flat=True)) & set(care)
    assert _found(caseloads.users["expired_commissioner"], hashed=True, **filters) == []


def test_the_caseload_page_is_the_same_whichever_way_scope_chooses(caseloads, monkeypatch):
    for user in caseloads.users.values():
        pages = []
        for answer in (False, True):
            monkeypatch.setattr(access, "_tested_by_hash", lambda *args, answer=answer, **kwargs: answer)
            pages.append(list(cases_visible_to(user=user, keys=True)))
        assert pages[0] == pages[1], user.username


@pytest.mark.services
def test_a_reader_who_sees_one_case_in_a_hundred_or_more_is_tested_by_hash(caseloads, monkeypatch):
    """The share is of PostgreSQL's own estimate of the table's size (`ANALYZE`): with 300 cases, a reader
    needs 3 of them."""
    assert connection.vendor == "postgresql"
    resident = ResidentFactory(district=caseloads.district_c, registered_by=caseloads.council)
    for _ in range(276):
        CaseFactory(resident=resident, lead_organization=caseloads.npo, team=[caseloads.npo])
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE cases_case")
    assert Case.objects.count() == 300

    def by_hash(persona):
        access._BY_HASH.clear()
        groups = access.acting_groups(user=caseloads.users[persona])
        return access._tested_by_hash(Case, groups=groups, codename="view_case")

    assert by_hash("care_worker")  # the care centre's 13 cases
    assert by_hash("npo_worker")  # the NPO's 286
    assert not by_hash("care_outsider")  # none
    assert not by_hash("commissioner_b")  # Mrs Suzuki's case: 1 of 300
    # An answer is kept: a case more does not change it until it is asked again.
    groups = access.acting_groups(user=caseloads.users["commissioner_b"])
    assert not access._tested_by_hash(Case, groups=groups, codename="view_case")
    CaseFactory.create_batch(3, resident=caseloads.suzuki, lead_organization=caseloads.council)
    grants_sync_residents(resident_ids=[caseloads.suzuki.id])
    assert not access._tested_by_hash(Case, groups=groups, codename="view_case")
    assert by_hash("commissioner_b")
    # A reader who holds more than a hash is built for is read by the EXISTS.
    monkeypatch.setattr(access, "BY_HASH_AT_MOST", 12)
    assert not by_hash("care_worker")  # 13
    assert by_hash("commissioner_b")  # 4
