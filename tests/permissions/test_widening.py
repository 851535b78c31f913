"""Nobody widens access except by the rules that grant it.

Each test here is a way a holder of shared access tried to widen it — or an
escalation that reached people who could not act on it — and what happens now.
"""

from __future__ import annotations

import datetime
import uuid

import time_machine
from django.utils import timezone

from audit.models import AccessLogEntry, ProvisionRecord
from cases import services
from cases.models import Case, Consent, LegalBasisGrant, Resident, Task
from cases.models.consent import Category, Decision, Grantor, Method
from cases.services.escalations import escalations_fire_due
from notifications.models import OutboxMessage
from permissions.grants import grants_check, grants_sync_residents
from tests.helpers import API, break_glass

HOUR = datetime.timedelta(hours=1)


def consent_for(world, organization, categories, *, decision=Decision.GRANTED, purposes=("watch_over",)) -> Consent:
    consent = Consent.objects.create(
        resident=world.tanaka, decision=decision, grantor=Grantor.SELF, categories=list(categories),
        purposes=list(purposes), valid_from=timezone.now() - HOUR, method=Method.ORAL,
        taken_by=world.users["commissioner_a"], taken_by_organization=world.council,
    )
    consent.recipient_organizations.set([organization])
    grants_sync_residents(resident_ids=[world.tanaka.id])
    return consent


def on_team(world, organization) -> None:
    Case.objects.get(pk=world.tanaka_case.pk).team_members.create(organization=organization)
    grants_sync_residents(resident_ids=[world.tanaka.id])


def code(response) -> tuple[int, str]:
    return response.status_code, (response.json().get("code", "") if response.content else "")


def test_a_recipient_under_consent_cannot_open_a_case_and_become_its_lead(world, client_for):
    consent_for(world, world.npo, ["basic"])
    on_team(world, world.npo)
    finances = services.note_write(actor=world.users["commissioner_a"], resident=world.tanaka,
                                   category=Category.FINANCES, body="年金の管理に不安")
    npo = client_for("npo_worker")
    assert npo.get(f"{API}/residents/{world.tanaka.id}").status_code == 200
    before = Case.objects.count()
    opened = npo.post(f"{API}/cases", {"resident": world.tanaka.id, "concern": "サロン参加"}, format="json")
    assert code(opened) == (403, "own_right_required")
    assert Case.objects.count() == before
    # So it never reaches the register, never records consent for itself, never reads the finances note.
    assert npo.get(f"{API}/residents/{world.tanaka.id}/consents").status_code == 404
    recorded = npo.post(f"{API}/residents/{world.tanaka.id}/consents", {
        "grantor": "self", "recipient_organizations": [world.npo.id], "categories": ["health", "finances"],
        "purposes": ["watch_over"], "method": "oral"}, format="json")
    assert code(recorded) == (403, "own_right_required")
    assert npo.get(f"{API}/notes/{finances.id}").status_code == 404
    assert grants_check() == []


def test_a_break_glass_grant_or_a_referral_never_makes_its_holder_a_case_lead(world, client_for):
    section = client_for("ward_supervisor")
    assert break_glass(section, world).status_code == 201
    assert section.get(f"{API}/residents/{world.tanaka.id}").status_code == 200
    opened = section.post(f"{API}/cases", {"resident": world.tanaka.id, "concern": "見守り"}, format="json")
    assert code(opened) == (403, "own_right_required")
    # A referral's receiver works the case; it does not hold the resident in its own right.
    consent_for(world, world.care_centre_2, ["basic", "health"], purposes=["referral"])
    sent = client_for("care_worker").post(f"{API}/referrals", {
        "case": world.tanaka_case.id, "receiver_organization": world.care_centre_2.id,
        "reason": "専門職による評価をお願いします", "categories": ["basic", "health"]}, format="json")
    assert sent.status_code == 201, sent.content
    outsider = client_for("care_outsider")
    assert outsider.post(f"{API}/referrals/{sent.json()['id']}/accept", {}, format="json").status_code == 200
    opened = outsider.post(f"{API}/cases", {"resident": world.tanaka.id, "concern": "見守り"}, format="json")
    assert code(opened) == (403, "own_right_required")
    assert Case.objects.filter(resident=world.tanaka).count() == 1


