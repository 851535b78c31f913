"""Anonymous access to the public directory never returns personal data: every public route (walked from
the URL configuration, with real ids and with each search parameter) is scanned for every seeded
resident's name (kanji, kana, search key), address and phone."""

from __future__ import annotations

import pytest
from rest_framework.test import APIClient

from cases.models import Resident
from service_directory.models import DirectoryOrganization, Service, TaxonomyTerm
from tests.factories import ResidentFactory
from tests.helpers import PREFIX, public_routes

pytestmark = pytest.mark.django_db


def _identifying(resident: Resident) -> set[str]:
    values = {resident.name_kanji, resident.name_kana, resident.name_kana_key, resident.name_kanji.replace(" ", ""),
              f"{resident.town}{resident.chome}丁目{resident.block_number}", f"{resident.town}{resident.block_number}"}
    if resident.phone:
        values |= {resident.phone, resident.phone.replace("-", "")}
    if resident.building:
        values.add(f"{resident.building}{resident.room}")
    return {value for value in values if value}


def _concrete(route: str) -> list[str]:
    ids = {"<uuid:service_id>": [str(s.uuid) for s in Service.objects.all()],
           "<uuid:organization_id>": [str(o.uuid) for o in DirectoryOrganization.objects.all()],
           "<uuid:term_id>": [str(t.uuid) for t in TaxonomyTerm.objects.all()[:5]]}
    for placeholder, values in ids.items():
        if placeholder in route:
            return [route.replace(placeholder, value) for value in values]
    assert "<" not in route, f"{route}: add its ids here"
    return [route]


def test_no_public_route_returns_a_residents_name_address_or_phone(directory, world):
    ResidentFactory.create_batch(20, district=world.district_a, registered_by=world.council,
                                 building="コーポ多摩", room="101")
    # A resident whose name is also a word a listing uses must not make the scan pass by accident.
    ResidentFactory(name_kanji="登戸 太郎", name_kana="ノボリト タロウ", district=world.district_a,
                    registered_by=world.council)
    searches = [{}, {"search": "サロン"}, {"search": "タナカ"}, {"district": world.district_a.code},
                {"postcode": world.tanaka.postal_code}, {"language": "ja"}, {"open_now": "true"},
                {"open_on": "2026-12-12"}, {"taxonomy_code": "EL"}, {"per_page": "100"}]
    bodies = []
    for route in public_routes():
        for path in _concrete(route):
            for params in searches if path.endswith(("services", "organizations", "taxonomy_terms")) else [{}]:
                response = APIClient().get(path, params)
                # Every listing is asked for, the unpublished ones too (404): their answers are scanned as well.
                assert response.status_code in (200, 404), (path, params, response.status_code)
                bodies.append((path, params, response.content.decode()))
    assert len(bodies) > 30
    residents = list(Resident.objects.all())
    assert len(residents) == 23
    for resident in residents:
        for value in _identifying(resident):
            leaked = [(path, params) for path, params, body in bodies if value in body]
            assert leaked == [], f"{value!r} (resident {resident.id}) appears in {leaked[:3]}"
    assert any(PREFIX + "services/" in path for path, _, _ in bodies)
