"""Access without consent: break-glass (APPI27-1-2) and support meetings (SWA106-6).

Each grant is time-limited and ends on time with no worker running: every read
checks the grant's window, so the tests move the clock and change nothing else.
"""

from __future__ import annotations

import datetime
import uuid

import time_machine
from django.utils import timezone
from rest_framework.test import APIClient

from api.tokens import token_issue
from cases import services
from cases.models import LegalBasisGrant
from cases.models.choices import Role
from cases.models.consent import Category
from permissions.grants import grants_check
from permissions.models import NoteGroupObjectPermission, ResidentGroupObjectPermission
from tests.factories import CaseFactory, MembershipFactory, ResidentFactory, UserFactory
from tests.helpers import API, break_glass

HOUR = datetime.timedelta(hours=1)


def client_of(user) -> APIClient:
    _, plaintext = token_issue(user=user, name="test")
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {plaintext}")
    return client


def notes_by_category(world) -> dict:
    """One note of each category about Mr Tanaka by commissioner Sato, and her visit."""
    notes = {
        category: services.note_write(actor=world.users["commissioner_a"], resident=world.tanaka, category=category,
                                      body=f"{category} note", case=world.tanaka_case)
        for category in Category.values
    }
    return notes


def sees(client, world, notes: dict) -> dict:
    """What the client sees of Mr Tanaka, through every kind of route."""
    resident = client.get(f"{API}/residents/{world.tanaka.id}").status_code
    case = client.get(f"{API}/cases/{world.tanaka_case.id}").status_code
    listed_residents = {r["id"] for r in client.get(f"{API}/residents").json()["results"]}
    listed_cases = {c["id"] for c in client.get(f"{API}/cases").json()["results"]}
    listed_notes = {n["id"] for n in client.get(f"{API}/notes").json()["results"]}
    by_id = {note.id: category for category, note in notes.items()}
    detail = {c for c, note in notes.items() if client.get(f"{API}/notes/{note.id}").status_code == 200}
    assert (resident == 200) == (world.tanaka.id in listed_residents)
    assert (case == 200) == (world.tanaka_case.id in listed_cases)
    assert {by_id[i] for i in listed_notes if i in by_id} == detail
    return {"resident": resident == 200, "case": case == 200, "notes": detail}


NOTHING = {"resident": False, "case": False, "notes": set()}




def second_supervisor(world, username="ward_supervisor_2"):
    user = UserFactory(username=username)
    MembershipFactory(user=user, organization=world.ward_section, role=Role.SUPERVISOR)
    return user


def test_break_glass_for_72_hours_ends_on_time_with_no_worker(world, client_for):
    notes = notes_by_category(world)
    caseworker = client_for("ward_caseworker")
    assert sees(caseworker, world, notes) == NOTHING
    start = timezone.now()
    with time_machine.travel(start, tick=False) as clock:
        response = break_glass(client_for("ward_supervisor"), world)
        assert response.status_code == 201, response.content
        grant = response.json()
        assert grant["status"] == "active" and grant["basis"] == "APPI27-1-2"
        assert grant["requested_by"]["id"] == grant["approved_by"]["id"] == world.users["ward_supervisor"].id
        starts_at = datetime.datetime.fromisoformat(grant["starts_at"])
        assert datetime.datetime.fromisoformat(grant["ends_at"]) - starts_at == 72 * HOUR
        # The next day another supervisor is asked whether it was justified.
        assert datetime.datetime.fromisoformat(grant["review_due_at"]) - starts_at == 24 * HOUR

        seen = {"resident": True, "case": True, "notes": {"basic", "family"}}
        assert sees(caseworker, world, notes) == seen
        assert caseworker.get(f"{API}/visits").json()["results"] == []
        rows = ResidentGroupObjectPermission.objects.count(), NoteGroupObjectPermission.objects.count()

        clock.move_to(start + 71 * HOUR)
        assert sees(caseworker, world, notes) == seen
        clock.move_to(start + 73 * HOUR)
        assert sees(caseworker, world, notes) == NOTHING
        assert caseworker.get(f"{API}/residents/{world.tanaka.id}").json()["code"] == "not_found"
        # Nothing was written in between: the window alone ended it.
        assert (ResidentGroupObjectPermission.objects.count(), NoteGroupObjectPermission.objects.count()) == rows
        assert grants_check() == []


