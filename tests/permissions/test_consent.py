"""Consent decides what an organisation on the case team sees, and a change counts on the very next request.

No worker runs in these tests: a withdrawal re-derives the grants in its own
transaction, and an expiry is a window every read checks against the clock.
"""

from __future__ import annotations

import datetime

import pytest
import time_machine
from django.utils import timezone

from cases import services
from cases.errors import RuleViolation
from cases.models import Consent
from cases.models.choices import OrganizationKind
from cases.models.consent import Category, Decision, Grantor, Method, Purpose
from cases.models.visits import Channel, Outcome
from permissions.grants import grants_check
from permissions.models import (
    CaseGroupObjectPermission,
    NoteGroupObjectPermission,
    ResidentGroupObjectPermission,
    VisitGroupObjectPermission,
)
from tests.factories import OrganizationFactory
from tests.helpers import API

HOUR = datetime.timedelta(hours=1)
GRANT_TABLES = (ResidentGroupObjectPermission, CaseGroupObjectPermission, NoteGroupObjectPermission,
                VisitGroupObjectPermission)


@pytest.fixture
def tanaka(world):
    """The NPO joins Mr Tanaka's case team; Sato wrote one note of each category and a visit."""
    case = world.tanaka_case
    services.case_update(actor=world.users["care_worker"], case=case, expected_version=case.version,
                         team=[world.npo])
    notes = {
        category: services.note_write(actor=world.users["commissioner_a"], resident=world.tanaka,
                                      category=category, body=f"{category} note", case=case)
        for category in Category.values
    }
    visit = services.visit_record(
        actor=world.users["commissioner_a"], case=case, client_id="0b9a5f56-8a39-4d47-9c1e-5b0f3e2d7a10",
        occurred_at=timezone.now() - HOUR, channel=Channel.HOME_VISIT, outcome=Outcome.MET,
    ).visit
    return {"notes": notes, "visit": visit}


def record(world, *, organizations=(), kinds=(), categories, purposes=(Purpose.WATCH_OVER,),
           decision=Decision.GRANTED, actor="care_worker", **kwargs) -> Consent:
    return services.consent_record(
        actor=world.users[actor], resident=world.tanaka, decision=decision, grantor=Grantor.SELF,
        recipient_organizations=list(organizations), recipient_kinds=list(kinds), categories=list(categories),
        purposes=list(purposes), method=Method.ORAL, **kwargs,
    )


def seen(client, world, tanaka) -> dict:
    """What the client sees of Mr Tanaka: each route answered on its own."""
    notes = tanaka["notes"]
    listed = {n["id"] for n in client.get(f"{API}/notes").json()["results"]}
    by_id = {note.id: category for category, note in notes.items()}
    return {
        "resident": client.get(f"{API}/residents/{world.tanaka.id}").status_code,
        "residents": [r["id"] for r in client.get(f"{API}/residents").json()["results"]],
        "case": client.get(f"{API}/cases/{world.tanaka_case.id}").status_code,
        "cases": [c["id"] for c in client.get(f"{API}/cases").json()["results"]],
        "notes": {by_id[i] for i in listed},
        "note_details": {c for c, n in notes.items() if client.get(f"{API}/notes/{n.id}").status_code == 200},
        "visit": client.get(f"{API}/visits/{tanaka['visit'].id}").status_code,
        "visits": [v["id"] for v in client.get(f"{API}/visits").json()["results"]],
    }


def sees_nothing(world) -> dict:
    return {"resident": 404, "residents": [], "case": 404, "cases": [], "notes": set(), "note_details": set(),
            "visit": 404, "visits": []}


def sees(world, tanaka, categories) -> dict:
    categories = set(categories)
    visit = Category.LIVING_SITUATION in categories
    return {"resident": 200, "residents": [world.tanaka.id], "case": 200, "cases": [world.tanaka_case.id],
            "notes": categories, "note_details": categories, "visit": 200 if visit else 404,
            "visits": [tanaka["visit"].id] if visit else []}