def test_a_meeting_of_one_organisation_is_refused(world, client_for):
    supervisor = client_for("care_supervisor")
    now = timezone.now()
    body = {"title": "会議", "held_at": now.isoformat(), "ends_at": (now + HOUR).isoformat(),
            "cases": [world.tanaka_case.id], "members": []}
    assert code(supervisor.post(f"{API}/support-meetings", body, format="json")) == (
        400, "meeting_needs_several_organizations")
    colleague = {**body, "members": [world.users["care_worker"].id]}
    assert code(supervisor.post(f"{API}/support-meetings", colleague, format="json")) == (
        400, "meeting_needs_several_organizations")
    long = {**body, "members": [world.users["ward_caseworker"].id],
            "ends_at": (now + datetime.timedelta(days=3650)).isoformat()}
    assert code(supervisor.post(f"{API}/support-meetings", long, format="json")) == (400, "meeting_period_invalid")


def test_a_meeting_shares_only_what_the_sharer_sees_itself(world, client_for):
    """Mr Tanaka refused the care centre his finances: its supervisor cannot share them with anyone."""
    finances = services.note_write(actor=world.users["commissioner_a"], resident=world.tanaka,
                                   category=Category.FINANCES, body="年金の管理に不安", case=world.tanaka_case)
    consent_for(world, world.care_centre, ["finances"], decision=Decision.REFUSED)
    supervisor = client_for("care_supervisor")
    now = timezone.now()
    meeting = supervisor.post(f"{API}/support-meetings", {
        "title": "会議", "held_at": now.isoformat(), "ends_at": (now + HOUR).isoformat(),
        "cases": [world.tanaka_case.id], "members": [world.users["ward_caseworker"].id]}, format="json").json()
    assert supervisor.post(f"{API}/support-meetings/{meeting['id']}/acknowledge").status_code == 200
    shared = supervisor.post(f"{API}/support-meetings/{meeting['id']}/share",
                             {"resident": world.tanaka.id, "categories": ["finances"]}, format="json")
    assert code(shared) == (403, "share_beyond_own_access")
    assert not LegalBasisGrant.objects.exists()
    assert supervisor.get(f"{API}/notes/{finances.id}").status_code == 404


def test_a_recipient_cannot_withdraw_or_even_find_anothers_consent(world, client_for):
    consent_for(world, world.npo, ["basic"])
    care_consent = Consent.objects.filter(recipient_organizations=world.care_centre).get()
    refusal = consent_for(world, world.care_centre, ["finances"], decision=Decision.REFUSED)
    npo = client_for("npo_worker")
    missing = npo.post(f"{API}/residents/{world.tanaka.id}/consents/987654321/withdraw",
                       {"grantor": "self"}, format="json")
    for consent in (care_consent, refusal):
        response = npo.post(f"{API}/residents/{world.tanaka.id}/consents/{consent.id}/withdraw",
                            {"grantor": "self"}, format="json")
        assert code(response) == code(missing) == (404, "not_found")
        consent.refresh_from_db()
        assert consent.withdrawn_at is None
    # A keeper of the register (the district's commissioner) records the withdrawal.
    sato = client_for("commissioner_a")
    done = sato.post(f"{API}/residents/{world.tanaka.id}/consents/{care_consent.id}/withdraw",
                     {"grantor": "legal_guardian", "note": "成年後見人から"}, format="json")
    assert done.status_code == 200 and done.json()["withdrawn_at"]


def test_a_resident_moves_district_only_by_someone_who_sees_all_the_district_sees(world, client_for):
    finances = services.note_write(actor=world.users["commissioner_a"], resident=world.tanaka,
                                   category=Category.FINANCES, body="年金の管理に不安")
    care = client_for("care_worker")
    resident = Resident.objects.get(pk=world.tanaka.pk)
    moved = care.patch(f"{API}/residents/{resident.id}", {"district": world.district_b.id}, format="json",
                       HTTP_IF_MATCH=f'"v{resident.version}"')
    assert code(moved) == (403, "move_beyond_own_access")
    resident.refresh_from_db()
    assert resident.district_id == world.district_a.id
    assert client_for("commissioner_a").get(f"{API}/notes/{finances.id}").status_code == 200
    assert client_for("commissioner_b").get(f"{API}/notes/{finances.id}").status_code == 404
    # The care worker still corrects what is theirs to correct.
    corrected = care.patch(f"{API}/residents/{resident.id}", {"phone": "044-000-1111"}, format="json",
                           HTTP_IF_MATCH=f'"v{resident.version}"')
    assert corrected.status_code == 200


