"""Every unsafe route × every persona, and × the ways a recipient holds a resident: who may act.

The read matrix (tests/api/test_persona_matrix.py) says who sees what; this one
says who may change what. Both are written out as tables, not computed from the
policy, so a reader checks one against the other:

- Mr Tanaka (district A, registered by the commissioner council) has a case led
  by care centre 1. District A's commissioner and care centre 1 hold him in their
  own right. Care centre 2 received him through a referral (requested), the NPO
  through consent for `basic` on the case team, the ward section through an active
  break-glass grant. Commissioner B holds Ms Suzuki, and nobody else.
- Each cell runs in its own savepoint, rolled back after the answer is read, so
  every cell starts from the same world.
- A route found in the URL configuration with no row here fails the test.

The second table takes one recipient (care centre 2's worker) through each way of
holding Mr Tanaka without holding him in its own right — none, consent, a referral,
a legal basis, a support meeting — and shows that none of them lets it widen access.
"""

from __future__ import annotations

import datetime
import json
import re
import uuid
from collections.abc import Callable
from dataclasses import dataclass

import pytest
from django.db import transaction
from django.urls import URLPattern, URLResolver, get_resolver
from django.utils import timezone

from api.tokens import token_issue
from audit.legal_holds import legal_hold_place
from audit.rights import rights_request_receive
from cases import services
from cases.models import Consent, LegalBasisGrant, Note, PartnerAgreement, SupportMeeting, Task
from cases.models.choices import Role
from cases.models.consent import Decision, Grantor, GrantStatus, Method
from integrations.services import client_register
from integrations.webhooks import webhook_register
from notifications.models import Notification
from permissions.grants import grants_check, grants_sync_residents
from service_directory.models import DirectoryOrganization, Service
from service_directory.services import ListingImport, listings_import
from tests.factories import MembershipFactory, UserFactory
from tests.helpers import API, PERSONAS

HOUR = datetime.timedelta(hours=1)
MISSING = 987_654_321
EXPIRED = "403 no_active_membership"
SHORT = {"cA": "commissioner_a", "cB": "commissioner_b", "cw": "care_worker", "cs": "care_supervisor",
         "co": "care_outsider", "wc": "ward_caseworker", "ws": "ward_supervisor", "npo": "npo_worker",
         "prt": "partner", "po": "privacy_officer", "exp": "expired_commissioner"}
assert set(SHORT.values()) == set(PERSONAS)


@dataclass
class Subjects:
    """The world and one record of each kind a route acts on."""

    world: object
    note: Note
    consent: Consent
    grant_pending: LegalBasisGrant
    grant_active: LegalBasisGrant
    meeting: SupportMeeting
    referral_id: int
    task: Task
    notification: Notification
    token_id: int
    hold_id: int
    rights_id: int
    listing: Service  # the NPO's salon, waiting for the ward section's approval
    client_id: int = 0  # an API client of care centre 1, registered by its org admin
    webhook_id: int = 0  # a webhook endpoint of care centre 1, registered by its org admin


def _consent(world, organization, categories, purposes, **fields) -> Consent:
    consent = Consent.objects.create(
        resident=world.tanaka, decision=Decision.GRANTED, grantor=Grantor.SELF, categories=categories,
        purposes=purposes, valid_from=timezone.now() - HOUR, method=Method.ORAL,
        taken_by=world.users["commissioner_a"], taken_by_organization=world.council, **fields)
    consent.recipient_organizations.set([organization])
    return consent


@pytest.fixture
def subjects(world) -> Subjects:
    users = world.users
    note = services.note_write(actor=users["commissioner_a"], resident=world.tanaka, category="health",
                               body="服薬の管理が難しい", case=world.tanaka_case)
    consent = Consent.objects.filter(resident=world.tanaka).get()
    # The NPO: basic, for watch-over, on the case team. Care centre 2: for referral.
    _consent(world, world.npo, ["basic"], ["watch_over"])
    world.tanaka_case.team_members.create(organization=world.npo)
    _consent(world, world.care_centre_2, ["basic", "health"], ["referral"])
    now = timezone.now()
    grant_active = LegalBasisGrant.objects.create(
        resident=world.tanaka, organization=world.ward_section, basis="APPI27-1-2", categories=["basic"],
        justification="異臭の通報があり安否確認が必要", status=GrantStatus.ACTIVE,
        requested_by=users["ward_supervisor"],
        approved_by=users["ward_supervisor"], starts_at=now - HOUR, ends_at=now + 24 * HOUR,
        review_due_at=now + 23 * HOUR)
    grant_pending = LegalBasisGrant.objects.create(
        resident=world.tanaka, organization=world.ward_section, basis="APPI27-1-4", categories=["basic"],
        justification="区の法定業務への協力のため", status=GrantStatus.PENDING, requested_by=users["ward_supervisor"],
        starts_at=now, ends_at=now + 24 * HOUR, review_due_at=now + 24 * HOUR)
    grants_sync_residents(resident_ids=[world.tanaka.id])
    referral = services.referral_create(
        actor=users["care_worker"], case=world.tanaka_case, receiver_organization=world.care_centre_2,
        reason="専門職による評価をお願いします", categories=["basic", "health"])
    meeting = services.meeting_convene(
        actor=users["care_supervisor"], title="個別ケース会議", held_at=now, ends_at=now + 2 * HOUR,
        cases=[world.tanaka_case], members=[users["ward_caseworker"]])
    services.meeting_acknowledge(actor=users["care_supervisor"], meeting_id=meeting.id)
    task = services.task_request(
        actor=users["commissioner_a"], case=world.tanaka_case, kind="follow_up_visit",
        organization=world.care_centre, due_at=now + 24 * HOUR)
    notification = Notification.objects.create(key="matrix", user=users["care_worker"], event="task_assigned",
                                               subject_type="task", subject_id=task.id, link=f"{API}/tasks/{task.id}")
    token, _ = token_issue(user=users["care_worker"], name="spare")
    hold = legal_hold_place(actor=users["privacy_officer"], case=world.tanaka_case,
                            reason="開示請求への対応中のため保存")
    rights = rights_request_receive(actor=users["privacy_officer"], resident=world.tanaka, kind="cessation",
                                    identity_check="photo_id_in_person")
    care_admin = UserFactory(username="care_admin")
    MembershipFactory(user=care_admin, organization=world.care_centre, role=Role.ORG_ADMIN)
    client, _ = client_register(actor=care_admin, name="ケース管理システム", scopes=["tasks.read"],
                                purposes=["watch_over"])
    webhook = webhook_register(actor=care_admin, url="https://hooks.example.jp/care", event_types=["task.assigned"])
    PartnerAgreement.objects.create(code="TAMA-2026-001", organization=world.partner_business,
                                    signals=["newspapers_piling_up"], valid_from=now - 24 * HOUR)
    directory_npo = DirectoryOrganization.objects.create(organization=world.npo, ward=world.npo.ward,
                                                         name=world.npo.name, description="居場所づくりのNPO")
    listing, = listings_import(organization=directory_npo, updated_by=world.npo.name, listings=[ListingImport(
        name="いきいきサロン", description="お茶とおしゃべり", taxonomy_codes=["EL-SALON"], approval="pending")])
    return Subjects(world, note, consent, grant_pending, grant_active, meeting, referral.id, task, notification,
                    token.id, hold.id, rights.id, listing, client.id, webhook.id)


