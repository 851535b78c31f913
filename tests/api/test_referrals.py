"""A referral closes the loop: sent within consent, accepted by one of two, worked, completed.

The care centre (care_worker) refers Mr Tanaka to the ward's elderly and
disability section (ward_caseworker, ward_supervisor) sharing basic and health.
What the section sees follows the referral's state, within consent for the
`referral` purpose, and ends with it.
"""

from __future__ import annotations

import datetime
import threading

import pytest
import time_machine
from django.db import connection
from django.utils import timezone
from rest_framework.test import APIClient

from api.tokens import token_issue
from cases import services
from cases.models import CaseTeamMember, Referral, ReferralEvent, Task
from permissions.grants import grants_check
from tests.factories import MembershipFactory, UserFactory
from tests.helpers import API, PERSONAS, refer, referral_consent


def notes(world):
    """A note per category these tests care about, written by the care centre."""
    care = world.users["care_worker"]
    return {
        category: services.note_write(actor=care, resident=world.tanaka, case=world.tanaka_case, category=category,
                                      body=f"{category} のメモ").id
        for category in ("basic", "health", "finances", "living_situation")
    }


def listed(client, path) -> list[int]:
    response = client.get(path)
    assert response.status_code == 200, response.content
    return [item["id"] for item in response.json()["results"]]


def test_what_the_referral_shares_follows_its_state_and_ends_with_it(world, client_for):
    referral_consent(world)
    note_ids = notes(world)
    section = client_for("ward_caseworker")
    assert section.get(f"{API}/cases/{world.tanaka_case.id}").status_code == 404

    response = refer(client_for("care_worker"), world)
    assert response.status_code == 201, response.content
    referral = response.json()
    assert referral["status"] == "requested" and referral["urgency"] == "urgent"
    due = datetime.datetime.fromisoformat(referral["response_due_at"])
    assert datetime.timedelta(hours=23, minutes=59) < due - timezone.now() <= datetime.timedelta(hours=24)
    assert [e["to_status"] for e in referral["events"]] == ["draft", "requested"]

    # Requested: the case and the resident's basics, so the section can decide; no notes yet.
    assert section.get(f"{API}/cases/{world.tanaka_case.id}").status_code == 200
    assert section.get(f"{API}/residents/{world.tanaka.id}").status_code == 200
    assert listed(section, f"{API}/notes?resident={world.tanaka.id}") == []
    assert Task.objects.get(referral_id=referral["id"]).kind == "answer_referral"

    accepted = section.post(f"{API}/referrals/{referral['id']}/accept", {}, format="json")
    assert accepted.status_code == 200, accepted.content
    assert CaseTeamMember.objects.filter(case=world.tanaka_case, organization=world.ward_section).exists()
    # Accepted: exactly the referral's categories. Being on the team adds nothing without watch-over consent.
    assert sorted(listed(section, f"{API}/notes?resident={world.tanaka.id}")) == sorted(
        [note_ids["basic"], note_ids["health"]])
    assert section.get(f"{API}/notes/{note_ids['finances']}").status_code == 404
    assert listed(section, f"{API}/visits?case={world.tanaka_case.id}") == []  # visits are living_situation
    assert Task.objects.get(referral_id=referral["id"]).status == "completed"

    for verb in ("start", "complete"):
        assert section.post(f"{API}/referrals/{referral['id']}/{verb}", {}, format="json").status_code == 200
    # Completed: what the referral granted ends, the team row it added goes.
    assert section.get(f"{API}/cases/{world.tanaka_case.id}").status_code == 404
    assert listed(section, f"{API}/notes?resident={world.tanaka.id}") == []
    assert not CaseTeamMember.objects.filter(case=world.tanaka_case, organization=world.ward_section).exists()
    history = section.get(f"{API}/referrals/{referral['id']}").json()["events"]
    assert [(e["from_status"], e["to_status"]) for e in history] == [
        ("", "draft"), ("draft", "requested"), ("requested", "accepted"), ("accepted", "in-progress"),
        ("in-progress", "completed")]
    assert grants_check() == []


def test_grants_name_the_referral_as_their_basis(world, client_for):
    referral_consent(world)
    from permissions.models import CaseGroupObjectPermission

    referral = refer(client_for("care_worker"), world).json()
    bases = set(CaseGroupObjectPermission.objects.filter(
        content_object=world.tanaka_case, group=world.ward_section.group).values_list("basis", flat=True))
    assert bases == {f"referral:{referral['id']}"}


