"""Generated from the URL configuration: every GET route under /api/v1/ either writes access-log rows when a
persona who sees data calls it, or is listed here as carrying no personal data.

A new route fails this test until it is added to one of the two tables below, and once added to
COVERED it fails again if it answers a resident's data without logging it.
"""

from __future__ import annotations

import datetime
import re

import pytest
from django.urls import URLPattern, URLResolver, get_resolver, reverse
from django.utils import timezone

from audit.models import AccessLogEntry, Action
from cases import models as case_models
from cases import services
from permissions.access import grant_bases
from tests.helpers import entries_of

# Routes that carry no resident's data, and why.
NO_PERSONAL_DATA = {
    "me": "the caller's own account and memberships",
    "token-list": "the caller's own API tokens",
    "organization-list": "the public directory of organisations",
    "organization-detail": "the public directory of organisations",
    "district-list": "the public directory of districts",
    "district-detail": "the public directory of districts",
    "notification-list": "notifications carry ids and links, never personal data",
    "notification-detail": "notifications carry ids and links, never personal data",
    "audit-unusual-access": "counts per staff member; no resident appears in it",
    "integration-client-list": "the organisation's own API clients: names, scopes, key ids",
    "integration-client-detail": "the organisation's own API clients: names, scopes, key ids",
    "integration-webhook-list": "the organisation's webhook endpoints: URLs and event types",
    "integration-webhook-detail": "the organisation's webhook endpoints: URLs and event types",
    "integration-webhook-deliveries": "deliveries carry event types, ids, statuses and the receiver's answer",
    "event-list": "events carry types, ids and times, never personal data",
    "partner-report-list": "a partner's own reports: its reference, signals and state; no address, no resident",
    "partner-report-detail": "a partner's own report: its reference, signals and state; no address, no resident",
    "disaster-event-list": "an event names districts and organisations, never a resident",
    "disaster-event-detail": "an event names districts and organisations, never a resident",
    "disaster-event-progress": "counts by district and outcome; no resident appears in it",
    # Released statistics: counts under disclosure control, no resident in them. Each read is still logged
    # (kind statistics_release, tests/plan_statistics/test_api.py).
    "statistics-release-list": "the list of releases: who released which period",
    "statistics-release-detail": "published statistics (suppressed counts)",
    "statistics-table": "published statistics (suppressed counts)",
    "statistics-table-csv": "published statistics (suppressed counts)",
    "statistics-chart": "a chart of published statistics",
    "statistics-report": "published statistics and their charts",
    "listing-list": "the directory of services: public listings and their drafts, never a resident",
    "listing-detail": "the directory of services: public listings and their drafts, never a resident",
}


def _api_get_routes() -> dict[str, tuple[list[str], type]]:
    """url name → (its keyword arguments, view class) for every GET route under api/v1/."""
    found: dict[str, tuple[list[str], type]] = {}

    def walk(patterns, prefix: str) -> None:
        for pattern in patterns:
            text = prefix + str(pattern.pattern)
            if isinstance(pattern, URLResolver):
                walk(pattern.url_patterns, text)
            elif isinstance(pattern, URLPattern) and text.lstrip("^").startswith("api/v1/"):
                callback = pattern.callback
                actions = getattr(callback, "actions", None)
                cls = getattr(callback, "cls", None) or getattr(callback, "view_class", None)
                gets = "get" in actions if actions is not None else hasattr(cls, "get")
                if gets and pattern.name:
                    found[pattern.name] = (sorted(pattern.pattern.regex.groupindex), cls)

    walk(get_resolver().url_patterns, "")
    return found


ROUTES = _api_get_routes()


def _referral(world):
    referral_model = getattr(case_models, "Referral", None)
    if referral_model is None:
        return None
    from cases.services.referrals import referral_create

    services.consent_record(actor=world.users["care_worker"], resident=world.tanaka, decision="granted",
                            grantor="self", recipient_organizations=[world.ward_section],
                            categories=["basic", "health"], purposes=["referral"], method="oral")
    return referral_create(actor=world.users["care_worker"], case=world.tanaka_case,
                           receiver_organization=world.ward_section, reason="要介護認定の申請支援",
                           categories=["basic", "health"])


def _task(world):
    from cases.services.tasks import task_open

    task, _ = task_open(kind="safety_check", organization=world.care_centre, due_at=timezone.now(),
                        dedupe_key="test:audit-routes", case=world.tanaka_case, user=world.users["care_worker"])
    return task


