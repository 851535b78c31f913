"""What a referral shares, derived by the policy: by state, by category, within consent, named `referral:<id>`."""

from __future__ import annotations

import datetime

import pytest
from django.utils import timezone

from cases import services
from cases.models import Consent, Referral, Visit
from cases.models.consent import Decision, Grantor, Method
from cases.models.referrals import ReferralStatus
from permissions.grants import grants_check, grants_sync_residents
from permissions.policy import expected_for_residents

SHARING = {"requested": "decide", "accepted": "work", "in-progress": "work", "on-hold": "work"}


def _consent(world, recipient, categories=("basic", "health", "living_situation")):
    consent = Consent.objects.create(
        resident=world.tanaka, decision=Decision.GRANTED, grantor=Grantor.SELF, categories=list(categories),
        purposes=["referral"], valid_from=timezone.now() - datetime.timedelta(days=1), method=Method.ORAL,
        taken_by=world.users["care_worker"], taken_by_organization=world.care_centre,
    )
    consent.recipient_organizations.set([recipient])
    return consent


def _referral(world, status, receiver=None, categories=("basic", "health")) -> Referral:
    referral = Referral.objects.create(
        case=world.tanaka_case, sender_organization=world.care_centre, sender_user=world.users["care_worker"],
        receiver_organization=receiver or world.ward_section, reason="相談", categories=list(categories),
        status=status, requested_at=timezone.now(), response_due_at=timezone.now(),
    )
    grants_sync_residents(resident_ids=[world.tanaka.id])
    return referral


def _held(world, group_id, basis):
    expected = expected_for_residents([world.tanaka.id])
    pick = lambda grants: {g[1] for g in grants if g[0] == group_id and g[4] == basis}  # noqa: E731
    return {
        "resident": pick(expected.residents[world.tanaka.id]),
        "case": pick(expected.cases[world.tanaka_case.id]),
        "notes": {nid: pick(grants) for nid, grants in expected.notes.items() if pick(grants)},
        "visits": {vid: pick(grants) for vid, grants in expected.visits.items() if pick(grants)},
    }


@pytest.fixture
def records(world):
    care = world.users["care_worker"]
    notes = {c: services.note_write(actor=care, resident=world.tanaka, case=world.tanaka_case, category=c,
                                    body="メモ").id for c in ("basic", "health", "finances")}
    visit = Visit.objects.create(case=world.tanaka_case, recorded_by=care, organization=world.care_centre,
                                 client_id="0b7f1d36-5d0e-4d8e-9f53-8a4a8d2b9c01", occurred_at=timezone.now(),
                                 channel="home_visit", outcome="met")
    return notes, visit


@pytest.mark.parametrize("status", [s.value for s in ReferralStatus if s != "draft"])
def test_each_state_shares_what_it_should(world, records, status):
    notes, _ = records
    _consent(world, world.ward_section)
    referral = _referral(world, status)
    held = _held(world, world.ward_section.group_id, f"referral:{referral.id}")
    mode = SHARING.get(status)
    assert held["resident"] == ({"view_resident"} if mode else set())
    assert held["case"] == ({"view_case"} if mode else set())
    assert set(held["notes"]) == ({notes["basic"], notes["health"]} if mode == "work" else set())
    assert held["visits"] == {}  # living_situation was not referred
    assert grants_check() == []


def test_visits_are_shared_when_living_situation_is_referred_and_consented(world, records):
    _, visit = records
    _consent(world, world.ward_section)
    referral = _referral(world, "accepted", categories=("basic", "living_situation"))
    assert set(_held(world, world.ward_section.group_id, f"referral:{referral.id}")["visits"]) == {visit.id}


def test_nothing_beyond_consent_even_if_the_referral_names_it(world, records):
    notes, _ = records
    _consent(world, world.ward_section, categories=("basic",))
    referral = _referral(world, "accepted", categories=("basic", "health", "finances"))
    held = _held(world, world.ward_section.group_id, f"referral:{referral.id}")
    assert set(held["notes"]) == {notes["basic"]}


def test_a_referral_to_the_commissioner_council_reaches_the_residents_district(world, records):
    _consent(world, world.council)
    referral = _referral(world, "accepted", receiver=world.council)
    held = _held(world, world.district_a.group_id, f"referral:{referral.id}")
    assert held["case"] == {"view_case"} and held["notes"]


def test_the_window_ends_when_consent_is_withdrawn(world, records):
    consent = _consent(world, world.ward_section)
    referral = _referral(world, "accepted")
    services.consent_withdraw(actor=world.users["care_worker"], resident=world.tanaka, consent_id=consent.id,
                              grantor="self")
    expected = expected_for_residents([world.tanaka.id])
    windows = [g for g in expected.cases[world.tanaka_case.id] if g[4] == f"referral:{referral.id}"]
    assert windows and all(end <= timezone.now() for _, _, _, end, _ in windows)
