"""A referral may name a listed service: its organisation receives it, the inbox shows the service, and
the listing counts referrals only from 10 up."""

from __future__ import annotations

import pytest

from cases import services
from cases.models import Referral
from service_directory.selectors import SMALL_COUNT, listing_get_for_user, listing_referral_counts
from tests.helpers import API, referral_consent

pytestmark = pytest.mark.django_db


def refer_to(client, world, **body):
    return client.post(f"{API}/referrals", {"case": world.tanaka_case.id, "reason": "サロンへの参加をすすめたい",
                                            "categories": ["basic"], **body}, format="json")


def test_a_referral_to_a_service_goes_to_its_organisation_and_the_inbox_shows_it(directory, world, client_for):
    referral_consent(world, categories=["basic"], recipient=world.npo)
    response = refer_to(client_for("care_worker"), world, service=str(directory.salon.uuid))
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["receiver_organization"]["id"] == world.npo.id
    assert body["service"] == {"hsds_id": str(directory.salon.uuid), "name": "いきいきサロン登戸"}
    inbox = client_for("npo_worker").get(f"{API}/referrals/inbox").json()["results"]
    assert [(r["id"], r["service"]["name"]) for r in inbox] == [(body["id"], "いきいきサロン登戸")]


def test_a_service_and_another_receiver_or_an_unlisted_service_are_refused(directory, world, client_for):
    referral_consent(world, categories=["basic"], recipient=world.npo)
    client = client_for("care_worker")
    mismatch = refer_to(client, world, service=str(directory.salon.uuid), receiver_organization=world.ward_section.id)
    assert (mismatch.status_code, mismatch.json()["code"]) == (400, "service_receiver_mismatch")
    hidden = refer_to(client, world, service=str(directory.pending.uuid))
    assert (hidden.status_code, hidden.json()["code"]) == (404, "not_found")
    neither = refer_to(client, world)
    assert (neither.status_code, neither.json()["errors"][0]["field"]) == (400, "receiver_organization")
    assert not Referral.objects.filter(service__isnull=False).exists()


def test_counts_below_ten_are_not_shown(directory, world):
    referral_consent(world, categories=["basic"], recipient=world.npo)
    for _ in range(SMALL_COUNT - 1):
        services.referral_create(actor=world.users["care_worker"], case=world.tanaka_case,
                                 receiver_organization=world.npo, reason="参加のすすめ", categories=["basic"],
                                 service_id=directory.salon.id)
    listing = listing_get_for_user(user=world.users["npo_worker"], listing_id=directory.salon.id)
    assert listing_referral_counts(service=listing) == {"referred": None, "completed": None}
    services.referral_create(actor=world.users["care_worker"], case=world.tanaka_case,
                             receiver_organization=world.npo, reason="参加のすすめ", categories=["basic"],
                             service_id=directory.salon.id)
    listing = listing_get_for_user(user=world.users["npo_worker"], listing_id=directory.salon.id)
    assert listing_referral_counts(service=listing) == {"referred": SMALL_COUNT, "completed": None}
    assert listing_referral_counts(service=directory.salon) == {"referred": SMALL_COUNT, "completed": None}