def _partner_report_on(task, world):
    """A partner's report routed to the task, Mr Tanaka its one candidate."""
    agreement = case_models.PartnerAgreement.objects.create(
        code="TEST-1", organization=world.partner_business, signals=["strange_smell"], valid_from=timezone.now())
    report = case_models.PartnerReport.objects.create(
        agreement=agreement, reference="r1", fingerprint="-", observed_at=timezone.now(), address_text="登戸1-1-1",
        signals=["strange_smell"], route_due_at=timezone.now(), state="routed")
    case_models.PartnerReportRouting.objects.create(report=report, outcome="matched", task=task)
    case_models.PartnerReportCandidate.objects.create(report=report, resident=world.tanaka)
    return task


def samples(world, records) -> dict[str, tuple[str, dict]]:
    """url name → (a persona who sees data there, the URL's keyword arguments)."""
    tanaka = world.tanaka.id
    table = {
        "resident-list": ("care_worker", {}),
        "resident-detail": ("care_worker", {"pk": tanaka}),
        "case-list": ("care_worker", {}),
        "case-detail": ("care_worker", {"pk": world.tanaka_case.id}),
        "note-list": ("care_worker", {}),
        "note-detail": ("care_worker", {"pk": records.health_note.id}),
        "note-history": ("care_worker", {"pk": records.health_note.id}),
        "visit-list": ("commissioner_a", {}),
        "visit-detail": ("commissioner_a", {"pk": records.visit.id}),
        "resident-consent-list": ("care_worker", {"resident_id": tanaka}),
        "legal-basis-grant-list": ("ward_supervisor", {}),
        "legal-basis-grant-detail": ("ward_supervisor", {"pk": records.grant.id}),
        "support-meeting-list": ("care_supervisor", {}),
        "support-meeting-detail": ("care_supervisor", {"pk": records.meeting.id}),
        "audit-access-log-list": ("privacy_officer", {}),
        "audit-provision-list": ("privacy_officer", {}),
        "audit-legal-hold-list": ("privacy_officer", {}),
        "audit-resident-readers": ("privacy_officer", {"resident_id": tanaka}),
        "rights-request-list": ("privacy_officer", {}),
        "rights-request-detail": ("privacy_officer", {"pk": records.rights_request.id}),
        "rights-disclosure": ("privacy_officer", {"resident_id": tanaka}),
        "rights-disclosure-pdf": ("privacy_officer", {"resident_id": tanaka}),
    }
    if any(name.startswith("referral-") for name in ROUTES):
        referral = _referral(world)
        table.update({
            "referral-list": ("care_worker", {}),
            "referral-detail": ("care_worker", {"pk": referral.id}),
            "referral-sent": ("care_worker", {}),
            "referral-inbox": ("ward_caseworker", {}),
        })
    if any(name.startswith("task-") for name in ROUTES):
        task = _task(world)
        table.update({
            "task-list": ("care_worker", {}),
            "task-detail": ("care_worker", {"pk": task.id}),
            "task-mine": ("care_worker", {}),
            "task-queue": ("care_worker", {}),
            "task-partner-report-list": ("care_worker", {"task_id": _partner_report_on(task, world).id}),
        })
    if any(name.startswith("evacuation-entry-") for name in ROUTES):
        from tests.helpers import declare, make_listed

        listed = make_listed(world)
        event = declare(listed)
        services.evacuation_plan_write(
            actor=world.users["ward_caseworker"], entry=listed.tanaka, destination="登戸小学校", needs=["mobility"],
            supporters=[{"name": "佐藤 花子", "role": "民生委員", "organization": world.npo.id}])
        table.update({
            "evacuation-entry-list": ("npo_worker", {}),
            "evacuation-entry-detail": ("npo_worker", {"pk": listed.suzuki.id}),
            "evacuation-entry-plans": ("npo_worker", {"pk": listed.tanaka.id}),
            "disaster-event-export-csv": ("npo_worker", {"pk": event.id}),
            "disaster-event-export-pdf": ("npo_worker", {"pk": event.id}),
        })
    # An organisation's API client (integrations/fhir.py): read as the care centre's machine.
    table["fhir-resident"] = ("client:care_centre", {"resident_id": tanaka})
    return table


def _caller(world, persona: str, client_for):
    """(an API client, the account its reads are logged under): a persona's token, or for `client:<org>` an
    API client of that organisation of the world with the scopes that route needs."""
    if not persona.startswith("client:"):
        return client_for(persona), world.users[persona]
    from cases.models.choices import Role
    from integrations.services import client_register
    from tests.factories import MembershipFactory, UserFactory
    from tests.helpers import machine

    organization = getattr(world, persona.split(":", 1)[1])
    admin = UserFactory(username=f"{persona.split(':', 1)[1]}_routes_admin")
    MembershipFactory(user=admin, organization=organization, role=Role.ORG_ADMIN)
    client, key = client_register(actor=admin, name="routes", scopes=["fhir.read"], purposes=["watch_over"])
    return machine(key), client.user