Request = Callable[[Subjects], tuple[str, dict]]


def _resident_body(s: Subjects, district) -> dict:
    return {"name_kanji": "山田 花子", "name_kana": "ヤマダ ハナコ", "date_of_birth": "1940-04-01",
            "postal_code": "214-0014", "town": "登戸", "chome": 1, "block_number": "2-15", "district": district.id,
            "household_type": "lives_alone"}


def _visit(s: Subjects) -> dict:
    return {"case": s.world.tanaka_case.id, "client_id": str(uuid.uuid4()),
            "occurred_at": (timezone.now() - HOUR).isoformat(), "channel": "home_visit", "outcome": "met"}


def _break_glass(s: Subjects, resident) -> dict:
    return {"resident": resident.id, "basis": "APPI27-1-2", "categories": ["basic"], "hours": 24,
            "justification": "隣人から異臭の通報。本人の同意を得ることが困難。"}


def _meeting(s: Subjects) -> dict:
    now = timezone.now()
    return {"title": "会議", "held_at": now.isoformat(), "ends_at": (now + HOUR).isoformat(),
            "cases": [s.world.tanaka_case.id], "members": [s.world.users["ward_caseworker"].id]}


def _refer(s: Subjects) -> dict:
    return {"case": s.world.tanaka_case.id, "receiver_organization": s.world.care_centre_2.id,
            "reason": "評価をお願いします", "categories": ["basic", "health"]}


def _task(s: Subjects) -> dict:
    return {"case": s.world.tanaka_case.id, "kind": "follow_up_visit",
            "assignee_organization": s.world.care_centre.id, "due_at": (timezone.now() + HOUR).isoformat()}


def _listed(s: Subjects):
    from tests.helpers import make_listed

    return make_listed(s.world)


def _declared(s: Subjects, *, run: bool = True):
    from tests.helpers import declare

    return declare(_listed(s), run=run)


def _unlisted(s: Subjects) -> dict:
    from tests.factories import ResidentFactory

    _listed(s)
    resident = ResidentFactory(district=s.world.district_a, registered_by=s.world.council,
                               date_of_birth=datetime.date(1975, 1, 1), household_type="with_family")
    return {"resident": resident.id, "sex": "male", "reason": "本人からの申出"}


def _declaration(s: Subjects) -> dict:
    _listed(s)
    return {"client_id": str(uuid.uuid4()), "kind": "typhoon", "exercise": False,
            "districts": [s.world.district_a.id], "supporter_organizations": [s.world.npo.id]}


def _check_upload(s: Subjects) -> tuple[str, dict]:
    event = _declared(s)
    return f"/disaster-events/{event.id}/safety-checks", {"items": [{
        "resident": s.world.tanaka.id, "client_id": str(uuid.uuid4()), "outcome": "safe_at_home",
        "observed_at": timezone.now().isoformat()}]}


def _transition(verb: str) -> Request:
    return lambda s: (f"/referrals/{s.referral_id}/{verb}", {"reason": "理由"})


