"""Helpers shared by test modules (a test module never imports another test module or a conftest)."""

from __future__ import annotations

import datetime
import functools
import json
import uuid
from dataclasses import dataclass

import pytest
from django.db import connection
from django.db.models import QuerySet
from django.test import override_settings
from django.urls import URLPattern, URLResolver, get_resolver
from django.utils import timezone
from drf_spectacular.generators import SchemaGenerator
from drf_spectacular.renderers import OpenApiJsonRenderer
from rest_framework.test import APIClient

from audit.legal_holds import legal_hold_place
from audit.models import AccessLogEntry, IdentityCheck, LegalHold, RightsKind, RightsRequest
from audit.rights import rights_request_receive
from cases import services
from cases.models import (
    Consent,
    DisasterEvent,
    EvacuationListEntry,
    LegalBasisGrant,
    Note,
    Resident,
    SupportMeeting,
    Visit,
)
from cases.models.audited import bulk_writes_permitted
from cases.models.consent import Decision, Grantor, Method
from cases.models.visits import Channel, Outcome
from cases.services.disaster import disaster_campaign_step, disaster_event_declare, evacuation_list_refresh
from integrations.delivery import endpoints_deliver
from integrations.events import NewEvent, events_record
from integrations.models import WebhookEndpoint
from integrations.webhooks import webhook_register
from tests.factories import (
    ResidentFactory,
)

API = "/api/v1"


@functools.cache
def _openapi_json() -> bytes:
    return OpenApiJsonRenderer().render(SchemaGenerator().get_schema(request=None, public=True))


def openapi_document() -> dict:
    """The OpenAPI document the code generates (what /api/schema/ serves and docs/openapi.yaml holds), as JSON
    decodes it: generated once per test run, and a fresh copy for each caller (a schemathesis schema built from
    it may change what it is given)."""
    return json.loads(_openapi_json())


def fixture_update(queryset: QuerySet, **changes) -> int:
    """Set up a situation behind the product's back (time passed, someone else saved): an UPDATE with no change
    entries, which the audited models refuse outside `audit.changes` (ADR 0022). Tests only."""
    with bulk_writes_permitted():
        return queryset.update(**changes)


PERSONAS = [
    "commissioner_a",
    "commissioner_b",
    "care_worker",
    "care_supervisor",
    "care_outsider",
    "ward_caseworker",
    "ward_supervisor",
    "npo_worker",
    "partner",
    "privacy_officer",
    "expired_commissioner",
]


@dataclass
class Listed:
    world: object
    tanaka: EvacuationListEntry
    suzuki: EvacuationListEntry
    yamada: EvacuationListEntry
    consent: Consent


def make_listed(world) -> Listed:
    """The list of the suite's world (also used by the access-log and who-may-act tables)."""
    area = world.district_a.council_area
    area.council = world.council
    area.save()
    fixture_update(Resident.objects.filter(pk__in=[world.tanaka.id, world.suzuki.id]),
                   date_of_birth=datetime.date(1940, 4, 1), household_type="lives_alone")
    yamada = ResidentFactory(name_kanji="山田 太郎", name_kana="ヤマダ タロウ", district=world.district_a,
                             registered_by=world.council, date_of_birth=datetime.date(1938, 1, 2),
                             household_type="with_family", special_care=["bedridden"])
    consent = Consent.objects.create(
        resident=world.tanaka, decision=Decision.GRANTED, grantor=Grantor.SELF, categories=["basic"],
        purposes=["disaster_evacuation"], valid_from=timezone.now() - datetime.timedelta(days=30),
        method=Method.WRITTEN, evidence="避難支援同意書 12", taken_by=world.users["ward_caseworker"],
        taken_by_organization=world.ward_section)
    consent.recipient_organizations.set([world.council, world.npo])
    report = evacuation_list_refresh(actor=world.users["ward_caseworker"])
    assert (report.listed, report.removed) == (3, 0)
    entries = {e.resident_id: e for e in EvacuationListEntry.objects.all()}
    return Listed(world, entries[world.tanaka.id], entries[world.suzuki.id], entries[yamada.id], consent)


def declare(listed: Listed, *, exercise: bool = False, client_id: uuid.UUID | None = None,
            run: bool = True) -> DisasterEvent:
    """Declare over districts A and B with the council and the NPO as supporters, and run the campaign as one
    worker would (chunk after chunk until it says it is done)."""
    world = listed.world
    event, _ = disaster_event_declare(
        actor=world.users["ward_supervisor"], client_id=client_id or uuid.uuid4(), kind="earthquake",
        district_ids=[world.district_a.id, world.district_b.id],
        supporter_organization_ids=[world.council.id, world.npo.id], exercise=exercise)
    while run and disaster_campaign_step(event_id=event.id):
        pass
    event.refresh_from_db()
    return event


@dataclass
class Records:
    health_note: Note
    finance_note: Note
    visit: Visit
    grant: LegalBasisGrant
    meeting: SupportMeeting
    rights_request: RightsRequest
    hold: LegalHold