def test_legal_bases_other_than_break_glass_wait_for_someone_other_than_the_requester(world, client_for):
    supervisor = client_for("ward_supervisor")
    asked = break_glass(supervisor, world, basis="APPI27-1-4", hours=24 * 7)
    assert asked.status_code == 201, asked.content
    grant = asked.json()
    assert grant["status"] == "pending"
    assert supervisor.get(f"{API}/residents/{world.tanaka.id}").status_code == 404
    assert code(supervisor.post(f"{API}/legal-basis-grants/{grant['id']}/approve")) == (403, "four_eyes_required")
    # Outsiders do not even see the grant.
    assert client_for("care_supervisor").post(f"{API}/legal-basis-grants/{grant['id']}/approve").status_code == 404
    # The ward's privacy officer approves; a review task exists that someone other than the requester can act on.
    approved = client_for("privacy_officer").post(f"{API}/legal-basis-grants/{grant['id']}/approve")
    assert approved.status_code == 200 and approved.json()["status"] == "active"
    assert supervisor.get(f"{API}/residents/{world.tanaka.id}").status_code == 200
    review = Task.objects.get(legal_basis_grant_id=grant["id"], kind="review_grant")
    officer_queue = client_for("privacy_officer").get(f"{API}/tasks/queue").json()["results"]
    assert review.id in {t["id"] for t in officer_queue}
    reviewed = client_for("privacy_officer").post(f"{API}/legal-basis-grants/{grant['id']}/review",
                                                  {"justified": True, "note": "妥当"}, format="json")
    assert reviewed.status_code == 200
    review.refresh_from_db()
    assert review.status == "completed"


def test_a_legal_basis_reaches_only_residents_of_the_requesters_ward(world, client_for):
    from tests.factories import CouncilAreaFactory, DistrictFactory, WardFactory

    elsewhere = DistrictFactory(council_area=CouncilAreaFactory(ward=WardFactory(code="asao", name="麻生区")))
    stranger = Resident.objects.create(
        name_kanji="他区 太郎", name_kana="タク タロウ", name_kana_key="ﾀｸﾀﾛｳ", date_of_birth=datetime.date(1940, 1, 1),
        postal_code="2100000", town="川崎", block_number="1-1", district=elsewhere,
        registered_by=world.council, created_at=timezone.now(), updated_at=timezone.now())
    response = break_glass(client_for("ward_supervisor"), world, resident=stranger.id)
    assert code(response) == (404, "not_found")
    assert not LegalBasisGrant.objects.exists()


def test_break_glass_is_reviewed_by_the_privacy_officer_when_the_section_has_one_supervisor(world, client_for):
    grant = break_glass(client_for("ward_supervisor"), world).json()
    assert grant["status"] == "active"
    assert code(client_for("ward_supervisor").post(f"{API}/legal-basis-grants/{grant['id']}/review",
                                                   {"justified": True}, format="json")) == (403, "four_eyes_required")
    reviewed = client_for("privacy_officer").post(f"{API}/legal-basis-grants/{grant['id']}/review",
                                                  {"justified": True, "note": "妥当"}, format="json")
    assert reviewed.status_code == 200, reviewed.content
    # The audit log says who widened, on what basis, and who approved and reviewed it.
    entries = AccessLogEntry.objects.filter(kind="legal_basis_grant").order_by("id")
    changes = [entry.changes for entry in entries if grant["id"] in entry.object_ids]
    assert changes[0]["basis"][1] == "APPI27-1-2"
    assert changes[0]["requested_by"][1] == world.users["ward_supervisor"].id
    assert changes[0]["approved_by"][1] == world.users["ward_supervisor"].id
    assert any(c.get("reviewed_by", [None, None])[1] == world.users["privacy_officer"].id for c in changes)


def _escalated_safety_check(world, client_for):
    """A visit with no answer and warning signs; nobody at the care centre acknowledges for an hour."""
    sato = client_for("commissioner_a")
    uploaded = sato.post(f"{API}/visits", {
        "case": world.tanaka_case.id, "client_id": str(uuid.uuid4()),
        "occurred_at": (timezone.now() - datetime.timedelta(minutes=30)).isoformat(),
        "channel": "home_visit", "outcome": "no_answer", "warning_signs": ["newspapers_piling"]}, format="json")
    assert uploaded.status_code == 201, uploaded.content
    task = Task.objects.get(visit_id=uploaded.json()["id"])
    with time_machine.travel(timezone.now() + 2 * HOUR, tick=False):
        escalations_fire_due()
    return task, uploaded.json()["id"]