SPECS: list[tuple[str, str, str, Request]] = [
    ("POST", "/me/tokens", "mint a token", lambda s: ("/me/tokens", {"name": "phone"})),
    ("DELETE", "/me/tokens/{pk}", "revoke care_worker's spare token", lambda s: (f"/me/tokens/{s.token_id}", {})),
    ("POST", "/residents", "register in district A", lambda s: ("/residents", _resident_body(s, s.world.district_a))),
    ("POST", "/residents", "register in district B", lambda s: ("/residents", _resident_body(s, s.world.district_b))),
    ("PATCH", "/residents/{pk}", "correct tanaka's phone",
     lambda s: (f"/residents/{s.world.tanaka.id}", {"phone": "044-000-1111"})),
    ("PATCH", "/residents/{pk}", "move tanaka to district B",
     lambda s: (f"/residents/{s.world.tanaka.id}", {"district": s.world.district_b.id})),
    ("PATCH", "/residents/{pk}", "correct suzuki's phone",
     lambda s: (f"/residents/{s.world.suzuki.id}", {"phone": "044-000-1111"})),
    ("POST", "/cases", "open a case on tanaka",
     lambda s: ("/cases", {"resident": s.world.tanaka.id, "concern": "見守り"})),
    ("POST", "/cases", "open a case on suzuki",
     lambda s: ("/cases", {"resident": s.world.suzuki.id, "concern": "見守り"})),
    ("PATCH", "/cases/{pk}", "change tanaka's case",
     lambda s: (f"/cases/{s.world.tanaka_case.id}", {"risk_level": "high"})),
    ("PATCH", "/cases/{pk}", "add the NPO to tanaka's case team",
     lambda s: (f"/cases/{s.world.tanaka_case.id}", {"team_organizations": [s.world.npo.id]})),
    ("POST", "/visits", "record a visit on tanaka's case", lambda s: ("/visits", _visit(s))),
    ("POST", "/visits/batch", "upload a day's visits on tanaka's case",
     lambda s: ("/visits/batch", {"items": [_visit(s)]})),
    ("POST", "/notes", "write a note about tanaka",
     lambda s: ("/notes", {"resident": s.world.tanaka.id, "category": "family", "body": "長女が同居を検討"})),
    ("POST", "/notes/{pk}/amend", "amend sato's health note",
     lambda s: (f"/notes/{s.note.id}/amend", {"body": "服薬は長女が管理"})),
    ("POST", "/residents/{resident_id}/consents", "record consent naming the NPO for finances",
     lambda s: (f"/residents/{s.world.tanaka.id}/consents", {
         "grantor": "self", "recipient_organizations": [s.world.npo.id], "categories": ["finances"],
         "purposes": ["watch_over"], "method": "oral"})),
    ("POST", "/residents/{resident_id}/consents/{pk}/withdraw", "withdraw the care centre's consent",
     lambda s: (f"/residents/{s.world.tanaka.id}/consents/{s.consent.id}/withdraw", {"grantor": "self"})),
    ("POST", "/legal-basis-grants", "break-glass on tanaka",
     lambda s: ("/legal-basis-grants", _break_glass(s, s.world.tanaka))),
    ("POST", "/legal-basis-grants/{pk}/approve", "approve the ward's pending APPI27-1-4",
     lambda s: (f"/legal-basis-grants/{s.grant_pending.id}/approve", {})),
    ("POST", "/legal-basis-grants/{pk}/review", "review the ward's break-glass",
     lambda s: (f"/legal-basis-grants/{s.grant_active.id}/review", {"justified": True})),
    ("POST", "/legal-basis-grants/{pk}/revoke", "revoke the ward's break-glass",
     lambda s: (f"/legal-basis-grants/{s.grant_active.id}/revoke", {})),
    ("POST", "/support-meetings", "convene with the ward caseworker", lambda s: ("/support-meetings", _meeting(s))),
    ("POST", "/support-meetings/{pk}/acknowledge", "acknowledge confidentiality",
     lambda s: (f"/support-meetings/{s.meeting.id}/acknowledge", {})),
    ("POST", "/support-meetings/{pk}/share", "share tanaka's health in the meeting",
     lambda s: (f"/support-meetings/{s.meeting.id}/share", {"resident": s.world.tanaka.id,
                                                            "categories": ["health"]})),
    ("POST", "/referrals", "refer tanaka to care centre 2", lambda s: ("/referrals", _refer(s))),
    *[("POST", f"/referrals/{{pk}}/{verb}", f"{verb} the requested referral", _transition(verb))
      for verb in ("send", "accept", "reject", "start", "hold", "resume", "complete", "fail", "cancel",
                   "enter-in-error")],
    ("POST", "/tasks", "ask for a follow-up visit on tanaka's case", lambda s: ("/tasks", _task(s))),
    ("POST", "/tasks/{pk}/acknowledge", "acknowledge sato's requested visit",
     lambda s: (f"/tasks/{s.task.id}/acknowledge", {})),
    ("POST", "/tasks/{pk}/complete", "complete sato's requested visit",
     lambda s: (f"/tasks/{s.task.id}/complete", {"outcome": "訪問した"})),
    ("POST", "/tasks/{pk}/cancel", "cancel sato's requested visit",
     lambda s: (f"/tasks/{s.task.id}/cancel", {"reason": "重複"})),
    ("POST", "/notifications/{pk}/read", "mark care_worker's notification read",
     lambda s: (f"/notifications/{s.notification.id}/read", {})),
    ("POST", "/audit/legal-holds", "place a legal hold on suzuki's case",
     lambda s: ("/audit/legal-holds", {"case": s.world.suzuki_case.id, "reason": "訴訟への対応のため保存が必要"})),
    ("POST", "/audit/legal-holds/{pk}/release", "release the hold on tanaka's case",
     lambda s: (f"/audit/legal-holds/{s.hold_id}/release", {})),
    ("POST", "/rights/requests", "receive a disclosure request from tanaka",
     lambda s: ("/rights/requests", {"resident": s.world.tanaka.id, "kind": "disclosure",
                                     "identity_check": "photo_id_in_person"})),
    ("POST", "/rights/requests/{pk}/close", "close tanaka's cessation request as refused",
     lambda s: (f"/rights/requests/{s.rights_id}/close", {"outcome": "refused", "note": "本人が取り下げ"})),
    ("POST", "/rights/requests/{pk}/cessation", "apply tanaka's cessation request",
     lambda s: (f"/rights/requests/{s.rights_id}/cessation", {})),
    ("POST", "/integrations/clients", "register an API client for one's organisation",
     lambda s: ("/integrations/clients", {"name": "連携", "scopes": ["tasks.read"], "purposes": ["watch_over"]})),
    ("POST", "/integrations/clients/{pk}/rotate", "rotate care centre 1's API client key",
     lambda s: (f"/integrations/clients/{s.client_id}/rotate", {})),
    ("POST", "/integrations/clients/{pk}/revoke", "revoke care centre 1's API client",
     lambda s: (f"/integrations/clients/{s.client_id}/revoke", {})),
    ("POST", "/integrations/webhooks", "register a webhook endpoint for one's organisation",
     lambda s: ("/integrations/webhooks", {"url": "https://hooks.example.jp/x", "event_types": ["task.assigned"]})),
    *[("POST", f"/integrations/webhooks/{{pk}}/{verb}", f"{verb} care centre 1's webhook endpoint",
       lambda s, verb=verb: (f"/integrations/webhooks/{s.webhook_id}/{verb}",
                             {"delivery": 1} if verb == "replay" else {}))
      for verb in ("rotate-secret", "pause", "resume", "replay")],
    ("POST", "/partner-reports", "report papers piling up at tanaka's address",
     lambda s: ("/partner-reports", {"agreement": "TAMA-2026-001", "reference": "slip-1", "address": "登戸1-1-1",
                                     "observed_at": timezone.now().isoformat(),
                                     "signals": ["newspapers_piling_up"]})),
    # Disaster mode: the list is kept by the ward section; events are declared and closed by its supervisor.
    ("POST", "/evacuation-entries", "add a resident to the evacuation list by hand",
     lambda s: ("/evacuation-entries", _unlisted(s))),
    ("POST", "/evacuation-entries/refresh", "derive the evacuation list from the register",
     lambda s: ("/evacuation-entries/refresh", {})),
    ("POST", "/evacuation-entries/{pk}/remove", "take suzuki off the evacuation list",
     lambda s: (f"/evacuation-entries/{_listed(s).suzuki.id}/remove", {"reason": "施設に入所"})),
    ("POST", "/evacuation-entries/{pk}/plans", "write tanaka's evacuation plan",
     lambda s: (f"/evacuation-entries/{_listed(s).tanaka.id}/plans", {
         "supporters": [{"name": "佐藤 花子", "role": "民生委員", "organization": s.world.council.id}],
         "destination": "登戸小学校", "needs": ["mobility"]})),
    ("POST", "/disaster-events", "declare a typhoon over district A", lambda s: ("/disaster-events", _declaration(s))),
    ("POST", "/disaster-events/{pk}/close", "close the declared earthquake",
     lambda s: (f"/disaster-events/{_declared(s, run=False).id}/close", {})),
    ("POST", "/disaster-events/{pk}/safety-checks", "upload tanaka's safety check", _check_upload),
    ("POST", "/statistics/releases", "release the ward's statistics for April 2024",
     lambda s: ("/statistics/releases", {"ward_id": s.world.district_a.council_area.ward_id, "period": "2024-04"})),
    # The directory of services: members keep their organisation's listings; the ward section approves.
    ("POST", "/directory/listings", "propose a listing for my organisation",
     lambda s: ("/directory/listings", {"name": "ふれあい体操", "description": "椅子に座ってできる体操です。",
                                        "taxonomy_codes": ["CA-EXERCISE"]})),
    ("PATCH", "/directory/listings/{pk}", "edit the NPO's listing",
     lambda s: (f"/directory/listings/{s.listing.id}", {"fees_description": "参加費200円"})),
    ("POST", "/directory/listings/{pk}/approve", "approve the NPO's new listing",
     lambda s: (f"/directory/listings/{s.listing.id}/approve", {"decision": "approved"})),
    ("POST", "/directory/listings/{pk}/assure", "re-verify the NPO's listing",
     lambda s: (f"/directory/listings/{s.listing.id}/assure", {})),
    ("POST", "/directory/listings/{pk}/capacity", "say the NPO's salon has a waiting list",
     lambda s: (f"/directory/listings/{s.listing.id}/capacity", {"status": "waitlist", "note": "来月から空き"})),
]


