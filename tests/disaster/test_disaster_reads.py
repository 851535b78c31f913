"""Every persona × every disaster read route while an event lasts (supporters: the council and the NPO).

Written out as a table, like the read matrix: entries (which residents), events, progress, the exports.
"""

from __future__ import annotations

import pytest

from tests.helpers import API, PERSONAS, declare

pytestmark = pytest.mark.django_db
EXP = "403 no_active_membership"
BULK = "403 bulk_export_not_permitted"
NF = "404 not_found"
T, S, Y = "tanaka", "suzuki", "yamada"
# persona: (entries seen, events seen, progress, CSV export, Yamada's plan)
EXPECTED = {
    "commissioner_a": ({T, Y}, 1, "200", BULK, "404"),
    "commissioner_b": ({S}, 1, "200", BULK, "404"),
    "care_worker": (set(), 0, NF, NF, "404"),
    "care_supervisor": (set(), 0, NF, NF, "404"),
    "care_outsider": (set(), 0, NF, NF, "404"),
    "ward_caseworker": ({T, S, Y}, 1, "200", "200", "200"),
    "ward_supervisor": ({T, S, Y}, 1, "200", "200", "200"),
    "npo_worker": ({T, S, Y}, 1, "200", "200", "404"),  # the list's fields only: no plan without consent
    "partner": (set(), 0, NF, NF, "404"),
    "privacy_officer": (set(), 1, "200", BULK, "404"),
    "expired_commissioner": (EXP, EXP, EXP, EXP, "403"),
}
assert set(EXPECTED) == set(PERSONAS)


def _answer(response) -> str:
    return str(response.status_code) if response.status_code < 400 else \
        f"{response.status_code} {response.json()['code']}"


@pytest.mark.parametrize("persona", PERSONAS)
def test_disaster_reads(persona, listed, client_for):
    from cases.services.disaster import evacuation_plan_write

    w = listed.world
    evacuation_plan_write(actor=w.users["ward_caseworker"], entry=listed.yamada, destination="登戸小学校",
                          needs=["oxygen"], supporters=[{"name": "高橋 次郎", "role": "近隣住民",
                                                         "organization": w.npo.id}])
    event = declare(listed)
    names = {w.tanaka.id: T, w.suzuki.id: S, listed.yamada.resident_id: Y}
    client = client_for(persona)
    entries, events, progress, export, plan = EXPECTED[persona]
    listing = client.get(f"{API}/evacuation-entries")
    if isinstance(entries, str):
        assert _answer(listing) == entries
    else:
        assert {names[row["resident"]] for row in listing.json()["results"]} == entries
    found = client.get(f"{API}/disaster-events")
    assert (_answer(found) if isinstance(events, str) else len(found.json()["results"])) == events
    assert _answer(client.get(f"{API}/disaster-events/{event.id}/progress")) == progress
    assert _answer(client.get(f"{API}/disaster-events/{event.id}/export/csv")) == export
    assert str(client.get(f"{API}/evacuation-entries/{listed.yamada.id}/plans").status_code) == plan