def test_whoever_an_escalation_reaches_can_open_what_the_check_needs_while_it_is_open(world, client_for):
    health = services.note_write(actor=world.users["commissioner_a"], resident=world.tanaka,
                                 category=Category.HEALTH, body="持病あり", case=world.tanaka_case)
    task, visit_id = _escalated_safety_check(world, client_for)
    section = client_for("ward_caseworker")
    assert world.ward_section.id in set(task.escalations.values_list("target_organization_id", flat=True))
    resident = section.get(f"{API}/residents/{world.tanaka.id}")
    assert resident.status_code == 200 and resident.json()["phone"] == world.tanaka.phone
    assert section.get(f"{API}/cases/{world.tanaka_case.id}").status_code == 200
    assert section.get(f"{API}/visits/{visit_id}").status_code == 200
    # Nothing more: no notes, no other visits.
    assert section.get(f"{API}/notes/{health.id}").status_code == 404
    assert ProvisionRecord.objects.filter(recipient=world.ward_section, basis=f"safety_check:{task.id}").exists()
    done = client_for("care_worker").post(f"{API}/tasks/{task.id}/complete", {"outcome": "無事を確認"},
                                          format="json")
    assert done.status_code == 200, done.content
    assert section.get(f"{API}/residents/{world.tanaka.id}").status_code == 404
    review = Task.objects.get(dedupe_key=f"task:{task.id}:review")
    assert review.kind == "review_grant" and review.visit_id == visit_id
    assert review.id in {t["id"] for t in client_for("privacy_officer").get(f"{API}/tasks/queue").json()["results"]}
    assert grants_check() == []


def test_the_reporter_sees_the_check_and_hears_when_it_is_taken_on_and_done(world, client_for):
    task, _ = _escalated_safety_check(world, client_for)
    sato = client_for("commissioner_a")
    seen = sato.get(f"{API}/tasks/{task.id}")
    assert seen.status_code == 200 and seen.json()["status"] == "open"
    # The reporter sees it, but does not work it.
    assert code(sato.post(f"{API}/tasks/{task.id}/acknowledge")) == (403, "not_permitted")
    care = client_for("care_worker")
    assert care.post(f"{API}/tasks/{task.id}/acknowledge").status_code == 200
    assert care.post(f"{API}/tasks/{task.id}/complete", {"outcome": "転倒しており救急搬送"},
                     format="json").status_code == 200
    seen = sato.get(f"{API}/tasks/{task.id}").json()
    assert (seen["status"], seen["outcome"]) == ("completed", "転倒しており救急搬送")
    told = set(OutboxMessage.objects.filter(recipient=world.users["commissioner_a"], subject_id=task.id)
               .values_list("event", flat=True))
    assert {"task_acknowledged", "task_completed"} <= told


def test_a_requested_task_is_answered_to_whoever_requested_it(world, client_for):
    sato = client_for("commissioner_a")
    asked = sato.post(f"{API}/tasks", {
        "case": world.tanaka_case.id, "kind": "follow_up_visit", "assignee_organization": world.care_centre.id,
        "due_at": (timezone.now() + datetime.timedelta(days=2)).isoformat()}, format="json")
    assert asked.status_code == 201, asked.content
    assert sato.get(f"{API}/tasks/{asked.json()['id']}").status_code == 200
    # A reader of the case who does not work it (here through break-glass) cannot ask for anything on it.
    assert break_glass(client_for("ward_supervisor"), world).status_code == 201
    section = client_for("ward_caseworker")
    assert section.get(f"{API}/cases/{world.tanaka_case.id}").status_code == 200
    before = Task.objects.count()
    refused = section.post(f"{API}/tasks", {
        "case": world.tanaka_case.id, "kind": "safety_check", "assignee_organization": world.care_centre.id,
        "due_at": (timezone.now() + HOUR).isoformat()}, format="json")
    assert code(refused) == (403, "not_permitted")
    assert Task.objects.count() == before