def test_break_glass_longer_than_72_hours_is_refused(world, client_for):
    supervisor = client_for("ward_supervisor")
    for hours in (73, 720):
        response = break_glass(supervisor, world, hours=hours)
        assert response.status_code == 400, hours
        assert response.json()["code"] == "legal_basis_duration"
        assert response.json()["errors"][0]["field"] == "hours"
    assert break_glass(supervisor, world, basis="APPI27-1-1", hours=721).status_code == 400
    assert not LegalBasisGrant.objects.exists()


def test_only_a_supervisor_of_a_professional_body_asks_and_others_learn_nothing(world, client_for):
    """Anyone who may not ask for a legal basis gets the answer a missing resident gets."""
    npo_supervisor = UserFactory(username="npo_supervisor")
    MembershipFactory(user=npo_supervisor, organization=world.npo, role=Role.SUPERVISOR)
    clients = {persona: client_for(persona) for persona in ("ward_caseworker", "care_worker", "npo_worker",
                                                             "commissioner_a", "privacy_officer")}
    clients["npo_supervisor"] = client_of(npo_supervisor)
    for persona, client in clients.items():
        response = break_glass(client, world)
        missing = client.post(f"{API}/legal-basis-grants", {
            "resident": 987_654_321, "basis": "APPI27-1-2", "categories": ["basic"], "hours": 72,
            "justification": "隣人から異臭の通報。本人の同意を得ることが困難。"}, format="json")
        assert (response.status_code, response.json()["code"]) == (404, "not_found"), persona
        assert response.json()["errors"] == missing.json()["errors"] == [
            {"field": "resident", "code": "not_found", "message": response.json()["title"]}], persona
    assert not LegalBasisGrant.objects.exists()


def test_break_glass_needs_a_justification_and_known_categories(world, client_for):
    supervisor = client_for("ward_supervisor")
    assert break_glass(supervisor, world, justification="急ぎ").status_code == 400
    assert break_glass(supervisor, world, categories=[]).status_code == 400
    assert break_glass(supervisor, world, categories=["everything"]).status_code == 400
    assert break_glass(supervisor, world, basis="SWA106-6").status_code == 400
    assert not LegalBasisGrant.objects.exists()


def test_with_approval_required_the_grant_waits_for_a_different_supervisor(world, client_for):
    world.ward_section.requires_grant_approval = True
    world.ward_section.save()
    notes = notes_by_category(world)
    other = second_supervisor(world)
    caseworker = client_for("ward_caseworker")
    requester = client_for("ward_supervisor")
    start = timezone.now()
    with time_machine.travel(start, tick=False) as clock:
        grant = break_glass(requester, world).json()
        assert grant["status"] == "pending" and grant["approved_by"] is None
        assert sees(caseworker, world, notes) == NOTHING
        assert not ResidentGroupObjectPermission.objects.filter(group_id=world.ward_section.group_id).exists()

        response = requester.post(f"{API}/legal-basis-grants/{grant['id']}/approve")
        assert (response.status_code, response.json()["code"]) == (403, "four_eyes_required")
        assert sees(caseworker, world, notes) == NOTHING
        # A supervisor of another organisation does not even find it.
        assert client_for("care_supervisor").post(f"{API}/legal-basis-grants/{grant['id']}/approve").status_code == 404

        clock.move_to(start + 2 * HOUR)
        approved = client_of(other).post(f"{API}/legal-basis-grants/{grant['id']}/approve")
        assert approved.status_code == 200, approved.content
        approved = approved.json()
        assert approved["status"] == "active" and approved["approved_by"]["id"] == other.id
        # The 72 hours run from the approval, not from the request.
        approved_at = start + 2 * HOUR
        assert datetime.datetime.fromisoformat(approved["starts_at"]) == approved_at
        assert datetime.datetime.fromisoformat(approved["ends_at"]) == approved_at + 72 * HOUR
        assert datetime.datetime.fromisoformat(approved["review_due_at"]) >= approved_at + 24 * HOUR
        assert sees(caseworker, world, notes)["notes"] == {"basic", "family"}
        again = client_of(other).post(f"{API}/legal-basis-grants/{grant['id']}/approve")
        assert (again.status_code, again.json()["code"]) == (409, "grant_not_pending")

        clock.move_to(approved_at + 73 * HOUR)
        assert sees(caseworker, world, notes) == NOTHING
        assert grants_check() == []


