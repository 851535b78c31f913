"""The FHIR R4B export of a resident (GET /api/v1/fhir/residents/{id}): every resource validates with
`fhir.resources`, a round trip keeps states, categories, periods and bases; only an organisation's API
client with `fhir.read` reads it, only what the policy lets its organisation see (else 404, as missing),
every read access-logged under the client, every third-party item with its provision record."""

from __future__ import annotations

import datetime

import pytest
import time_machine
from django.utils import timezone
from fhir.resources.R4B import get_fhir_model_class
from fhir.resources.R4B.bundle import Bundle

from audit.models import AccessLogEntry, ProvisionRecord
from cases import services
from cases.models import CaseTeamMember, Consent, LegalBasisGrant
from cases.models.consent import Decision, Grantor, GrantStatus, LegalBasis, Method
from integrations.fhir import EN_REPRESENTATION, SYSTEM
from integrations.models import OrganizationClient
from permissions.grants import grants_sync_residents
from tests.helpers import machine, referral_consent, register

API = "/api/v1"


def url(resident_id: int) -> str:
    return f"{API}/fhir/residents/{resident_id}"


@pytest.fixture
def shared(world):
    """Mr Tanaka as the second care centre may see him: on his case team with watch-over consent for basic
    and health (not finances), a referral to it accepted and put on hold, a break-glass grant for contacts."""
    CaseTeamMember.objects.create(case=world.tanaka_case, organization=world.care_centre_2)
    consent = services.consent_record(
        actor=world.users["care_worker"], resident=world.tanaka, decision=Decision.GRANTED, grantor=Grantor.SELF,
        recipient_organizations=[world.care_centre_2], categories=["basic", "health"], purposes=["watch_over"],
        valid_until=timezone.now() + datetime.timedelta(days=365), method=Method.ORAL)
    health = services.note_write(actor=world.users["care_worker"], resident=world.tanaka, category="health",
                                 body="血圧が高め。服薬を確認した。", case=world.tanaka_case)
    finances = services.note_write(actor=world.users["care_worker"], resident=world.tanaka, category="finances",
                                   body="年金の受給状況を確認した。", case=world.tanaka_case)
    referral_consent(world, recipient=world.care_centre_2)
    referral = services.referral_create(
        actor=world.users["care_worker"], case=world.tanaka_case, receiver_organization=world.care_centre_2,
        reason="転倒後の生活機能の評価", categories=["basic", "health"])
    services.referral_transition(actor=world.users["care_outsider"], referral_id=referral.id, action="accept")
    services.referral_transition(actor=world.users["care_outsider"], referral_id=referral.id, action="hold",
                                 reason="入院中のため退院を待つ")
    now = timezone.now()
    grant = LegalBasisGrant.objects.create(
        resident=world.tanaka, organization=world.care_centre_2, basis=LegalBasis.VITAL_INTERESTS,
        categories=["basic"], justification="安否確認", status=GrantStatus.ACTIVE,
        requested_by=world.users["care_outsider"], starts_at=now - datetime.timedelta(hours=1),
        ends_at=now + datetime.timedelta(hours=71), review_due_at=now + datetime.timedelta(days=1))
    grants_sync_residents(resident_ids=[world.tanaka.id])
    referral.refresh_from_db()
    return {"consent": consent, "health": health, "finances": finances, "referral": referral, "grant": grant}


def client_key(admin_for, organization: str, scopes=("fhir.read",)) -> tuple[str, OrganizationClient]:
    created = register(admin_for(organization), scopes=list(scopes), purposes=["watch_over"])
    return created["key"], OrganizationClient.objects.get(pk=created["id"])


def resources(body: dict) -> dict[str, list]:
    """Each entry parsed by its own R4B model class (a resource that does not validate raises)."""
    Bundle.model_validate(body)
    parsed: dict[str, list] = {}
    for entry in body["entry"]:
        resource = get_fhir_model_class(entry["resource"]["resourceType"]).model_validate(entry["resource"])
        parsed.setdefault(resource.get_resource_type(), []).append(resource)
    return parsed