def test_sending_outside_consent_is_refused_and_nothing_is_stored(world, client_for):
    referral_consent(world, categories=["basic"])
    response = refer(client_for("care_worker"), world)
    assert response.status_code == 409
    assert response.json()["code"] == "referral_not_covered"
    assert response["Content-Type"] == "application/problem+json"
    assert not Referral.objects.exists() and not Task.objects.exists()


def test_consent_for_watch_over_or_for_another_organisation_does_not_cover_a_referral(world, client_for):
    referral_consent(world, recipient=world.care_centre_2)
    assert refer(client_for("care_worker"), world).json()["code"] == "referral_not_covered"
    # Mr Tanaka's watch-over consent names the care centre, not this purpose.
    assert refer(client_for("care_worker"), world, receiver_organization=world.care_centre_2.id,
                 categories=["basic", "living_situation"]).json()["code"] == "referral_not_covered"


def test_an_active_legal_basis_covers_a_referral_without_consent(world, client_for):
    services.legal_basis_grant_request(
        actor=world.users["ward_supervisor"], resident_id=world.tanaka.id, basis="APPI27-1-2",
        categories=["basic", "health"], justification="異臭の通報があり安否確認が必要",
        duration=datetime.timedelta(hours=72),
    )
    assert refer(client_for("care_worker"), world).status_code == 201


def test_withdrawing_consent_ends_the_receivers_access_on_the_next_read(world, client_for):
    consent = referral_consent(world)
    note_ids = notes(world)
    section = client_for("ward_caseworker")
    referral = refer(client_for("care_worker"), world).json()
    section.post(f"{API}/referrals/{referral['id']}/accept", {}, format="json")
    assert section.get(f"{API}/notes/{note_ids['health']}").status_code == 200
    assert section.get(f"{API}/referrals/{referral['id']}").json()["reason"] is not None

    services.consent_withdraw(actor=world.users["care_worker"], resident=world.tanaka, consent_id=consent.id,
                              grantor="legal_guardian", note="後見人による撤回")
    assert section.get(f"{API}/notes/{note_ids['health']}").status_code == 404
    assert section.get(f"{API}/cases/{world.tanaka_case.id}").status_code == 404
    still = section.get(f"{API}/referrals/{referral['id']}").json()
    assert still["status"] == "accepted" and still["reason"] is None  # free text hides with the case


@pytest.mark.parametrize("overrides, status, code", [
    ({"categories": ["health"]}, 400, "referral_basic_required"),
    ({"categories": []}, 400, "validation_error"),
    ({"categories": ["gossip"]}, 400, "validation_error"),
    ({"urgency": "whenever"}, 400, "validation_error"),
    ({"reason": "   "}, 400, "validation_error"),
    ({"extra": 1}, 400, "validation_error"),
    ({"case": 2**62 + 1}, 400, "validation_error"),
    ({"case": 987_654_321}, 404, "not_found"),
    ({"receiver_organization": 987_654_321}, 400, "validation_error"),
    ({"receiver_organization": "care_centre"}, 400, "referral_receiver_invalid"),
    ({"receiver_organization": "partner_business"}, 400, "referral_receiver_invalid"),
    ({"receiver_user": "care_outsider"}, 400, "referral_receiver_invalid"),
])
def test_bad_referrals_are_400_problems_never_500(world, client_for, overrides, status, code):
    referral_consent(world)
    if overrides.get("receiver_organization") in ("care_centre", "partner_business"):
        overrides["receiver_organization"] = getattr(world, overrides["receiver_organization"]).id
    if overrides.get("receiver_user") == "care_outsider":
        overrides["receiver_user"] = world.users["care_outsider"].id
    response = refer(client_for("care_worker"), world, **overrides)
    assert response.status_code == status, response.content
    assert response.json()["code"] == code
    assert not Referral.objects.exists()


@pytest.mark.parametrize("persona", ["commissioner_b", "care_outsider", "ward_caseworker", "npo_worker", "partner",
                                     "privacy_officer"])
def test_only_who_sees_the_case_may_refer_it(world, client_for, persona):
    referral_consent(world)
    response = refer(client_for(persona), world)
    # Missing and forbidden look alike: the case is not found for whoever may not see it (never a 403).
    assert response.status_code == 404, response.content
    assert response.json()["code"] == "not_found"
    assert not Referral.objects.exists()


def test_a_commissioner_of_the_district_may_refer_for_the_council(world, client_for):
    referral_consent(world, recipient=world.care_centre_2)
    response = refer(client_for("commissioner_a"), world, receiver_organization=world.care_centre_2.id)
    assert response.status_code == 201, response.content
    assert response.json()["sender_organization"]["id"] == world.council.id