def outcome(response) -> str:
    """'201', '404 not_found' ...; a batch answers 200 with each item's own answer: '200 [403 not_permitted]'."""
    if response.status_code >= 400:
        return f"{response.status_code} {response.json()['code']}"
    body = response.json() if response.content else {}
    if isinstance(body, dict) and isinstance(body.get("results"), list) and "index" in (body["results"] or [{}])[0]:
        items = [str(r["status"]) + (f" {r['problem']['code']}" if r["problem"] else "") for r in body["results"]]
        return f"{response.status_code} [{', '.join(items)}]"
    return str(response.status_code)


def run_cell(client, subjects: Subjects, method: str, request: Request) -> str:
    """One request in a savepoint that is rolled back: every cell starts from the same world."""
    with transaction.atomic():
        path, body = request(subjects)
        headers = {}
        if method == "PATCH" and path.startswith("/directory/listings/"):
            headers["HTTP_IF_MATCH"] = f'"v{Service.objects.get(pk=subjects.listing.id).version}"'
        elif method == "PATCH":
            kind, pk = path.strip("/").split("/")[:2]
            model = {"residents": "tanaka" if int(pk) == subjects.world.tanaka.id else "suzuki",
                     "cases": "tanaka_case" if int(pk) == subjects.world.tanaka_case.id else "suzuki_case"}[kind]
            record = type(getattr(subjects.world, model)).objects.get(pk=pk)
            headers["HTTP_IF_MATCH"] = f'"v{record.version}"'
        response = client.generic(method, f"{API}{path}", json.dumps(body),
                                  content_type="application/json", **headers)
        result = outcome(response)
        transaction.set_rollback(True)
    return result