def test_the_export_validates_and_a_round_trip_keeps_states_categories_periods_and_bases(
        world, shared, admin_for):
    key, _ = client_key(admin_for, "care_centre_2")
    answer = machine(key).get(url(world.tanaka.id))
    assert answer.status_code == 200, answer.content
    assert answer["Content-Type"].startswith("application/fhir+json")
    body = answer.json()
    assert (body["resourceType"], body["type"]) == ("Bundle", "collection")
    found = resources(body)
    assert set(found) == {"Patient", "EpisodeOfCare", "Observation", "Consent", "ServiceRequest", "Task"}

    [patient] = found["Patient"]
    names = {name.extension[0].valueCode: name for name in patient.name}
    assert {n.extension[0].url for n in patient.name} == {EN_REPRESENTATION}
    assert (names["IDE"].family, names["IDE"].given) == ("田中", ["一郎"])
    assert (names["SYL"].family, names["SYL"].given) == ("タナカ", ["イチロウ"])
    assert patient.birthDate == world.tanaka.date_of_birth

    # Notes: the health note (consent covers it), never the finance note.
    assert [o.valueString for o in found["Observation"]] == [shared["health"].body]
    assert found["Observation"][0].category[0].coding[0].code == "health"

    consents = {c.id: c for c in found["Consent"]}
    record = consents[f"consent-{shared['consent'].id}"]
    assert record.status == "active" and record.provision.type == "permit"
    assert record.policyRule.coding[0].code == "APPI27-1"
    assert record.performer[0].reference == f"Patient/{world.tanaka.id}"  # the resident decided
    assert record.provision.actor[0].reference.reference == f"Organization/{world.care_centre_2.id}"
    assert {p.code for p in record.provision.purpose} == {"watch_over"}
    assert {p.code[0].coding[0].code for p in record.provision.provision} == {"basic", "health"}
    assert record.provision.period.start == shared["consent"].valid_from
    assert record.provision.period.end == shared["consent"].valid_until
    basis = consents[f"basis-{shared['grant'].id}"]
    assert basis.policyRule.coding[0].code == "APPI27-1-2" and basis.status == "active"
    assert basis.performer is None  # the law decided, not the resident
    assert (basis.provision.period.start, basis.provision.period.end) == (shared["grant"].starts_at,
                                                                          shared["grant"].ends_at)
    # Consents that do not name this organisation are not its business.
    assert all(c.provision.actor[0].reference.reference == f"Organization/{world.care_centre_2.id}"
               for c in found["Consent"])

    referral = shared["referral"]
    [task] = found["Task"]
    [request] = found["ServiceRequest"]
    assert (task.status, task.businessStatus.coding[0].code) == ("on-hold", "on-hold")
    assert task.statusReason.text == "入院中のため退院を待つ"
    assert task.focus.reference == f"ServiceRequest/{referral.id}"
    assert (task.owner.reference, task.requester.reference) == (f"Organization/{world.care_centre_2.id}",
                                                               f"Organization/{world.care_centre.id}")
    assert request.status == "on-hold" and {d.coding[0].code for d in request.orderDetail} == {"basic", "health"}
    assert {c.coding[0].system for c in request.orderDetail} == {SYSTEM["category"]}


@pytest.mark.parametrize(("who", "expected"), [
    ("npo_client", (404, "not_found")),             # an organisation that does not see him
    ("missing", (404, "not_found")),                # no such resident: the same answer
    ("no_scope", (403, "client_scope_denied")),      # a client of the right organisation without fhir.read
    ("person", (403, "client_required")),           # a person's token, even one who sees him
])
def test_who_may_read_the_export(world, shared, admin_for, client_for, who, expected):
    resident_id = world.tanaka.id
    if who == "npo_client":
        caller = machine(client_key(admin_for, "npo")[0])
    elif who == "missing":
        caller, resident_id = machine(client_key(admin_for, "care_centre_2")[0]), 999_999
    elif who == "no_scope":
        caller = machine(client_key(admin_for, "care_centre_2", scopes=("residents.read",))[0])
    else:
        caller = client_for("care_outsider")
    answer = caller.get(url(resident_id))
    assert (answer.status_code, answer.json()["code"]) == expected
    assert answer["Content-Type"].startswith("application/problem+json")


def test_every_read_is_logged_under_the_client_and_each_provision_recorded(world, shared, admin_for):
    key, client = client_key(admin_for, "care_centre_2")
    answer = machine(key).get(url(world.tanaka.id))
    assert answer.status_code == 200
    entries = list(AccessLogEntry.objects.filter(request_id=answer["X-Request-ID"]))
    label = f"client:{client.id}/org:{world.care_centre_2.id}/purpose:watch_over"
    assert entries and {(e.user_id, e.username, e.resident_id) for e in entries} == {
        (client.user_id, label, world.tanaka.id)}
    kinds = {e.kind for e in entries}
    assert {"resident", "case", "note", "referral", "consent"} <= kinds, kinds
    [note_entry] = [e for e in entries if e.kind == "note"]
    assert note_entry.object_ids == [shared["health"].id] and note_entry.categories == ["health"]
    assert all(e.bases for e in entries if e.kind in {"resident", "case", "note"})

    provided = set(ProvisionRecord.objects.filter(recipient=world.care_centre_2, resident=world.tanaka)
                   .values_list("item", "category", "basis"))
    assert ("note", "health", f"consent:{shared['consent'].id}") in provided
    assert ("resident", "basic", f"consent:{shared['consent'].id}") in provided
    assert not any(item == "note" and category == "finances" for item, category, _ in provided)


def test_an_export_records_again_a_provision_that_retention_removed(world, admin_for):
    """A consent of four years ago, still valid: retention removed its provision records (kept three years);
    the export hands the resident over today, so it records the provision again, dated now."""
    from audit.retention import retention_run

    past = timezone.now() - datetime.timedelta(days=4 * 365)
    CaseTeamMember.objects.create(case=world.tanaka_case, organization=world.care_centre_2)
    with time_machine.travel(past, tick=False):
        old = Consent.objects.create(
            resident=world.tanaka, decision=Decision.GRANTED, grantor=Grantor.SELF, categories=["basic"],
            purposes=["watch_over"], valid_from=past, method=Method.ORAL, taken_by=world.users["care_worker"],
            taken_by_organization=world.care_centre)
        old.recipient_organizations.set([world.care_centre_2])
        grants_sync_residents(resident_ids=[world.tanaka.id])
    records = ProvisionRecord.objects.filter(recipient=world.care_centre_2, resident=world.tanaka, item="resident",
                                             basis=f"consent:{old.id}")
    assert records.exists()
    retention_run()
    assert not records.exists()
    key, _ = client_key(admin_for, "care_centre_2")
    started = timezone.now()
    assert machine(key).get(url(world.tanaka.id)).status_code == 200
    [again] = records
    assert again.provided_at >= started and again.category == "basic"