def test_every_route_is_classified():
    """A new GET route under /api/v1/ must be declared here: it reads personal data (and logs) or it does not."""
    covered_names = {
        "resident-list", "resident-detail", "case-list", "case-detail", "note-list", "note-detail", "note-history",
        "visit-list", "visit-detail", "resident-consent-list", "legal-basis-grant-list", "legal-basis-grant-detail",
        "support-meeting-list", "support-meeting-detail", "audit-access-log-list", "audit-provision-list",
        "audit-legal-hold-list", "audit-resident-readers", "rights-request-list", "rights-request-detail",
        "rights-disclosure", "rights-disclosure-pdf", "referral-list", "referral-detail", "referral-sent",
        "referral-inbox", "task-list", "task-detail", "task-mine", "task-queue", "task-partner-report-list",
        "evacuation-entry-list",
        "evacuation-entry-detail", "evacuation-entry-plans", "disaster-event-export-csv", "disaster-event-export-pdf",
        "fhir-resident",
    }
    unclassified = sorted(set(ROUTES) - covered_names - set(NO_PERSONAL_DATA))
    assert not unclassified, (
        f"GET routes neither covered by the access-log test nor declared free of personal data: {unclassified}. "
        "Add a sample to `samples()` (it must then write access-log rows) or a reason to NO_PERSONAL_DATA."
    )


@pytest.mark.parametrize("name", sorted(set(ROUTES) - set(NO_PERSONAL_DATA)))
def test_route_reading_personal_data_writes_the_access_log(name, world, records, client_for):
    table = samples(world, records)
    assert name in table, f"route {name} has no sample: add one to samples() (or declare it free of personal data)"
    persona, kwargs = table[name]
    caller, user = _caller(world, persona, client_for)
    response = caller.get(reverse(name, kwargs=kwargs))
    assert response.status_code == 200, (name, response.status_code, response.content[:300])
    body = response.json() if response["Content-Type"].startswith("application/json") else None  # or a PDF
    if isinstance(body, dict) and "results" in body:
        assert body["results"], f"{name}: the sample persona sees nothing, so the test would prove nothing"
    entries = entries_of(response, user_id=user.id, action__in=[Action.READ, Action.EXPORT])
    assert entries.exists(), f"GET {name} answered a resident's data without writing the access log"
    entry = entries.first()
    assert entry.route.startswith("GET ") and entry.bases and entry.resident_id is not None
    assert entry.request_id == response["X-Request-ID"]


def test_a_read_that_fails_writes_nothing(world, client_for):
    response = client_for("npo_worker").get(f"/api/v1/residents/{world.tanaka.id}")
    assert response.status_code == 404
    assert not entries_of(response).exists()


def test_the_basis_of_a_read_is_the_grant_it_went_through(world, records, client_for):
    """The care centre reads the health note through Mr Tanaka's consent; commissioner Sato as its author."""
    note = records.health_note
    care = client_for("care_worker").get(f"/api/v1/notes/{note.id}")
    sato = client_for("commissioner_a").get(f"/api/v1/notes/{note.id}")
    (care_entry,) = entries_of(care)
    (sato_entry,) = entries_of(sato)
    assert care_entry.bases[0].startswith("consent:") and care_entry.outside_caseload
    assert care_entry.categories == ["health"] and care_entry.resident_id == world.tanaka.id
    assert "author" in sato_entry.bases and not sato_entry.outside_caseload


# The look-up of a read's bases after the fact (permissions.access.grant_bases), as hand-written SQL on
# PostgreSQL and as the ORM writes it elsewhere: a statement whose columns are a grant's object and basis.
_BASES_LOOK_UP = re.compile(r'^SELECT \S*content_object_id"?( AS "content_object_id")?, \S*basis"?( AS "basis")? FROM ')