@pytest.fixture
def sent(world, client_for):
    referral_consent(world)
    return refer(client_for("care_worker"), world).json()


# Who sees the referral: the sending organisation (care centre) and the receiving one (ward section).
SEES_REFERRAL = {"care_worker", "care_supervisor", "ward_caseworker", "ward_supervisor"}


@pytest.mark.parametrize("persona", PERSONAS)
def test_a_referral_is_visible_to_its_parties_only(world, client_for, sent, persona):
    client = client_for(persona)
    response = client.get(f"{API}/referrals/{sent['id']}")
    if persona == "expired_commissioner":
        assert response.status_code == 403
        return
    assert response.status_code == (200 if persona in SEES_REFERRAL else 404), persona
    inbox = listed(client, f"{API}/referrals/inbox")
    outbox = listed(client, f"{API}/referrals/sent")
    assert inbox == ([sent["id"]] if persona in {"ward_caseworker", "ward_supervisor"} else [])
    assert outbox == ([sent["id"]] if persona in {"care_worker", "care_supervisor"} else [])
    accept = client.post(f"{API}/referrals/{sent['id']}/accept", {}, format="json")
    expected = {"ward_caseworker": 200, "ward_supervisor": 200, "care_worker": 403, "care_supervisor": 403}
    assert accept.status_code == expected.get(persona, 404), (persona, accept.content)
    if accept.status_code == 403:
        assert accept.json()["code"] == "referral_wrong_party"


def test_a_draft_is_the_senders_own_until_sent(world, client_for):
    referral_consent(world)
    draft = refer(client_for("care_worker"), world, send=False).json()
    assert draft["status"] == "draft" and draft["response_due_at"] is None
    section = client_for("ward_caseworker")
    assert section.get(f"{API}/referrals/{draft['id']}").status_code == 404
    assert listed(section, f"{API}/referrals/inbox") == []
    sent_now = client_for("care_worker").post(f"{API}/referrals/{draft['id']}/send", {}, format="json")
    assert sent_now.status_code == 200 and sent_now.json()["status"] == "requested"
    assert section.get(f"{API}/referrals/{draft['id']}").status_code == 200


def test_inbox_filters_and_sorts_by_deadline(world, client_for):
    referral_consent(world)
    care = client_for("care_worker")
    start = timezone.now()
    with time_machine.travel(start, tick=False) as clock:
        routine = refer(care, world, urgency="routine").json()
        emergency = refer(care, world, urgency="emergency").json()
        urgent = refer(care, world, urgency="urgent").json()
        section = client_for("ward_caseworker")
        assert listed(section, f"{API}/referrals/inbox") == [emergency["id"], urgent["id"], routine["id"]]
        assert listed(section, f"{API}/referrals/inbox?overdue=true") == []
        clock.shift(datetime.timedelta(hours=2))
        assert listed(section, f"{API}/referrals/inbox?overdue=true") == [emergency["id"]]
        assert listed(section, f"{API}/referrals/inbox?urgency=urgent") == [urgent["id"]]
        section.post(f"{API}/referrals/{urgent['id']}/reject", {"reason": "対象外のため"}, format="json")
        assert listed(section, f"{API}/referrals/inbox?status=rejected") == [urgent["id"]]
        assert listed(section, f"{API}/referrals/inbox?status=requested") == [emergency["id"], routine["id"]]
        assert listed(care, f"{API}/referrals/sent?overdue=false") == [urgent["id"], routine["id"]]
        for bad in ("status=bogus", "urgency=1", "overdue=maybe", "cursor=zzz", "page_size=-1", "page_size=abc",
                    "page_size=0", "page_size=201", "page_size=１０"):
            response = section.get(f"{API}/referrals/inbox?{bad}")
            assert response.status_code == 400, (bad, response.status_code)
            assert response["Content-Type"].startswith("application/problem+json"), bad
            assert response.json()["errors"][0]["field"] == bad.split("=")[0], (bad, response.json())
        assert len(section.get(f"{API}/referrals/inbox?page_size=1").json()["results"]) == 1


def test_a_reason_is_required_to_reject_and_a_replayed_accept_changes_nothing(world, client_for, sent):
    section = client_for("ward_caseworker")
    missing = section.post(f"{API}/referrals/{sent['id']}/reject", {}, format="json")
    assert (missing.status_code, missing.json()["code"]) == (400, "referral_reason_required")
    first = section.post(f"{API}/referrals/{sent['id']}/accept", {}, format="json", HTTP_IDEMPOTENCY_KEY="acc-1")
    again = section.post(f"{API}/referrals/{sent['id']}/accept", {}, format="json", HTTP_IDEMPOTENCY_KEY="acc-1")
    assert (first.status_code, again.status_code) == (200, 200)
    assert again["Idempotent-Replayed"] == "true"
    assert ReferralEvent.objects.filter(referral_id=sent["id"], to_status="accepted").count() == 1
    late = client_for("ward_supervisor").post(f"{API}/referrals/{sent['id']}/accept", {}, format="json")
    assert (late.status_code, late.json()["code"]) == (409, "referral_transition_invalid")