# Outcomes, short.
W, OK, GONE, ACCEPTED = "201", "200", "204", "202"
NF = "404 not_found"
NP = "403 not_permitted"
PARTNER = "403 partner_only"
OWN = "403 own_right_required"
MOVE = "403 move_beyond_own_access"
EXP = EXPIRED
CASEWORK = "403 no_casework_role"
DISTRICT = "403 district_not_assigned"
SUPERVISOR = "403 supervisor_required"
FOUR = "403 four_eyes_required"
PARTY = "403 referral_wrong_party"
BADSTATE = "409 referral_transition_invalid"
UNACK = "403 confidentiality_not_acknowledged"
ONE_ORG = "400 meeting_needs_several_organizations"
ADMIN = "403 org_admin_required"
STATS = "403 statistics_release_supervisors_only"
ITEM_W, ITEM_NF, ITEM_NP = "200 [201]", "200 [404 not_found]", "200 [403 not_permitted]"
KEEPER = "403 ward_section_required"
DECLARER = "403 disaster_declarer_required"
NOT_YOURS = "403 listing_not_yours"
APPROVER = "403 listing_approver_required"

COLUMNS = ("commissioner_a", "commissioner_b", "care_worker", "care_supervisor", "care_outsider", "ward_caseworker",
           "ward_supervisor", "npo_worker", "partner", "privacy_officer", "expired_commissioner")
