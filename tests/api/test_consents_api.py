"""The consents API: record (oral is valid, a proxy is named), list for those who see the resident, withdraw."""

from __future__ import annotations

import datetime

from django.utils import timezone

from cases.models import Consent
from permissions.grants import grants_check
from tests.helpers import API


def url(world, *rest) -> str:
    return "/".join([f"{API}/residents/{world.tanaka.id}/consents", *map(str, rest)])


def consent_body(world, **overrides) -> dict:
    return {"grantor": "self", "recipient_organizations": [world.npo.id], "categories": ["basic"],
            "purposes": ["watch_over"], "method": "oral", **overrides}


def post(client, world, **overrides):
    return client.post(url(world), consent_body(world, **overrides), format="json")


def test_an_oral_consent_is_recorded_with_who_took_it(world, client_for):
    response = post(client_for("care_worker"), world, categories=["health", "basic"], evidence="訪問時に口頭で確認")
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["decision"] == "granted" and body["method"] == "oral" and body["grantor"] == "self"
    assert body["resident"] == world.tanaka.id
    assert [o["id"] for o in body["recipient_organizations"]] == [world.npo.id]
    assert body["categories"] == ["basic", "health"] and body["purposes"] == ["watch_over"]
    assert body["taken_by"]["id"] == world.users["care_worker"].id
    assert body["taken_by_organization"]["id"] == world.care_centre.id
    assert body["withdrawn_at"] is None and body["valid_until"] is None
    assert abs(datetime.datetime.fromisoformat(body["valid_from"]) - timezone.now()) < datetime.timedelta(minutes=1)
    assert grants_check() == []


def test_a_proxy_must_be_named(world, client_for):
    client = client_for("care_worker")
    count = Consent.objects.count()
    for proxy_name in ("", "   "):
        response = post(client, world, grantor="legal_guardian", proxy_name=proxy_name)
        assert response.status_code == 400
        assert response.json()["code"] == "consent_proxy_required"
        assert response.json()["errors"][0]["field"] == "proxy_name"
    response = post(client, world, grantor="family")
    assert (response.status_code, response.json()["code"]) == (400, "consent_proxy_required")
    assert Consent.objects.count() == count

    response = post(client, world, grantor="legal_guardian", proxy_name=" 田中 花子（長女） ", method="written",
                    evidence="同意書 No.2024-118")
    assert response.status_code == 201, response.content
    assert response.json()["proxy_name"] == "田中 花子（長女）"


def test_a_consent_names_at_least_one_recipient(world, client_for):
    count = Consent.objects.count()
    response = post(client_for("care_worker"), world, recipient_organizations=[])
    assert response.status_code == 400
    assert response.json()["code"] == "consent_recipients_required"
    assert Consent.objects.count() == count
    by_kind = post(client_for("care_worker"), world, recipient_organizations=[], recipient_kinds=["npo"])
    assert by_kind.status_code == 201 and by_kind.json()["recipient_kinds"] == ["npo"]


def test_a_malformed_consent_is_400_and_nothing_is_recorded(world, client_for):
    client = client_for("care_worker")
    count = Consent.objects.count()
    for overrides in [
        {"categories": []},
        {"categories": ["everything"]},
        {"purposes": []},
        {"purposes": ["marketing"]},
        {"method": "telepathy"},
        {"grantor": "neighbour"},
        {"recipient_organizations": [999_999]},
        {"recipient_kinds": ["bank"]},
        {"decision": "maybe"},
        {"unexpected": True},
    ]:
        response = post(client, world, **overrides)
        assert response.status_code == 400, (overrides, response.content)
    assert Consent.objects.count() == count


def test_a_period_must_end_after_it_starts(world, client_for):
    start = timezone.now()
    response = post(client_for("care_worker"), world, valid_from=start.isoformat(),
                    valid_until=(start - datetime.timedelta(days=1)).isoformat())
    assert (response.status_code, response.json()["code"]) == (400, "consent_period_invalid")


def test_consents_are_404_to_whoever_does_not_see_the_resident(world, client_for):
    count = Consent.objects.count()
    consent = Consent.objects.get(resident=world.tanaka)
    for persona in ("npo_worker", "commissioner_b", "care_outsider", "ward_caseworker", "partner",
                    "privacy_officer"):
        client = client_for(persona)
        assert client.get(url(world)).status_code == 404, persona
        assert post(client, world).status_code == 404, persona
        withdraw = client.post(url(world, consent.id, "withdraw"), {"grantor": "self"}, format="json")
        assert withdraw.status_code == 404, persona
    assert client_for("expired_commissioner").get(url(world)).status_code == 403
    assert Consent.objects.count() == count
    consent.refresh_from_db()
    assert consent.withdrawn_at is None