def test_a_withdrawal_through_the_api_counts_on_the_very_next_request(world, client_for, tanaka):
    care = client_for("care_worker")
    npo = client_for("npo_worker")
    assert seen(npo, world, tanaka) == sees_nothing(world)
    recorded = care.post(f"{API}/residents/{world.tanaka.id}/consents", {
        "grantor": "self", "recipient_organizations": [world.npo.id],
        "categories": ["basic", "living_situation", "family"], "purposes": ["watch_over"], "method": "oral",
        "evidence": "サロン利用申込書 No.1042",
    }, format="json")
    assert recorded.status_code == 201, recorded.content
    consent_id = recorded.json()["id"]
    assert seen(npo, world, tanaka) == sees(world, tanaka, {"basic", "living_situation", "family"})
    # A recipient sees him, not his consent register (his daughter's name, the evidence, other recipients).
    assert npo.get(f"{API}/residents/{world.tanaka.id}/consents").status_code == 404

    # His daughter, his legal guardian, withdraws the NPO's consent.
    withdrawn = care.post(f"{API}/residents/{world.tanaka.id}/consents/{consent_id}/withdraw",
                          {"grantor": "legal_guardian", "note": "長女（成年後見人）より撤回の申出"}, format="json")
    assert withdrawn.status_code == 200, withdrawn.content
    assert withdrawn.json()["withdrawal_grantor"] == "legal_guardian"
    withdrawn_at = datetime.datetime.fromisoformat(withdrawn.json()["withdrawn_at"])

    # The very next request: nothing of him, through any route.
    assert seen(npo, world, tanaka) == sees_nothing(world)
    assert npo.get(f"{API}/residents/{world.tanaka.id}/consents").status_code == 404
    for note in tanaka["notes"].values():
        assert npo.get(f"{API}/notes/{note.id}/history").status_code == 404
    assert npo.get(f"{API}/notes?resident={world.tanaka.id}").json()["results"] == []
    # The NPO's grants ended at the moment of withdrawal (kept as history, never open-ended).
    npo_rows = [row for table in GRANT_TABLES for row in table.objects.filter(group_id=world.npo.group_id)]
    assert npo_rows and all(row.valid_until == withdrawn_at for row in npo_rows)
    # The others are untouched.
    assert seen(care, world, tanaka) == sees(world, tanaka, {"basic", "living_situation", "health"})
    assert grants_check() == []


def test_consent_expiry_stops_access_by_the_clock_alone(world, client_for, tanaka):
    npo = client_for("npo_worker")
    start = timezone.now()
    with time_machine.travel(start, tick=False) as clock:
        record(world, organizations=[world.npo], categories=["basic", "health"], valid_until=start + HOUR)
        assert seen(npo, world, tanaka) == sees(world, tanaka, {"basic", "health"})
        rows = [table.objects.count() for table in GRANT_TABLES]

        clock.move_to(start + HOUR - datetime.timedelta(microseconds=1))
        assert seen(npo, world, tanaka) == sees(world, tanaka, {"basic", "health"})
        clock.move_to(start + HOUR)
        assert seen(npo, world, tanaka) == sees_nothing(world)
        # No sync ran: the same rows, read at a later time.
        assert [table.objects.count() for table in GRANT_TABLES] == rows
        assert grants_check() == []


def test_a_consent_that_starts_later_opens_access_then(world, client_for, tanaka):
    npo = client_for("npo_worker")
    start = timezone.now()
    with time_machine.travel(start, tick=False) as clock:
        record(world, organizations=[world.npo], categories=["basic"], valid_from=start + HOUR)
        assert seen(npo, world, tanaka) == sees_nothing(world)
        clock.move_to(start + 2 * HOUR)
        assert seen(npo, world, tanaka) == sees(world, tanaka, {"basic"})


def test_a_refusal_is_respected_and_the_latest_decision_wins(world, client_for, tanaka):
    care = client_for("care_worker")
    start = timezone.now()
    with time_machine.travel(start, tick=False) as clock:
        assert seen(care, world, tanaka)["notes"] == {"basic", "living_situation", "health"}
        clock.shift(HOUR)
        record(world, organizations=[world.care_centre], categories=["health"], decision=Decision.REFUSED,
               actor="commissioner_a")
        assert seen(care, world, tanaka) == sees(world, tanaka, {"basic", "living_situation"})
        clock.shift(HOUR)
        # He changes his mind again: the later consent overrides the refusal.
        record(world, organizations=[world.care_centre], categories=["health", "disability"])
        assert seen(care, world, tanaka) == sees(world, tanaka, {"basic", "living_situation", "health", "disability"})
        clock.shift(HOUR)
        record(world, kinds=["care_centre"], categories=["disability"], decision=Decision.REFUSED)
        assert seen(care, world, tanaka) == sees(world, tanaka, {"basic", "living_situation", "health"})
        assert grants_check() == []


def test_a_refusal_of_basic_hides_the_resident_from_a_team_member_but_not_from_the_lead(world, client_for, tanaka):
    record(world, organizations=[world.npo], categories=["basic", "family"])
    npo = client_for("npo_worker")
    assert seen(npo, world, tanaka) == sees(world, tanaka, {"basic", "family"})
    with time_machine.travel(timezone.now() + HOUR, tick=False):
        record(world, organizations=[world.npo, world.care_centre], categories=["basic"], decision=Decision.REFUSED)
        npo_view = seen(npo, world, tanaka)
        assert (npo_view["resident"], npo_view["case"], npo_view["notes"]) == (404, 404, {"family"})
        # The lead organisation sees its case and resident whatever the consent says about basic.
        care_view = seen(client_for("care_worker"), world, tanaka)
        assert (care_view["resident"], care_view["case"]) == (200, 200)
        assert care_view["notes"] == {"living_situation", "health"}