EXPECTED: dict[str, tuple[str, ...]] = {
    # cA: district A's commissioner (own right), cB: district B's, cw/cs: care centre 1 (lead: own right),
    # co: care centre 2 (a requested referral), wc/ws: ward section (break-glass), npo (consent, team),
    # prt: partner business, po: privacy officer, exp: a commissioner whose term ended.
    "mint a token": (W, W, W, W, W, W, W, W, W, W, EXP),
    "revoke care_worker's spare token": (NF, NF, GONE, NF, NF, NF, NF, NF, NF, NF, EXP),
    "register in district A": (W, DISTRICT, W, W, W, W, W, W, CASEWORK, CASEWORK, EXP),
    "register in district B": (DISTRICT, W, W, W, W, W, W, W, CASEWORK, CASEWORK, EXP),
    "correct tanaka's phone": (OK, NF, OK, OK, OWN, OWN, OWN, OWN, NF, NF, EXP),
    # The care centre sees everything district A's commissioners see of him (consent covers Sato's note).
    "move tanaka to district B": (DISTRICT, NF, OK, OK, OWN, OWN, OWN, OWN, NF, NF, EXP),
    "correct suzuki's phone": (NF, OK, NF, NF, NF, NF, NF, NF, NF, NF, EXP),
    "open a case on tanaka": (W, NF, W, W, OWN, OWN, OWN, OWN, NF, NF, EXP),
    "open a case on suzuki": (NF, W, NF, NF, NF, NF, NF, NF, NF, NF, EXP),
    "change tanaka's case": (NP, NF, OK, OK, NP, NP, NP, NP, NF, NF, EXP),
    "add the NPO to tanaka's case team": (NP, NF, OK, OK, NP, NP, NP, NP, NF, NF, EXP),
    "record a visit on tanaka's case": (W, NF, W, W, NP, NP, NP, W, NF, NF, EXP),
    "upload a day's visits on tanaka's case": (ITEM_W, ITEM_NF, ITEM_W, ITEM_W, ITEM_NP, ITEM_NP, ITEM_NP, ITEM_W,
                                               ITEM_NF, ITEM_NF, EXP),
    # Writing adds the writer's own record: it widens nobody's access to anything already there.
    "write a note about tanaka": (W, NF, W, W, W, W, W, W, NF, NF, EXP),
    "amend sato's health note": (W, NF, NP, NP, NF, NF, NF, NF, NF, NF, EXP),
    "record consent naming the NPO for finances": (W, NF, W, W, OWN, OWN, OWN, OWN, NF, NF, EXP),
    "withdraw the care centre's consent": (OK, NF, OK, OK, NF, NF, NF, NF, NF, NF, EXP),
    "break-glass on tanaka": (NF, NF, NF, W, NF, NF, W, NF, NF, NF, EXP),
    "approve the ward's pending APPI27-1-4": (NF, NF, NF, NF, NF, NF, FOUR, NF, NF, OK, EXP),
    "review the ward's break-glass": (NF, NF, NF, NF, NF, NF, FOUR, NF, NF, OK, EXP),
    "revoke the ward's break-glass": (NF, NF, NF, NF, NF, NF, OK, NF, NF, OK, EXP),
    "convene with the ward caseworker": (SUPERVISOR, NF, SUPERVISOR, W, SUPERVISOR, SUPERVISOR, ONE_ORG, SUPERVISOR,
                                         NF, NF, EXP),
    "acknowledge confidentiality": (NF, NF, NF, OK, NF, OK, NF, NF, NF, NF, EXP),
    "share tanaka's health in the meeting": (NF, NF, NF, W, NF, UNACK, NF, NF, NF, NF, EXP),
    "refer tanaka to care centre 2": (W, NF, W, W, OWN, OWN, OWN, OWN, NF, NF, EXP),
    "send the requested referral": (NF, NF, BADSTATE, BADSTATE, PARTY, NF, NF, NF, NF, NF, EXP),
    "accept the requested referral": (NF, NF, PARTY, PARTY, OK, NF, NF, NF, NF, NF, EXP),
    "reject the requested referral": (NF, NF, PARTY, PARTY, OK, NF, NF, NF, NF, NF, EXP),
    "start the requested referral": (NF, NF, PARTY, PARTY, BADSTATE, NF, NF, NF, NF, NF, EXP),
    "hold the requested referral": (NF, NF, PARTY, PARTY, BADSTATE, NF, NF, NF, NF, NF, EXP),
    "resume the requested referral": (NF, NF, PARTY, PARTY, BADSTATE, NF, NF, NF, NF, NF, EXP),
    "complete the requested referral": (NF, NF, PARTY, PARTY, BADSTATE, NF, NF, NF, NF, NF, EXP),
    "fail the requested referral": (NF, NF, PARTY, PARTY, BADSTATE, NF, NF, NF, NF, NF, EXP),
    "cancel the requested referral": (NF, NF, OK, OK, PARTY, NF, NF, NF, NF, NF, EXP),
    "enter-in-error the requested referral": (NF, NF, OK, OK, PARTY, NF, NF, NF, NF, NF, EXP),
    "ask for a follow-up visit on tanaka's case": (W, NF, W, W, NP, NP, NP, W, NF, NF, EXP),
    # Sato asked for it: she sees it and is told of it, but those who work it act on it.
    "acknowledge sato's requested visit": (NP, NF, OK, OK, NF, NF, NF, NF, NF, NF, EXP),
    "complete sato's requested visit": (NP, NF, OK, OK, NF, NF, NF, NF, NF, NF, EXP),
    "cancel sato's requested visit": (NP, NF, OK, OK, NF, NF, NF, NF, NF, NF, EXP),
    "mark care_worker's notification read": (NF, NF, OK, NF, NF, NF, NF, NF, NF, NF, EXP),
    "place a legal hold on suzuki's case": (NF, NF, NF, NF, NF, NF, NF, NF, NF, W, EXP),
    "release the hold on tanaka's case": (NF, NF, NF, NF, NF, NF, NF, NF, NF, OK, EXP),
    "receive a disclosure request from tanaka": (NF, NF, NF, NF, NF, NF, NF, NF, NF, W, EXP),
    "close tanaka's cessation request as refused": (NF, NF, NF, NF, NF, NF, NF, NF, NF, OK, EXP),
    "apply tanaka's cessation request": (NF, NF, NF, NF, NF, NF, NF, NF, NF, OK, EXP),
    # Only an org admin manages its organisation's API clients (no persona here is one:
    # tests/integrations/test_clients.py registers, rotates and revokes as care centre 1's admin).
    "register an API client for one's organisation": (ADMIN, ADMIN, ADMIN, ADMIN, ADMIN, ADMIN, ADMIN, ADMIN, ADMIN,
                                                      ADMIN, EXP),
    "rotate care centre 1's API client key": (NF, NF, NF, NF, NF, NF, NF, NF, NF, NF, EXP),
    "revoke care centre 1's API client": (NF, NF, NF, NF, NF, NF, NF, NF, NF, NF, EXP),
    "register a webhook endpoint for one's organisation": (ADMIN, ADMIN, ADMIN, ADMIN, ADMIN, ADMIN, ADMIN, ADMIN,
                                                           ADMIN, ADMIN, EXP),
    **{f"{verb} care centre 1's webhook endpoint": (NF, NF, NF, NF, NF, NF, NF, NF, NF, NF, EXP)
       for verb in ("rotate-secret", "pause", "resume", "replay")},
    # Only a partner business reports, under its own agreement; the answer is the same whoever lives there.
    "report papers piling up at tanaka's address": (PARTNER, PARTNER, PARTNER, PARTNER, PARTNER, PARTNER, PARTNER,
                                                     PARTNER, ACCEPTED, PARTNER, EXP),
    # The NPO and district A's commissioner receive Mr Tanaka's entry by his consent: they see it, keep nothing.
    "add a resident to the evacuation list by hand": (KEEPER, KEEPER, KEEPER, KEEPER, KEEPER, W, W, KEEPER, KEEPER,
                                                      KEEPER, EXP),
    "derive the evacuation list from the register": (KEEPER, KEEPER, KEEPER, KEEPER, KEEPER, OK, OK, KEEPER, KEEPER,
                                                     KEEPER, EXP),
    "take suzuki off the evacuation list": (NF, NF, NF, NF, NF, OK, OK, NF, NF, NF, EXP),
    "write tanaka's evacuation plan": (KEEPER, NF, NF, NF, NF, W, W, KEEPER, NF, NF, EXP),
    "declare a typhoon over district A": (DECLARER, DECLARER, DECLARER, DECLARER, DECLARER, DECLARER, W, DECLARER,
                                          DECLARER, DECLARER, EXP),
    # The event is seen by its ward's section and its supporters (the council's commissioners, the NPO).
    "close the declared earthquake": (DECLARER, DECLARER, NF, NF, NF, DECLARER, OK, DECLARER, NF, DECLARER, EXP),
    # Mr Tanaka's check is commissioner A's (the council supports the event); the declarer sees it, works nothing.
    "upload tanaka's safety check": (ITEM_W, ITEM_NF, NF, NF, NF, ITEM_NF, ITEM_NP, ITEM_NF, NF, ITEM_NF, EXP),
    # The ward section and its privacy officer read the ward's statistics; only its supervisors release them.
    "release the ward's statistics for April 2024": (NF, NF, NF, NF, NF, STATS, W, NF, NF, STATS, EXP),
    # Workers, supervisors and org admins keep their organisation's listings; commissioners, partners and
    # privacy officers keep none. The ward section's supervisor sees the ward's listings to approve them,
    # but edits only the section's own.
    "propose a listing for my organisation": (NOT_YOURS, NOT_YOURS, W, W, W, W, W, W, NOT_YOURS, NOT_YOURS, EXP),
    "edit the NPO's listing": (NF, NF, NF, NF, NF, NF, NOT_YOURS, OK, NF, NF, EXP),
    "approve the NPO's new listing": (NF, NF, NF, NF, NF, NF, OK, APPROVER, NF, NF, EXP),
    "re-verify the NPO's listing": (NF, NF, NF, NF, NF, NF, NOT_YOURS, OK, NF, NF, EXP),
    "say the NPO's salon has a waiting list": (NF, NF, NF, NF, NF, NF, NOT_YOURS, OK, NF, NF, EXP),
}
assert set(COLUMNS) == set(PERSONAS)
assert set(EXPECTED) == {label for _, _, label, _ in SPECS}
assert all(len(cells) == len(COLUMNS) for cells in EXPECTED.values())