def test_a_pending_grant_that_is_revoked_never_gave_access(world, client_for):
    world.ward_section.requires_grant_approval = True
    world.ward_section.save()
    notes_by_category(world)
    start = timezone.now()
    with time_machine.travel(start, tick=False) as clock:
        grant = break_glass(client_for("ward_supervisor"), world).json()
        clock.move_to(start + HOUR)
        revoked = client_for("ward_supervisor").post(f"{API}/legal-basis-grants/{grant['id']}/revoke")
        assert revoked.json()["status"] == "revoked"
        for table in (ResidentGroupObjectPermission, NoteGroupObjectPermission):
            assert not table.objects.filter(group_id=world.ward_section.group_id).exists(), table
        assert grants_check() == []


def test_review_the_next_day_by_another_supervisor_and_unjustified_ends_access_at_once(world, client_for):
    notes = notes_by_category(world)
    other = second_supervisor(world)
    caseworker = client_for("ward_caseworker")
    start = timezone.now()
    with time_machine.travel(start, tick=False) as clock:
        grant = break_glass(client_for("ward_supervisor"), world).json()
        url = f"{API}/legal-basis-grants/{grant['id']}"
        due = datetime.datetime.fromisoformat(grant["review_due_at"])
        assert due == start + 24 * HOUR
        clock.move_to(due + HOUR)

        own = client_for("ward_supervisor").post(f"{url}/review", {"justified": True}, format="json")
        assert (own.status_code, own.json()["code"]) == (403, "four_eyes_required")
        assert sees(caseworker, world, notes)["resident"] is True

        reviewed = client_of(other).post(f"{url}/review", {"justified": False, "note": "同意取得が可能だった"},
                                          format="json")
        assert reviewed.status_code == 200, reviewed.content
        body = reviewed.json()
        assert body["review_justified"] is False and body["reviewed_by"]["id"] == other.id
        assert body["status"] == "revoked"
        assert sees(caseworker, world, notes) == NOTHING
        twice = client_of(other).post(f"{url}/review", {"justified": True}, format="json")
        assert (twice.status_code, twice.json()["code"]) == (409, "grant_already_reviewed")
        assert sees(caseworker, world, notes) == NOTHING
        assert grants_check() == []


def test_a_justified_review_leaves_access_until_the_end(world, client_for):
    notes = notes_by_category(world)
    other = second_supervisor(world)
    with time_machine.travel(timezone.now(), tick=False) as clock:
        grant = break_glass(client_for("ward_supervisor"), world, hours=48).json()
        clock.shift(25 * HOUR)
        reviewed = client_of(other).post(f"{API}/legal-basis-grants/{grant['id']}/review", {"justified": True},
                                          format="json")
        assert reviewed.json()["status"] == "active"
        assert sees(client_for("ward_caseworker"), world, notes)["notes"] == {"basic", "family"}


def test_revoke_ends_access_at_once(world, client_for):
    notes = notes_by_category(world)
    caseworker = client_for("ward_caseworker")
    with time_machine.travel(timezone.now(), tick=False) as clock:
        grant = break_glass(client_for("ward_supervisor"), world).json()
        assert sees(caseworker, world, notes)["resident"] is True
        clock.shift(HOUR)
        assert client_for("care_supervisor").post(f"{API}/legal-basis-grants/{grant['id']}/revoke").status_code == 404
        assert sees(caseworker, world, notes)["resident"] is True
        revoked = client_for("ward_supervisor").post(f"{API}/legal-basis-grants/{grant['id']}/revoke")
        assert revoked.status_code == 200 and revoked.json()["status"] == "revoked"
        assert sees(caseworker, world, notes) == NOTHING
        assert grants_check() == []