def test_consent_for_another_purpose_does_not_open_watch_over(world, client_for, tanaka):
    record(world, organizations=[world.npo], categories=list(Category.values),
           purposes=[Purpose.REFERRAL, Purpose.DISASTER_EVACUATION])
    assert seen(client_for("npo_worker"), world, tanaka) == sees_nothing(world)
    assert grants_check() == []


def test_consent_alone_opens_nothing_to_an_organisation_outside_the_case_team(world, client_for, tanaka):
    record(world, organizations=[world.care_centre_2, world.ward_section], kinds=["npo", "care_centre"],
           categories=list(Category.values))
    for persona in ("care_outsider", "ward_caseworker", "ward_supervisor"):
        assert seen(client_for(persona), world, tanaka) == sees_nothing(world), persona
    # The NPO is on the team and named by kind: it sees everything the consent names.
    assert seen(client_for("npo_worker"), world, tanaka) == sees(world, tanaka, Category.values)


def test_a_consent_naming_organisations_by_kind_covers_every_team_member_of_that_kind(world, client_for, tanaka):
    second_npo = OrganizationFactory(kind="npo", name="NPO法人 多摩フードバンク", ward=world.npo.ward)
    case = world.tanaka_case
    case.refresh_from_db()
    services.case_update(actor=world.users["care_worker"], case=case, expected_version=case.version,
                         team=[world.npo, second_npo])
    record(world, kinds=["npo"], categories=["basic"])
    assert seen(client_for("npo_worker"), world, tanaka) == sees(world, tanaka, {"basic"})
    assert ResidentGroupObjectPermission.objects.filter(group_id=second_npo.group_id).exists()


def test_leaving_the_case_team_ends_consented_access_at_once(world, client_for, tanaka):
    record(world, organizations=[world.npo], categories=["basic", "health"])
    npo = client_for("npo_worker")
    assert seen(npo, world, tanaka) == sees(world, tanaka, {"basic", "health"})
    case = world.tanaka_case
    case.refresh_from_db()
    services.case_update(actor=world.users["care_worker"], case=case, expected_version=case.version, team=[])
    assert seen(npo, world, tanaka) == sees_nothing(world)
    assert grants_check() == []


def test_a_consent_naming_the_commissioner_council_shows_others_notes_to_the_district(world, client_for, tanaka):
    note = services.note_write(actor=world.users["care_worker"], resident=world.tanaka, category="health",
                               body="主治医より：心不全の既往あり", case=world.tanaka_case)
    sato = client_for("commissioner_a")
    assert sato.get(f"{API}/notes/{note.id}").status_code == 404
    record(world, kinds=["commissioner_council"], categories=["health"])
    assert sato.get(f"{API}/notes/{note.id}").status_code == 200
    assert client_for("commissioner_b").get(f"{API}/notes/{note.id}").status_code == 404
    assert client_for("expired_commissioner").get(f"{API}/notes/{note.id}").status_code == 403
    assert grants_check() == []


def test_a_withdrawn_consent_cannot_be_revived_and_a_new_one_is_a_new_record(world, client_for, tanaka):
    consent = record(world, organizations=[world.npo], categories=["basic"])
    services.consent_withdraw(actor=world.users["care_worker"], resident=world.tanaka, consent_id=consent.id,
                              grantor=Grantor.LEGAL_GUARDIAN)
    again = services.consent_withdraw(actor=world.users["care_worker"], resident=world.tanaka,
                                      consent_id=consent.id, grantor=Grantor.SELF)
    assert again.withdrawal_grantor == Grantor.LEGAL_GUARDIAN
    npo = client_for("npo_worker")
    assert seen(npo, world, tanaka) == sees_nothing(world)
    with time_machine.travel(timezone.now() + HOUR, tick=False):
        record(world, organizations=[world.npo], categories=["basic"])
        assert seen(npo, world, tanaka) == sees(world, tanaka, {"basic"})
        assert grants_check() == []


@pytest.mark.parametrize("field, value, code", [
    ("kinds", ["aliens"], "recipient_kinds_invalid"),
    ("categories", ["gossip"], "categories_invalid"),
    ("purposes", ["marketing"], "purposes_invalid"),
])
def test_an_unknown_kind_category_or_purpose_names_the_rule(world, field, value, code):
    chosen = {"kinds": [OrganizationKind.CARE_CENTRE], "categories": [Category.BASIC], "purposes": [Purpose.WATCH_OVER]}
    with pytest.raises(RuleViolation) as refused:
        record(world, **{**chosen, field: value})
    assert (refused.value.code, refused.value.field) == (code, {"kinds": "recipient_kinds"}.get(field, field))