def _template(path: str) -> str:
    path = re.sub(r"\(\?P<(\w+)>[^)]*\)", r"{\1}", path)  # regex groups: (?P<pk>\d+)
    return re.sub(r"<(?:\w+:)?(\w+)>", r"{\1}", path).removeprefix("/api/v1")  # converters: <int:pk>


def unsafe_routes() -> set[tuple[str, str]]:
    """(method, route) for every unsafe method of every route under /api/v1/, from the URL configuration."""
    found = set()

    def walk(resolver, prefix=""):
        for entry in resolver.url_patterns:
            piece = str(entry.pattern).lstrip("^").rstrip("$").replace("\\Z", "")
            if isinstance(entry, URLResolver):
                walk(entry, prefix + piece)
            elif isinstance(entry, URLPattern) and (prefix + piece).startswith("api/v1/"):
                view = getattr(entry.callback, "cls", None) or getattr(entry.callback, "view_class", None)
                actions = getattr(entry.callback, "actions", None)
                methods = actions.keys() if actions else [m for m in ("post", "put", "patch", "delete")
                                                          if hasattr(view, m)]
                for method in methods:
                    if method in ("post", "put", "patch", "delete"):
                        found.add((method.upper(), _template("/" + prefix + piece)))

    walk(get_resolver())
    return found


def test_every_unsafe_route_has_rows():
    """A new POST, PATCH, PUT or DELETE route without a row in the table fails here."""
    covered = {(method, route) for method, route, _, _ in SPECS}
    assert unsafe_routes() == covered


@pytest.mark.parametrize("persona", PERSONAS)
def test_who_may_act(persona, subjects, client_for):
    """Every unsafe route for one persona, compared as a whole against its column."""
    client = client_for(persona)
    column = COLUMNS.index(persona)
    observed = {label: run_cell(client, subjects, method, request) for method, _, label, request in SPECS}
    assert observed == {label: cells[column] for label, cells in EXPECTED.items()}
    assert grants_check() == []


def test_count_of_cells(capsys):
    with capsys.disabled():
        print(f"\nwho-may-act matrix: {len(SPECS)} rows × {len(COLUMNS)} personas = {len(SPECS) * len(COLUMNS)} "
              f"cells over {len(unsafe_routes())} unsafe routes; recipient states: {len(STATE_SPECS)} rows × "
              f"{len(STATES)} states = {len(STATE_SPECS) * len(STATES)} cells")


# --- One recipient through each way of holding Mr Tanaka ---------------------------------------------

def _state_none(world) -> None:
    pass


def _state_own_right(world) -> None:
    """Care centre 2 leads a case of its own on him: it holds him in its own right."""
    from tests.factories import CaseFactory

    CaseFactory(resident=world.tanaka, lead_organization=world.care_centre_2,
                lead_worker=world.users["care_outsider"], team=[world.care_centre_2])


def _state_consent(world) -> None:
    _consent(world, world.care_centre_2, ["basic", "health"], ["watch_over"])
    world.tanaka_case.team_members.create(organization=world.care_centre_2)


def _state_referral(world) -> None:
    _consent(world, world.care_centre_2, ["basic", "health"], ["referral"])
    referral = services.referral_create(
        actor=world.users["care_worker"], case=world.tanaka_case, receiver_organization=world.care_centre_2,
        reason="評価をお願いします", categories=["basic", "health"])
    services.referral_transition(actor=world.users["care_outsider"], referral_id=referral.id, action="accept")


def _state_legal_basis(world) -> None:
    now = timezone.now()
    LegalBasisGrant.objects.create(
        resident=world.tanaka, organization=world.care_centre_2, basis="APPI27-1-2", categories=["basic", "health"],
        justification="安否確認のため緊急に必要", status=GrantStatus.ACTIVE,
        requested_by=world.users["care_supervisor"],
        approved_by=world.users["care_supervisor"], starts_at=now - HOUR, ends_at=now + HOUR, review_due_at=now + HOUR)