def test_a_named_worker_answers_alone_with_the_supervisors(world, client_for):
    other = UserFactory(username="ward_other")
    MembershipFactory(user=other, organization=world.ward_section, role="worker")
    referral_consent(world)
    referral = refer(client_for("care_worker"), world, receiver_user=world.users["ward_caseworker"].id).json()
    _, token = token_issue(user=other, name="t")
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {token}")
    response = client.post(f"{API}/referrals/{referral['id']}/accept", {}, format="json")
    assert (response.status_code, response.json()["code"]) == (403, "referral_wrong_party")
    assert client_for("ward_supervisor").post(f"{API}/referrals/{referral['id']}/accept", {},
                                              format="json").status_code == 200


def test_an_existing_team_member_stays_on_the_team_after_the_referral_closes(world, client_for):
    referral_consent(world, recipient=world.care_centre_2)
    world.tanaka_case.team_members.create(organization=world.care_centre_2)
    referral = refer(client_for("care_worker"), world, receiver_organization=world.care_centre_2.id).json()
    outsider = client_for("care_outsider")
    outsider.post(f"{API}/referrals/{referral['id']}/accept", {}, format="json")
    cancel = client_for("care_worker").post(f"{API}/referrals/{referral['id']}/cancel", {"reason": "重複"},
                                            format="json")
    assert cancel.status_code == 200
    assert CaseTeamMember.objects.filter(case=world.tanaka_case, organization=world.care_centre_2).exists()


@pytest.mark.services  # concurrent writers need PostgreSQL: SQLite locks the table
@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_two_workers_accepting_at_once_exactly_one_wins(world, client_for):
    """Both read `requested`; the conditional UPDATE lets one through, the other gets 409."""
    from django.db import close_old_connections

    referral_consent(world)
    referral = refer(client_for("care_worker"), world).json()
    clients = [client_for("ward_caseworker"), client_for("ward_supervisor")]
    barrier = threading.Barrier(2)
    results: list[tuple[int, str]] = []

    def accept(client):
        try:
            barrier.wait(timeout=10)
            response = client.post(f"{API}/referrals/{referral['id']}/accept", {}, format="json")
            results.append((response.status_code, response.json().get("code", "")))
        finally:
            close_old_connections()
            connection.close()

    threads = [threading.Thread(target=accept, args=(c,)) for c in clients]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    statuses = sorted(status for status, _ in results)
    assert statuses == [200, 409], results
    assert [code for status, code in results if status == 409][0] in {"referral_state_changed",
                                                                      "referral_transition_invalid"}
    assert ReferralEvent.objects.filter(referral_id=referral["id"], to_status="accepted").count() == 1
    assert CaseTeamMember.objects.filter(case=world.tanaka_case, organization=world.ward_section).count() == 1


def test_event_reasons_hide_with_the_case_as_the_status_reason_does(world, client_for):
    """A cancel text is free text about the resident: in `events` too it shows only to who sees the case now."""
    consent = referral_consent(world)
    section, care = client_for("ward_caseworker"), client_for("care_worker")
    referral = refer(care, world).json()
    assert section.post(f"{API}/referrals/{referral['id']}/accept", {}, format="json").status_code == 200
    services.consent_withdraw(actor=world.users["care_worker"], resident=world.tanaka, consent_id=consent.id,
                              grantor="self", note="本人による撤回")
    cancel_text = "本人が入院したため取消"
    cancelled = care.post(f"{API}/referrals/{referral['id']}/cancel", {"reason": cancel_text}, format="json")
    assert cancelled.status_code == 200, cancelled.content

    seen_by_section = section.get(f"{API}/referrals/{referral['id']}").json()
    assert seen_by_section["status_reason"] is None
    assert [event["reason"] for event in seen_by_section["events"]] == [None] * len(seen_by_section["events"])
    assert cancel_text not in section.get(f"{API}/referrals/{referral['id']}").content.decode()

    seen_by_sender = care.get(f"{API}/referrals/{referral['id']}").json()
    assert seen_by_sender["status_reason"] == cancel_text
    assert cancel_text in [event["reason"] for event in seen_by_sender["events"]]
