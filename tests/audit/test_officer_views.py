"""The privacy officer's view: search the access log, who saw a resident, and the unusual-access report."""

from __future__ import annotations

import datetime

import pytest
from django.utils import timezone

from audit.models import AccessLogEntry, Action
from tests.helpers import PERSONAS

AUDIT_GETS = ["/api/v1/audit/access-log", "/api/v1/audit/provisions", "/api/v1/audit/legal-holds",
              "/api/v1/audit/unusual-access", "/api/v1/audit/residents/{tanaka}/readers"]


def test_search_by_resident_user_and_period(world, records, client_for):
    client_for("care_worker").get(f"/api/v1/residents/{world.tanaka.id}")
    client_for("commissioner_b").get(f"/api/v1/residents/{world.suzuki.id}")
    officer = client_for("privacy_officer")
    care = world.users["care_worker"].id
    body = officer.get("/api/v1/audit/access-log", {"resident": world.tanaka.id, "user": care,
                                                    "action": "read"}).json()
    assert body["results"] and all(r["resident_id"] == world.tanaka.id and r["user_id"] == care
                                   for r in body["results"])
    assert body["results"][0]["bases"][0] == "case_lead" and body["results"][0]["route"] == "GET resident-detail"
    later = (timezone.now() + datetime.timedelta(minutes=1)).isoformat()
    assert officer.get("/api/v1/audit/access-log", {"since": later}).json()["results"] == []
    assert officer.get("/api/v1/audit/access-log", {"action": "teleport"}).status_code == 400


def test_who_saw_this_resident(world, records, client_for):
    client_for("care_worker").get(f"/api/v1/notes/{records.health_note.id}")
    client_for("care_worker").get("/api/v1/cases")
    client_for("commissioner_a").get(f"/api/v1/residents/{world.tanaka.id}")
    client_for("commissioner_b").get(f"/api/v1/residents/{world.suzuki.id}")
    response = client_for("privacy_officer").get(f"/api/v1/audit/residents/{world.tanaka.id}/readers")
    assert response.status_code == 200
    readers = {r["username"]: r for r in response.json()}
    assert set(readers) == {"care_worker", "commissioner_a"}
    assert readers["care_worker"]["reads"] == 2 and set(readers["care_worker"]["kinds"]) == {"note", "case"}
    assert any(b.startswith("consent:") for b in readers["care_worker"]["bases"])
    # Asking is itself logged: the officer's interest in this resident is on the record too.
    assert AccessLogEntry.objects.filter(kind="readers", resident_id=world.tanaka.id,
                                         user_id=world.users["privacy_officer"].id).exists()
    period = client_for("privacy_officer").get(f"/api/v1/audit/residents/{world.tanaka.id}/readers",
                                               {"since": "2030-01-02T00:00:00Z", "until": "2030-01-01T00:00:00Z"})
    assert period.status_code == 400


def _reads(user, residents: int, *, outside: bool, at=None) -> None:
    basis = "consent:1" if outside else "district"
    AccessLogEntry.objects.bulk_create([
        AccessLogEntry(at=at or timezone.now(), user_id=user.id, username=user.username, action=Action.READ,
                       kind="resident", resident_id=resident_id, bases=[basis], outside_caseload=outside)
        for resident_id in residents
    ])


def test_unusual_access_flags_many_residents_read_outside_the_caseload(world, client_for):
    """Rule: ≥ threshold distinct residents read only through third-party bases within the period."""
    from tests.factories import ResidentFactory

    residents = [ResidentFactory(district=world.district_a, registered_by=world.council).id for _ in range(5)]
    npo, commissioner = world.users["npo_worker"], world.users["commissioner_a"]
    _reads(npo, residents + residents, outside=True)            # 5 distinct outside, 10 reads
    _reads(commissioner, residents, outside=False)               # her own district: never unusual
    _reads(world.users["care_worker"], residents[:2], outside=True)
    _reads(world.users["care_outsider"], residents, outside=True, at=timezone.now() - datetime.timedelta(days=30))

    body = client_for("privacy_officer").get("/api/v1/audit/unusual-access", {"threshold": 3}).json()
    assert [r["username"] for r in body["readers"]] == ["npo_worker"]
    (flagged,) = body["readers"]
    assert flagged["residents_outside_caseload"] == 5 and flagged["reads_outside_caseload"] == 10
    assert body["threshold"] == 3 and "third-party" in body["rule"]

    month = client_for("privacy_officer").get("/api/v1/audit/unusual-access", {
        "threshold": 3, "since": (timezone.now() - datetime.timedelta(days=40)).isoformat()}).json()
    assert {r["username"] for r in month["readers"]} == {"npo_worker", "care_outsider"}
    assert client_for("privacy_officer").get("/api/v1/audit/unusual-access", {"threshold": 6}).json()["readers"] == []
    for bad in ({"threshold": 0}, {"threshold": "many"}, {"since": "2020-01-01T00:00:00Z"}, {"extra": "1"}):
        assert client_for("privacy_officer").get("/api/v1/audit/unusual-access", bad).status_code == 400, bad


@pytest.mark.parametrize("persona", [p for p in PERSONAS if p != "privacy_officer"])
def test_nobody_else_sees_the_audit_views(persona, world, records, client_for):
    client = client_for(persona)
    expected = 403 if persona == "expired_commissioner" else 404
    for url in AUDIT_GETS:
        response = client.get(url.format(tanaka=world.tanaka.id))
        assert response.status_code == expected, (persona, url, response.status_code)


def test_an_officer_sees_only_their_ward(world, records, client_for):
    from cases.models import Ward
    from tests.factories import CouncilAreaFactory, DistrictFactory, OrganizationFactory, ResidentFactory

    other_ward = Ward.objects.create(code="asao", name="麻生区")
    district = DistrictFactory(council_area=CouncilAreaFactory(ward=other_ward))
    stranger = ResidentFactory(district=district, registered_by=OrganizationFactory(ward=other_ward))
    client = client_for("privacy_officer")
    assert client.get(f"/api/v1/audit/residents/{stranger.id}/readers").status_code == 404
    assert client.get(f"/api/v1/rights/disclosures/{stranger.id}").status_code == 404
    assert client.get("/api/v1/audit/access-log", {"resident": stranger.id}).json()["results"] == []