def _state_meeting(world) -> None:
    meeting = SupportMeeting.objects.get()
    services.meeting_share(actor=world.users["care_supervisor"], meeting_id=meeting.id, resident=world.tanaka,
                           categories=["basic", "health"], justification="支援方針の検討")


STATES: dict[str, Callable] = {
    "none": _state_none, "own right": _state_own_right, "consent": _state_consent, "referral": _state_referral,
    "legal basis": _state_legal_basis, "meeting": _state_meeting,
}


@pytest.fixture
def recipient_world(world):
    """The conftest world with Sato's note on his finances, and a support meeting of care centres 1 and 2 (both
    acknowledged, nothing shared)."""
    services.note_write(actor=world.users["commissioner_a"], resident=world.tanaka, category="finances",
                        body="年金の管理に不安")
    now = timezone.now()
    meeting = services.meeting_convene(
        actor=world.users["care_supervisor"], title="個別ケース会議", held_at=now, ends_at=now + 2 * HOUR,
        cases=[world.tanaka_case], members=[world.users["care_outsider"]])
    for persona in ("care_supervisor", "care_outsider"):
        services.meeting_acknowledge(actor=world.users[persona], meeting_id=meeting.id)
    return world


StateRequest = Callable[[object], tuple[str, str, dict]]


def _recipient_meeting_share(world) -> tuple[str, str, dict]:
    meeting = SupportMeeting.objects.get()
    return "POST", f"/support-meetings/{meeting.id}/share", {"resident": world.tanaka.id, "categories": ["health"]}


STATE_SPECS: dict[str, StateRequest] = {
    "open a case on tanaka": lambda w: ("POST", "/cases", {"resident": w.tanaka.id, "concern": "見守り"}),
    "correct tanaka's phone": lambda w: ("PATCH", f"/residents/{w.tanaka.id}", {"phone": "044-000-1111"}),
    "move tanaka to district B": lambda w: ("PATCH", f"/residents/{w.tanaka.id}", {"district": w.district_b.id}),
    "record consent naming care centre 2 for finances": lambda w: ("POST", f"/residents/{w.tanaka.id}/consents", {
        "grantor": "self", "recipient_organizations": [w.care_centre_2.id], "categories": ["finances"],
        "purposes": ["watch_over"], "method": "oral"}),
    "withdraw care centre 1's consent": lambda w: (
        "POST", f"/residents/{w.tanaka.id}/consents/{Consent.objects.order_by('id').first().id}/withdraw",
        {"grantor": "self"}),
    "refer tanaka to the ward section": lambda w: ("POST", "/referrals", {
        "case": w.tanaka_case.id, "receiver_organization": w.ward_section.id, "reason": "評価をお願いします",
        "categories": ["basic"]}),
    "add care centre 2 to the case team": lambda w: (
        "PATCH", f"/cases/{w.tanaka_case.id}", {"team_organizations": [w.care_centre_2.id]}),
    "share tanaka's health in the meeting": _recipient_meeting_share,
    "ask for a follow-up visit": lambda w: ("POST", "/tasks", {
        "case": w.tanaka_case.id, "kind": "follow_up_visit", "assignee_organization": w.care_centre.id,
        "due_at": (timezone.now() + HOUR).isoformat()}),
}
STATE_EXPECTED: dict[str, dict[str, str]] = {
    #                                        none  own right  consent  referral  legal basis  meeting
    "open a case on tanaka": dict(zip(STATES, (NF, W, OWN, OWN, OWN, OWN), strict=True)),
    "correct tanaka's phone": dict(zip(STATES, (NF, OK, OWN, OWN, OWN, OWN), strict=True)),
    # Its own case does not let it see Sato's note about him, which the district's commissioners see.
    "move tanaka to district B": dict(zip(STATES, (NF, MOVE, OWN, OWN, OWN, OWN), strict=True)),
    "record consent naming care centre 2 for finances": dict(zip(STATES, (NF, W, OWN, OWN, OWN, OWN), strict=True)),
    "withdraw care centre 1's consent": dict(zip(STATES, (NF, OK, NF, NF, NF, NF), strict=True)),
    "refer tanaka to the ward section": dict(zip(STATES, (NF, NF, OWN, OWN, OWN, OWN), strict=True)),
    "add care centre 2 to the case team": dict(zip(STATES, (NF, NF, NP, NP, NP, NP), strict=True)),
    "share tanaka's health in the meeting": dict(zip(STATES, (NF, W, OWN, OWN, OWN, OWN), strict=True)),
    "ask for a follow-up visit": dict(zip(STATES, (NF, NF, W, W, NP, NP), strict=True)),
}
assert set(STATE_EXPECTED) == set(STATE_SPECS)


@pytest.mark.parametrize("state", STATES)
def test_what_a_recipient_may_do_in_each_state(state, recipient_world, client_for):
    """Care centre 2's worker, holding Mr Tanaka in one way: only its own right lets it widen anything."""
    world = recipient_world
    STATES[state](world)
    grants_sync_residents(resident_ids=[world.tanaka.id])
    client = client_for("care_outsider")
    observed = {}
    for label, spec in STATE_SPECS.items():
        method, path, body = spec(world)
        observed[label] = run_cell(client, Subjects(world, *[None] * 12), method, lambda s, p=path, b=body: (p, b))
    assert observed == {label: cells[state] for label, cells in STATE_EXPECTED.items()}
    assert grants_check() == []