@pytest.mark.parametrize("route", ["caseload", "case", "notes"])
def test_a_page_carries_the_bases_it_was_read_through(route, world, records, client_for):
    """The caseload, a case and the notes read each row's bases in the row's own query: the log records the
    bases a look-up of the reader's grants gives, and looks none up."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    path = {"caseload": "/api/v1/cases", "case": f"/api/v1/cases/{world.tanaka_case.id}",
            "notes": "/api/v1/notes"}[route]
    model, codename = (case_models.Note, "view_note") if route == "notes" else (case_models.Case, "view_case")
    for persona in ("care_worker", "commissioner_a"):
        client = client_for(persona)
        client.get(path)  # warm caches (content types, permissions)
        with CaptureQueriesContext(connection) as queries:
            response = client.get(path)
        assert response.status_code == 200, response.content
        assert not [q["sql"] for q in queries.captured_queries if _BASES_LOOK_UP.match(q["sql"])], persona
        entries = list(entries_of(response))
        ids = sorted({object_id for entry in entries for object_id in entry.object_ids})
        assert ids, f"{persona} reads nothing on {path}: the test would prove nothing"
        expected = grant_bases(user=world.users[persona], model=model, object_ids=ids, codename=codename)
        for entry in entries:
            assert entry.bases, entry
            assert entry.bases == sorted({b for object_id in entry.object_ids for b in expected[object_id]}), entry


def test_a_list_writes_one_row_per_resident_in_one_insert(world, records, client_for, django_assert_max_num_queries):
    """The caseload of many residents costs the same queries as one: one INSERT for the whole page."""
    from tests.factories import CaseFactory, ResidentFactory

    for _ in range(12):
        CaseFactory(resident=ResidentFactory(district=world.district_a, registered_by=world.council),
                    lead_organization=world.care_centre, team=[world.care_centre])
    client = client_for("care_worker")
    client.get("/api/v1/cases")  # warm caches (content types, permissions)
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as queries:
        response = client.get("/api/v1/cases")
    inserts = [q for q in queries.captured_queries if q["sql"].startswith('INSERT INTO "audit_accesslogentry"')]
    assert len(inserts) == 1
    assert entries_of(response).count() == 13


def test_writes_record_what_changed(world, client_for):
    """A correction shows codes in clear and names only as digests; a visit upload is a create entry."""
    client = client_for("commissioner_a")
    resident = client.get(f"/api/v1/residents/{world.tanaka.id}")
    response = client.patch(f"/api/v1/residents/{world.tanaka.id}", {"name_kanji": "田中 一朗",
                                                                       "household_type": "elderly_couple"},
                            HTTP_IF_MATCH=resident["ETag"])
    assert response.status_code == 200, response.content
    (change,) = entries_of(response, action=Action.UPDATE, kind="resident")
    assert change.changes["household_type"] == ["lives_alone", "elderly_couple"]
    old, new = change.changes["name_kanji"]
    assert old.startswith("hmac:") and new.startswith("hmac:") and old != new
    assert "田中" not in str(change.changes)
    assert change.user_id == world.users["commissioner_a"].id and change.resident_id == world.tanaka.id

    visit = client.post("/api/v1/visits", {
        "case": world.tanaka_case.id, "client_id": "0b5e1f4c-1a52-4c8e-9a53-0d1f7c1e2b77",
        "occurred_at": (timezone.now() - datetime.timedelta(minutes=5)).isoformat(), "channel": "home_visit",
        "outcome": "met", "note": "お元気そう",
    })
    assert visit.status_code == 201, visit.content
    (created,) = entries_of(visit, action=Action.CREATE, kind="visit")
    assert created.changes["outcome"] == [None, "met"] and created.changes["note"][1].startswith("hmac:")
    # Echoing the new visit back to its author is not another read: the create entry is the record.
    assert not entries_of(visit, action=Action.READ, kind="visit").exists()
    # A retry (the phone did not hear the answer) creates nothing and shows the stored visit: a read.
    retried = client.post("/api/v1/visits", {
        "case": world.tanaka_case.id, "client_id": "0b5e1f4c-1a52-4c8e-9a53-0d1f7c1e2b77",
        "occurred_at": (timezone.now() - datetime.timedelta(minutes=5)).isoformat(), "channel": "home_visit",
        "outcome": "met", "note": "お元気そう",
    })
    assert retried.status_code == 200, retried.content
    assert not entries_of(retried, action=Action.CREATE).exists()
    (read,) = entries_of(retried, action=Action.READ, kind="visit")
    assert read.object_ids == [created.object_ids[0]] and read.resident_id == world.tanaka.id
    # An update's answer shows the whole record, not only what changed: it is logged as a read too.
    assert entries_of(response, action=Action.READ, kind="resident").exists()


def test_reads_are_not_logged_twice_per_request(world, records, client_for):
    response = client_for("care_worker").get(f"/api/v1/notes/{records.health_note.id}/history")
    rows = list(entries_of(response).values_list("resident_id", "kind"))
    assert len(rows) == len(set(rows))
    assert AccessLogEntry.objects.filter(request_id="").filter(action=Action.READ).count() == 0
