"""A partner notices: the report is answered the same whatever lives at the address, then routed.

The newspaper shop sees papers piling up at Mr Tanaka's door and reports the address as its
delivery slip prints it. Its answer is byte for byte the answer for an address where nobody is
registered (but for the report id); the care centre then has an urgent safety check naming him.
"""

from __future__ import annotations

import datetime

import pytest
from django.utils import timezone

from audit.models import AccessLogEntry
from audit.provisions import ProvisionRecord
from cases.models import PartnerAgreement, PartnerReport, PartnerReportRouting, Task, TaskKind
from cases.services.partner_reports import partner_report_route, partner_reports_route_due
from tests.factories import ResidentFactory
from tests.helpers import API, report


def answer_without_id(response) -> tuple:
    report_id = response.json()["id"]
    # The id's own digits are the only difference, in the body, the Location and so the Content-Length.
    digits = len(str(report_id))
    headers = sorted((k, v.removesuffix(f"/{report_id}") if k == "Location" else
                      str(int(v) - digits) if k == "Content-Length" else v) for k, v in response.items())
    return response.status_code, headers, response.content.replace(f'"id":{report_id},'.encode(), b'"id":<id>,')


def test_a_newspaper_report_reaches_the_care_centre_and_tells_nothing(world, agreement, tanaka_at_home, client_for):
    partner = client_for("partner")
    matched = report(partner, "多摩区登戸１－２－１５　コーポ登戸　１０１", "slip-0001")
    nobody = report(partner, "多摩区登戸4-29-30", "slip-0002")
    assert matched.status_code == 202
    assert matched.json()["result"] == "received_and_routed"
    assert answer_without_id(matched) == answer_without_id(nobody)

    routing = partner_report_route(report_id=matched.json()["id"])
    assert routing.outcome == "matched"
    check = routing.task
    assert (check.kind, check.urgency, check.assignee_organization, check.resident) == (
        TaskKind.SAFETY_CHECK, "urgent", world.care_centre, world.tanaka)

    care = client_for("care_worker")
    task = care.get(f"{API}/tasks/{check.id}").json()
    resident = care.get(f"{API}/residents/{task['resident']}").json()
    assert resident["name_kanji"] == "田中 一郎"
    signals = care.get(f"{API}/tasks/{check.id}/partner-reports").json()
    assert [(s["address"], s["candidates"], s["signals"]) for s in signals] == [
        ("多摩区登戸１－２－１５　コーポ登戸　１０１", [world.tanaka.id], ["newspapers_piling_up"])]

    # The address no register knows goes to the ward section as written.
    unmatched = partner_report_route(report_id=nobody.json()["id"])
    assert (unmatched.outcome, unmatched.task.kind, unmatched.task.assignee_organization,
            unmatched.task.instruction_code) == ("none", TaskKind.PARTNER_SIGNAL, world.ward_section, "no_match")
    ward = client_for("ward_caseworker").get(f"{API}/tasks/{unmatched.task.id}/partner-reports").json()
    assert [(s["address"], s["candidates"]) for s in ward] == [("多摩区登戸4-29-30", [])]

    # The partner sees its reports routed, and nothing of where they went.
    listed = partner.get(f"{API}/partner-reports").json()["results"]
    assert [(r["reference"], r["state"]) for r in listed] == [("slip-0001", "routed"), ("slip-0002", "routed")]
    assert set(listed[0]) == {"id", "agreement", "reference", "observed_at", "received_at", "state", "signals",
                              "emergency_services_called"}
    assert partner.get(f"{API}/tasks/{check.id}").status_code == 404
    assert partner.get(f"{API}/tasks/{check.id}/partner-reports").status_code == 404
    assert partner.get(f"{API}/residents/{world.tanaka.id}").status_code == 404

    # Matching read the register and the check opened him to the care centre: both are on the record.
    assert AccessLogEntry.objects.filter(kind="partner_report_match", resident_id=world.tanaka.id).exists()
    assert ProvisionRecord.objects.filter(resident_id=world.tanaka.id, basis=f"safety_check:{check.id}").exists()


def test_a_second_report_joins_the_open_task_and_raises_urgency(world, agreement, tanaka_at_home, client_for):
    partner = client_for("partner")
    first = report(partner, "登戸1-2-15-101", "slip-1").json()["id"]
    second = report(partner, "川崎市多摩区登戸一丁目二番十五号", "slip-2", signals=["mail_piling_up"]).json()["id"]
    check = partner_report_route(report_id=first).task
    joined = partner_report_route(report_id=second)
    assert joined.joined and joined.task == check
    check.refresh_from_db()
    assert check.urgency == "emergency"
    assert Task.objects.filter(kind=TaskKind.SAFETY_CHECK, resident=world.tanaka).count() == 1


def test_several_residents_go_to_the_ward_for_triage(world, agreement, client_for):
    for _ in range(2):
        ResidentFactory(district=world.district_a, registered_by=world.council, block_number="31-7")
    routed = partner_report_route(report_id=report(client_for("partner"), "登戸1-31-7", "slip-3").json()["id"])
    assert (routed.outcome, routed.task.kind, routed.task.assignee_organization, routed.task.instruction_code) == (
        "several", TaskKind.PARTNER_SIGNAL, world.ward_section, "several_candidates")
    # The ward caseworker sees neither of them: the candidates it may not see are not listed.
    listed = client_for("ward_caseworker").get(f"{API}/tasks/{routed.task.id}/partner-reports").json()
    assert [s["candidates"] for s in listed] == [[]]