@pytest.fixture
def records(world) -> Records:
    users = world.users
    sato = users["commissioner_a"]
    health = services.note_write(actor=sato, resident=world.tanaka, category="health", body="血圧が高め",
                                 case=world.tanaka_case)
    health = services.note_amend(actor=sato, note=health, body="血圧が高め。通院中。")
    finance = services.note_write(actor=sato, resident=world.tanaka, category="finances", body="年金のみ",
                                  case=world.tanaka_case)
    visit = services.visit_record(
        actor=sato, case=world.tanaka_case, client_id=uuid.uuid4(),
        occurred_at=timezone.now() - datetime.timedelta(hours=1), channel=Channel.HOME_VISIT,
        outcome=Outcome.NO_ANSWER, warning_signs=["newspapers_piling"], note="新聞が溜まっている",
    ).visit
    grant = services.legal_basis_grant_request(
        actor=users["ward_supervisor"], resident_id=world.suzuki.id, basis="APPI27-1-2", categories=["basic", "health"],
        justification="近隣から異臭の通報。安否確認のため。", duration=datetime.timedelta(hours=72),
    )
    now = timezone.now()
    meeting = services.meeting_convene(
        actor=users["care_supervisor"], title="個別ケース会議", held_at=now, ends_at=now + datetime.timedelta(days=1),
        cases=[world.tanaka_case], members=[users["ward_caseworker"]],
    )
    officer = users["privacy_officer"]
    request = rights_request_receive(actor=officer, resident=world.tanaka, kind=RightsKind.DISCLOSURE,
                                     identity_check=IdentityCheck.PHOTO_ID_IN_PERSON)
    hold = legal_hold_place(actor=officer, case=world.tanaka_case, reason="苦情申立てに関する保存のため")
    return Records(health, finance, visit, grant, meeting, request, hold)


def npo_on_team(world) -> None:
    """The NPO that runs Mr Tanaka's salon joins his case team (it sees only what consent gives it)."""
    case = world.tanaka_case
    case.refresh_from_db()
    services.case_update(actor=world.users["care_worker"], case=case, expected_version=case.version, team=[world.npo])


def entries_of(response, **filters):
    """The access-log entries the request wrote (by its X-Request-ID)."""
    return AccessLogEntry.objects.filter(request_id=response["X-Request-ID"], **filters).order_by("id")


JUSTIFICATION = "近隣住民から異臭の通報。本人と連絡がとれず、親族の連絡先を確認する必要がある。"


def break_glass(client, world, **overrides):
    body = {"resident": world.tanaka.id, "basis": "APPI27-1-2", "categories": ["basic", "family"],
            "justification": JUSTIFICATION, "hours": 72, **overrides}
    return client.post(f"{API}/legal-basis-grants", body, format="json")


def referral_consent(world, categories=("basic", "health"), recipient=None) -> Consent:
    consent = Consent.objects.create(
        resident=world.tanaka, decision=Decision.GRANTED, grantor=Grantor.SELF, categories=list(categories),
        purposes=["referral"], valid_from=timezone.now() - datetime.timedelta(days=1), method=Method.ORAL,
        taken_by=world.users["care_worker"], taken_by_organization=world.care_centre,
    )
    consent.recipient_organizations.set([recipient or world.ward_section])
    return consent


def refer(client, world, **overrides):
    body = {"case": world.tanaka_case.id, "receiver_organization": world.ward_section.id,
            "reason": "介護認定の申請について相談したい", "urgency": "urgent", "categories": ["basic", "health"],
            **overrides}
    return client.post(f"{API}/referrals", body, format="json")


def bypassing_the_trigger(sql: str, params=()) -> None:
    """What an attacker with the table owner's rights could do (the test restores the trigger afterwards)."""
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute("SET session_replication_role = replica")
        try:
            cursor.execute(sql, params)
        finally:
            if connection.vendor == "postgresql":
                cursor.execute("SET session_replication_role = DEFAULT")


def machine(key: str, **headers) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {key}", **headers)
    return client


PREFIX = "/api/hsds/"


def public_routes() -> list[str]:
    """Every route under /api/hsds/, from the URL configuration."""
    found = []

    def walk(patterns, prefix):
        for pattern in patterns:
            if isinstance(pattern, URLResolver):
                walk(pattern.url_patterns, prefix + str(pattern.pattern))
            elif isinstance(pattern, URLPattern):
                found.append("/" + prefix + str(pattern.pattern))

    walk(get_resolver().url_patterns, "")
    return [route for route in found if route.startswith(PREFIX)]


# A partner report as the partner business sends it (its agreement: the `agreement` fixture).
REQUEST_ID = "partner-test-0001"


def report(client, address: str, reference: str, **extra):
    body = {"agreement": "TAMA-2026-001", "reference": reference, "address": address,
            "observed_at": (timezone.now() - datetime.timedelta(hours=1)).isoformat(),
            "signals": ["newspapers_piling_up"], **extra}
    return client.post(f"{API}/partner-reports", json.dumps(body), content_type="application/json",
                       HTTP_X_REQUEST_ID=REQUEST_ID)


# Webhook endpoints on the tests' own loopback receiver (tests/integrations/receiver.py).
LOOPBACK = override_settings(WEBHOOK_ALLOWED_HOSTS=["127.0.0.1"])


def endpoint(admin, receiver, path, types=("referral.received", "referral.changed", "task.assigned")):
    with LOOPBACK:
        made = webhook_register(actor=admin, url=receiver.url(path), event_types=list(types))
    receiver.secrets[path] = [made.secret]
    return made


def events(world, count, *, start=0):
    return events_record(events=[NewEvent(world.care_centre_2.id, f"test:{start + n}", "referral.changed",
                                          "referral", 1000 + start + n) for n in range(count)])


def deliver(**kwargs):
    with LOOPBACK:
        return endpoints_deliver(endpoint_ids=list(WebhookEndpoint.objects.values_list("id", flat=True)), **kwargs)


# An organisation's API client registered by its admin (the key is in the answer, shown once).
CLIENTS = f"{API}/integrations/clients"


def register(admin, *, scopes, purposes=("watch_over",), **fields):
    response = admin.post(CLIENTS, {"name": "ケース管理システム", "scopes": list(scopes), "purposes": list(purposes),
                                    **fields}, format="json")
    assert response.status_code == 201, response.content
    return response.json()