def test_grants_are_listed_only_to_supervisors_of_the_holding_organisation(world, client_for):
    grant = break_glass(client_for("ward_supervisor"), world).json()
    assert [g["id"] for g in client_for("ward_supervisor").get(f"{API}/legal-basis-grants").json()["results"]] == [
        grant["id"]]
    for persona in ("ward_caseworker", "care_supervisor", "npo_worker"):
        client = client_for(persona)
        assert client.get(f"{API}/legal-basis-grants").json()["results"] == [], persona
        assert client.get(f"{API}/legal-basis-grants/{grant['id']}").status_code == 404, persona


def test_support_meeting_shares_only_with_members_who_acknowledged_until_it_ends(world, client_for):
    notes = notes_by_category(world)
    convener = client_for("care_supervisor")
    caseworker = client_for("ward_caseworker")
    start = timezone.now()
    with time_machine.travel(start, tick=False) as clock:
        meeting = convener.post(f"{API}/support-meetings", {
            "title": "田中さん個別ケース会議", "held_at": start.isoformat(), "ends_at": (start + 2 * HOUR).isoformat(),
            "cases": [world.tanaka_case.id],
            "members": [world.users["care_supervisor"].id, world.users["ward_caseworker"].id],
        }, format="json")
        assert meeting.status_code == 201, meeting.content
        meeting = meeting.json()
        assert {m["user"]["id"] for m in meeting["members"]} == {
            world.users["care_supervisor"].id, world.users["ward_caseworker"].id}
        # The convener is bound to confidentiality too before sharing anything.
        unacknowledged = convener.post(f"{API}/support-meetings/{meeting['id']}/share",
                                       {"resident": world.tanaka.id, "categories": ["health"]}, format="json")
        assert unacknowledged.json()["code"] == "confidentiality_not_acknowledged"
        assert convener.post(f"{API}/support-meetings/{meeting['id']}/acknowledge").status_code == 200
        shared = convener.post(f"{API}/support-meetings/{meeting['id']}/share",
                               {"resident": world.tanaka.id, "categories": ["health"]}, format="json")
        assert shared.status_code == 201, shared.content
        assert shared.json()["basis"] == "SWA106-6"

        # Shared, but the member has not acknowledged the confidentiality duty yet.
        assert sees(caseworker, world, notes) == NOTHING
        # Someone not on the roster cannot acknowledge for them.
        assert client_for("npo_worker").post(f"{API}/support-meetings/{meeting['id']}/acknowledge").status_code == 404

        clock.shift(datetime.timedelta(minutes=5))
        acknowledged = caseworker.post(f"{API}/support-meetings/{meeting['id']}/acknowledge")
        assert acknowledged.status_code == 200, acknowledged.content
        assert sees(caseworker, world, notes) == {"resident": True, "case": True, "notes": {"health"}}
        assert caseworker.get(f"{API}/notes?category=finances").json()["results"] == []
        assert caseworker.get(f"{API}/visits").json()["results"] == []
        # The NPO (not a member) still sees nothing.
        assert sees(client_for("npo_worker"), world, notes) == NOTHING

        clock.move_to(start + 2 * HOUR - datetime.timedelta(seconds=1))
        assert sees(caseworker, world, notes)["notes"] == {"health"}
        clock.move_to(start + 2 * HOUR)
        assert sees(caseworker, world, notes) == NOTHING
        assert grants_check() == []


def test_sharing_after_the_meeting_ended_is_refused_not_a_server_error(world, client_for):
    convener = client_for("care_supervisor")
    start = timezone.now()
    with time_machine.travel(start, tick=False) as clock:
        meeting = convener.post(f"{API}/support-meetings", {
            "title": "終了した会議", "held_at": start.isoformat(), "ends_at": (start + HOUR).isoformat(),
            "cases": [world.tanaka_case.id], "members": [world.users["ward_caseworker"].id],
        }, format="json").json()
        assert convener.post(f"{API}/support-meetings/{meeting['id']}/acknowledge").status_code == 200
        clock.move_to(start + 2 * HOUR)
        response = convener.post(f"{API}/support-meetings/{meeting['id']}/share",
                                 {"resident": world.tanaka.id, "categories": ["health"]}, format="json")
        assert response.status_code == 400, response.content
        assert response.json()["errors"][0]["field"] == "meeting"
        assert not LegalBasisGrant.objects.exists()


