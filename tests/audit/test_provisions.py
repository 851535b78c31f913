"""The third-party provision log: written with the grants, once per recipient × resident × item × basis,
searchable by the privacy officer only."""

from __future__ import annotations

import datetime

import pytest
from django.utils import timezone

from audit.models import ProvisionRecord
from cases import services
from cases.models.consent import Grantor, Method, Purpose
from tests.helpers import PERSONAS, npo_on_team


def _npo_consent(world, categories=("basic", "health")):
    return services.consent_record(
        actor=world.users["care_worker"], resident=world.tanaka, decision="granted", grantor=Grantor.SELF,
        recipient_organizations=[world.npo], categories=list(categories), purposes=[Purpose.WATCH_OVER],
        method=Method.ORAL,
    )


def test_a_consent_to_another_organisation_is_recorded_with_the_grant(world, records):
    npo_on_team(world)
    consent = _npo_consent(world)
    rows = ProvisionRecord.objects.filter(recipient=world.npo, resident=world.tanaka)
    items = sorted(rows.values_list("item", "category", "basis"))
    basis = f"consent:{consent.id}"
    assert items == [("case", "basic", basis), ("note", "health", basis), ("resident", "basic", basis)]
    assert all(r.basis_code == "consent" for r in rows)

    # A second health note under the same consent is the same provision: nothing new.
    services.note_write(actor=world.users["commissioner_a"], resident=world.tanaka, category="health", body="再診",
                        case=world.tanaka_case)
    assert rows.count() == 3


def test_a_refused_or_expired_share_is_not_a_provision(world):
    npo_on_team(world)
    now = timezone.now()
    services.consent_record(
        actor=world.users["care_worker"], resident=world.tanaka, decision="granted", grantor=Grantor.SELF,
        recipient_organizations=[world.npo], categories=["basic"], purposes=[Purpose.WATCH_OVER], method=Method.ORAL,
        valid_from=now - datetime.timedelta(days=10), valid_until=now - datetime.timedelta(days=1),
    )
    assert not ProvisionRecord.objects.filter(recipient=world.npo).exists()


def test_break_glass_records_the_legal_basis_and_the_district_council(world, records):
    grant = records.grant  # APPI27-1-2 for the ward section about Mrs Suzuki
    rows = ProvisionRecord.objects.filter(recipient=world.ward_section, resident=world.suzuki)
    assert set(rows.values_list("basis", flat=True)) == {f"APPI27-1-2:{grant.id}"}
    assert set(rows.values_list("item", flat=True)) == {"resident", "case"}
    assert rows.first().basis_code == "APPI27-1-2"


def test_the_privacy_officer_searches_by_resident_recipient_and_period(world, records, client_for):
    _npo_consent(world)
    client = client_for("privacy_officer")
    body = client.get("/api/v1/audit/provisions", {"resident": world.suzuki.id}).json()
    assert {r["resident"] for r in body["results"]} == {world.suzuki.id}
    body = client.get("/api/v1/audit/provisions", {"recipient": world.care_centre.id}).json()
    assert body["results"] and {r["recipient"]["id"] for r in body["results"]} == {world.care_centre.id}
    future = (timezone.now() + datetime.timedelta(days=1)).isoformat()
    assert client.get("/api/v1/audit/provisions", {"since": future}).json()["results"] == []
    assert client.get("/api/v1/audit/provisions", {"until": future}).json()["results"]


@pytest.mark.parametrize("persona", [p for p in PERSONAS if p != "privacy_officer"])
def test_nobody_else_sees_provisions(persona, world, records, client_for):
    response = client_for(persona).get("/api/v1/audit/provisions")
    assert response.status_code == (403 if persona == "expired_commissioner" else 404)
    assert response["Content-Type"] == "application/problem+json"


def test_bad_filters_answer_400(world, client_for):
    client = client_for("privacy_officer")
    for params in ({"resident": "abc"}, {"since": "yesterday"}, {"recipient": "-1"}, {"resident": "9" * 30}):
        response = client.get("/api/v1/audit/provisions", params)
        assert response.status_code == 400, (params, response.content)
        assert response.json()["code"] == "validation_error"