def test_do_not_contact_goes_to_the_ward_section_only(world, agreement, client_for):
    ResidentFactory(district=world.district_a, registered_by=world.council, block_number="31-9", do_not_contact=True)
    routed = partner_report_route(report_id=report(client_for("partner"), "登戸1-31-9", "slip-4").json()["id"])
    assert (routed.task.kind, routed.task.assignee_organization, routed.task.instruction_code) == (
        TaskKind.SAFETY_CHECK, world.ward_section, "do_not_contact")


def test_the_reference_is_the_idempotency_of_a_report(world, agreement, client_for):
    partner = client_for("partner")
    body = {"agreement": "TAMA-2026-001", "reference": "slip-5", "address": "登戸1-1-1",
            "observed_at": timezone.now().isoformat(), "signals": ["strange_smell"]}
    first = partner.post(f"{API}/partner-reports", body, format="json")
    again = partner.post(f"{API}/partner-reports", body, format="json")
    assert (first.status_code, again.status_code, first.content) == (202, 202, again.content)
    other = partner.post(f"{API}/partner-reports", {**body, "address": "登戸1-1-2"}, format="json")
    assert (other.status_code, other.json()["code"]) == (409, "partner_reference_reused")
    assert PartnerReport.objects.count() == 1


@pytest.mark.parametrize(("change", "expected"), [
    ({"agreement": "NO-SUCH"}, (404, "not_found")),
    ({"signals": ["laundry_left_out"]}, (400, "partner_signal_not_covered")),
    ({"address": "川崎市麻生区百合丘1-2-3"}, (400, "partner_address_outside_area")),
    ({"signals": ["cat_on_roof"]}, (400, "validation_error")),
])
def test_reports_outside_the_agreement_are_refused(world, agreement, client_for, change, expected):
    body = {"agreement": "TAMA-2026-001", "reference": "slip-6", "address": "登戸1-1-1",
            "observed_at": timezone.now().isoformat(), "signals": ["strange_smell"], **change}
    response = client_for("partner").post(f"{API}/partner-reports", body, format="json")
    assert (response.status_code, response.json()["code"]) == expected


def test_an_expired_agreement_and_other_reporters_are_refused(world, agreement, client_for):
    body = {"agreement": "TAMA-2026-001", "reference": "slip-7", "address": "登戸1-1-1",
            "observed_at": timezone.now().isoformat(), "signals": ["strange_smell"]}
    response = client_for("care_worker").post(f"{API}/partner-reports", body, format="json")
    assert (response.status_code, response.json()["code"]) == (403, "partner_only")
    PartnerAgreement.objects.filter(pk=agreement.pk).update(valid_until=timezone.now() - datetime.timedelta(days=1),
                                                            valid_from=timezone.now() - datetime.timedelta(days=9))
    response = client_for("partner").post(f"{API}/partner-reports", body, format="json")
    assert (response.status_code, response.json()["code"]) == (403, "partner_agreement_inactive")
    assert client_for("care_worker").get(f"{API}/partner-reports").json()["results"] == []


def test_the_sweep_routes_what_the_broker_lost(world, agreement, client_for):
    report_id = report(client_for("partner"), "登戸1-3-3", "slip-8").json()["id"]
    PartnerReport.objects.filter(pk=report_id).update(route_due_at=timezone.now() - datetime.timedelta(minutes=1))
    assert partner_reports_route_due().done == 1
    assert PartnerReportRouting.objects.filter(report_id=report_id).exists()
    assert partner_reports_route_due().done == 0
    assert partner_report_route(report_id=report_id) is None


# Who reads what of a routed report: the partner its own list only; the care centre the report on its check.
READS = {
    # persona: (its list of reports, the report on the safety check)
    "commissioner_a": (0, "404 not_found"), "commissioner_b": (0, "404 not_found"),
    "care_worker": (0, "200 [tanaka]"), "care_supervisor": (0, "200 [tanaka]"),
    "care_outsider": (0, "404 not_found"), "ward_caseworker": (0, "404 not_found"),
    "ward_supervisor": (0, "404 not_found"), "npo_worker": (0, "404 not_found"),
    "partner": (1, "404 not_found"), "privacy_officer": (0, "404 not_found"),
    "expired_commissioner": ("403 no_active_membership", "403 no_active_membership"),
}


@pytest.mark.parametrize("persona", sorted(READS))
def test_who_reads_a_routed_report(persona, world, agreement, tanaka_at_home, client_for):
    report_id = report(client_for("partner"), "登戸1-2-15 コーポ登戸 101", "slip-9").json()["id"]
    check = partner_report_route(report_id=report_id).task
    client = client_for(persona)

    def seen(response):
        if response.status_code != 200:
            return f"{response.status_code} {response.json()['code']}"
        body = response.json()
        if isinstance(body, dict):
            return len(body["results"])
        names = ("tanaka" if c == world.tanaka.id else str(c) for s in body for c in s["candidates"])
        return f"200 [{', '.join(names)}]"

    assert (seen(client.get(f"{API}/partner-reports")),
            seen(client.get(f"{API}/tasks/{check.id}/partner-reports"))) == READS[persona]
    detail = client.get(f"{API}/partner-reports/{report_id}")
    assert detail.status_code == (200 if persona == "partner" else 404 if READS[persona][0] == 0 else 403)


def test_the_worker_task_routes_once_and_logs_under_its_route(world, agreement, tanaka_at_home, client_for):
    from cases import tasks

    report_id = report(client_for("partner"), "登戸1-2-15 101", "slip-10").json()["id"]
    assert tasks.partner_report_route(report_id) is True
    assert tasks.partner_report_route(report_id) is False  # a second delivery does nothing
    entry = AccessLogEntry.objects.get(kind="partner_report_match", object_ids=[report_id])
    assert (entry.route, entry.resident_id, entry.bases) == (
        "partner_report_route", world.tanaka.id, [f"partner_report:{report_id}"])