def test_the_list_shows_a_residents_consents_newest_first_to_those_who_see_him(world, client_for):
    care = client_for("care_worker")
    tanaka_consent = Consent.objects.get(resident=world.tanaka)
    newer = post(care, world).json()
    listed = care.get(url(world))
    assert listed.status_code == 200
    assert "count" not in listed.json()
    assert [c["id"] for c in listed.json()["results"]] == [newer["id"], tanaka_consent.id]
    assert [c["id"] for c in client_for("commissioner_a").get(url(world)).json()["results"]] == [
        c["id"] for c in listed.json()["results"]]
    # Mrs Suzuki's consents are not Mr Tanaka's.
    assert client_for("commissioner_b").get(f"{API}/residents/{world.suzuki.id}/consents").json()["results"] == []


def test_withdraw_is_idempotent(world, client_for):
    care = client_for("care_worker")
    consent = post(care, world).json()
    first = care.post(url(world, consent["id"], "withdraw"), {"grantor": "legal_guardian", "note": "長女より"},
                      format="json")
    assert first.status_code == 200, first.content
    assert first.json()["withdrawn_at"] is not None
    assert first.json()["withdrawn_by"]["id"] == world.users["care_worker"].id
    second = client_for("care_supervisor").post(url(world, consent["id"], "withdraw"), {"grantor": "self"},
                                                format="json")
    assert second.status_code == 200
    assert second.json() == first.json()


def test_withdrawing_an_unknown_or_another_residents_consent_is_404(world, client_for):
    sato = client_for("commissioner_a")
    assert sato.post(url(world, 999_999, "withdraw"), {"grantor": "self"}, format="json").status_code == 404
    other = Consent.objects.create(
        resident=world.suzuki, grantor="self", categories=["basic"], purposes=["watch_over"],
        valid_from=timezone.now(), method="oral", taken_by=world.users["commissioner_b"],
        taken_by_organization=world.council,
    )
    other.recipient_organizations.set([world.npo])
    response = sato.post(url(world, other.id, "withdraw"), {"grantor": "self"}, format="json")
    assert response.status_code == 404
    other.refresh_from_db()
    assert other.withdrawn_at is None


def test_a_refusal_is_recorded_respected_and_cannot_be_withdrawn(world, client_for):
    care = client_for("care_worker")
    sato = client_for("commissioner_a")
    health_note = sato.post(f"{API}/notes", {"resident": world.tanaka.id, "category": "health",
                                             "body": "物忘れが増えた"}, format="json").json()
    assert care.get(f"{API}/notes/{health_note['id']}").status_code == 200

    refusal = post(sato, world, decision="refused", recipient_organizations=[world.care_centre.id],
                   categories=["health"])
    assert refusal.status_code == 201, refusal.content
    assert refusal.json()["decision"] == "refused"
    assert care.get(f"{API}/notes/{health_note['id']}").status_code == 404
    assert care.get(f"{API}/notes?category=health").json()["results"] == []

    response = care.post(url(world, refusal.json()["id"], "withdraw"), {"grantor": "self"}, format="json")
    assert (response.status_code, response.json()["code"]) == (409, "consent_not_withdrawable")
    assert care.get(f"{API}/notes/{health_note['id']}").status_code == 404
    assert grants_check() == []


def test_a_retried_record_with_its_key_is_stored_once(world, client_for):
    care = client_for("care_worker")
    count = Consent.objects.count()
    responses = [care.post(url(world), consent_body(world), format="json", HTTP_IDEMPOTENCY_KEY="consent-1")
                 for _ in range(3)]
    assert [r.status_code for r in responses] == [201, 201, 201]
    assert Consent.objects.count() == count + 1


def test_a_recipient_cannot_record_consent_for_itself(world, client_for):
    """The NPO sees Tanaka only through consent; it must not widen what it receives."""
    from cases.models import CaseTeamMember, Consent
    from cases.models.consent import Decision, Grantor, Method
    from permissions.grants import grants_sync_residents

    CaseTeamMember.objects.create(case=world.tanaka_case, organization=world.npo)
    Consent.objects.create(
        resident=world.tanaka, decision=Decision.GRANTED, grantor=Grantor.SELF, categories=["basic"],
        purposes=["watch_over"], valid_from=world.tanaka.created_at, method=Method.ORAL,
        taken_by=world.users["commissioner_a"], taken_by_organization=world.council,
    ).recipient_organizations.set([world.npo])
    grants_sync_residents(resident_ids=[world.tanaka.id])
    client = client_for("npo_worker")
    assert client.get(f"/api/v1/residents/{world.tanaka.id}").status_code == 200
    before = Consent.objects.count()
    response = client.post(f"/api/v1/residents/{world.tanaka.id}/consents", {
        "grantor": "self", "recipient_organizations": [world.npo.id], "categories": ["health", "finances"],
        "purposes": ["watch_over"], "method": "oral",
    }, format="json")
    assert response.status_code == 403
    assert response.json()["code"] == "own_right_required"
    assert Consent.objects.count() == before