def test_a_meeting_share_needs_the_residents_case_on_the_agenda(world, client_for):
    convener = client_for("care_supervisor")
    neighbour = ResidentFactory(district=world.district_a, registered_by=world.council)
    CaseFactory(resident=neighbour, lead_organization=world.care_centre)
    now = timezone.now()
    meeting = convener.post(f"{API}/support-meetings", {
        "title": "会議", "held_at": now.isoformat(), "ends_at": (now + HOUR).isoformat(),
        "cases": [world.tanaka_case.id], "members": [world.users["ward_caseworker"].id],
    }, format="json").json()
    assert convener.post(f"{API}/support-meetings/{meeting['id']}/acknowledge").status_code == 200
    url = f"{API}/support-meetings/{meeting['id']}/share"
    response = convener.post(url, {"resident": neighbour.id, "categories": ["health"]}, format="json")
    assert (response.status_code, response.json()["code"]) == (400, "meeting_case_required")
    # Mrs Suzuki is not visible to the care centre: 404, as if she did not exist.
    assert convener.post(url, {"resident": world.suzuki.id, "categories": ["health"]}, format="json").status_code == 404
    # Only a member of the meeting may share in it.
    assert client_for("ward_supervisor").post(url, {"resident": world.tanaka.id, "categories": ["health"]},
                                              format="json").status_code == 404
    assert not LegalBasisGrant.objects.exists()


def test_a_meeting_shares_only_what_belongs_to_the_cases_on_its_agenda(world, client_for):
    """A case conference about one case is no basis for the notes and visits of the resident's other cases."""
    commissioner = world.users["commissioner_a"]
    agenda_note = services.note_write(actor=commissioner, resident=world.tanaka, category=Category.HEALTH,
                                      body="服薬の管理が難しくなっている", case=world.tanaka_case)
    about_him = services.note_write(actor=commissioner, resident=world.tanaka, category=Category.HEALTH,
                                    body="本人の持病について（ケースに紐づかない記録）")
    other_case = CaseFactory(resident=world.tanaka, lead_organization=world.care_centre,
                             lead_worker=world.users["care_worker"], concern="家族の介護負担")
    other_note = services.note_write(actor=commissioner, resident=world.tanaka, category=Category.HEALTH,
                                     body="長女の通院付き添いの相談", case=other_case)
    other_visit = services.visit_record(
        actor=commissioner, case=other_case, client_id=uuid.uuid4(), occurred_at=timezone.now() - HOUR,
        channel="home_visit", outcome="met", note="長女と面談").visit
    agenda_visit = services.visit_record(
        actor=commissioner, case=world.tanaka_case, client_id=uuid.uuid4(), occurred_at=timezone.now() - HOUR,
        channel="home_visit", outcome="met", note="本人と面談").visit
    convener = client_for("care_supervisor")
    caseworker = client_for("ward_caseworker")
    start = timezone.now()
    meeting = convener.post(f"{API}/support-meetings", {
        "title": "田中さん個別ケース会議", "held_at": start.isoformat(), "ends_at": (start + 2 * HOUR).isoformat(),
        "cases": [world.tanaka_case.id],
        "members": [world.users["care_supervisor"].id, world.users["ward_caseworker"].id],
    }, format="json").json()
    assert convener.post(f"{API}/support-meetings/{meeting['id']}/acknowledge").status_code == 200
    shared = convener.post(f"{API}/support-meetings/{meeting['id']}/share", {
        "resident": world.tanaka.id, "categories": ["health", "living_situation"]}, format="json")
    assert shared.status_code == 201, shared.content
    assert caseworker.post(f"{API}/support-meetings/{meeting['id']}/acknowledge").status_code == 200

    listed_notes = {n["id"] for n in caseworker.get(f"{API}/notes").json()["results"]}
    assert {agenda_note.id, about_him.id} <= listed_notes
    assert other_note.id not in listed_notes
    assert caseworker.get(f"{API}/notes/{other_note.id}").status_code == 404
    listed_visits = {v["id"] for v in caseworker.get(f"{API}/visits").json()["results"]}
    assert agenda_visit.id in listed_visits and other_visit.id not in listed_visits
    assert caseworker.get(f"{API}/visits/{other_visit.id}").status_code == 404
    assert caseworker.get(f"{API}/cases/{other_case.id}").status_code == 404
    assert grants_check() == []
