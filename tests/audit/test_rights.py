"""Residents' rights: the ledger, the disclosure (JSON and a Japanese PDF read back with pypdf), cessation of use,
the deadline reminder; only the ward's privacy officer sees or acts on any of it."""

from __future__ import annotations

import datetime
import io
import json

import pytest
import time_machine
from django.utils import timezone
from pypdf import PdfReader

from audit.models import Action, RightsRequest
from audit.rights import rights_reminders_send
from cases import services
from cases.models import Consent
from cases.models.consent import Grantor, Method, Purpose
from notifications.models import OutboxMessage
from tests.helpers import PERSONAS, entries_of, npo_on_team

OTHERS = [p for p in PERSONAS if p != "privacy_officer"]


def test_receiving_a_request_starts_the_30_day_clock(world, client_for):
    received = timezone.now() - datetime.timedelta(days=2)
    response = client_for("privacy_officer").post("/api/v1/rights/requests", {
        "resident": world.tanaka.id, "kind": "correction", "identity_check": "proxy_documents",
        "requester": "legal_guardian", "proxy_name": "田中 花子", "details": "生年月日の誤り",
        "received_at": received.isoformat(),
    }, HTTP_IDEMPOTENCY_KEY="rights-1")
    assert response.status_code == 201, response.content
    body = response.json()
    request = RightsRequest.objects.get(pk=body["id"])
    assert request.deadline == request.received_at + datetime.timedelta(days=30)
    assert request.reminder_due_at == request.deadline - datetime.timedelta(days=7)
    assert request.identity_checked_by == world.users["privacy_officer"] and body["status"] == "open"
    (change,) = entries_of(response, action=Action.CREATE, kind="rights_request")
    assert change.changes["details"][1].startswith("hmac:")


def test_closing_needs_an_outcome_that_fits(world, records, client_for):
    client = client_for("privacy_officer")
    url = f"/api/v1/rights/requests/{records.rights_request.id}/close"
    assert client.post(url, {"outcome": "corrected"}).json()["code"] == "rights_outcome_invalid"
    assert client.post(url, {"outcome": "refused"}).json()["code"] == "rights_reason_required"
    assert client.post(url, {"outcome": "disclosed"}).status_code == 200
    again = client.post(url, {"outcome": "disclosed"})
    assert again.status_code == 409 and again.json()["code"] == "rights_request_closed"


def test_disclosure_json_holds_everything_and_where_it_went(world, records, client_for):
    response = client_for("privacy_officer").get(f"/api/v1/rights/disclosures/{world.tanaka.id}")
    assert response.status_code == 200
    body = response.json()
    assert body["resident"]["name_kanji"] == "田中 一郎"
    assert [c["id"] for c in body["cases"]] == [world.tanaka_case.id]
    bodies = [n["body"] for n in body["notes"]]
    assert {"血圧が高め", "血圧が高め。通院中。", "年金のみ"} <= set(bodies)  # every version, finances too
    assert body["visits"][0]["note"] == "新聞が溜まっている"
    assert body["consents"] and body["provisions"]
    assert {p["recipient"]["name"] for p in body["provisions"]} == {"登戸地域包括支援センター"}
    assert body["rights_request"] == records.rights_request.id
    (export,) = entries_of(response, action=Action.EXPORT)
    assert export.kind == "disclosure" and export.bases == [f"rights_request:{records.rights_request.id}"]


def _fonts_of(reader: PdfReader) -> list[dict]:
    """Every font dictionary the pages use, with its descendant (Type0) fonts."""
    found = []
    for page in reader.pages:
        for font in (page["/Resources"].get("/Font") or {}).values():
            font = font.get_object()
            found.append(font)
            found += [d.get_object() for d in font.get("/DescendantFonts", [])]
    return found


@pytest.mark.parametrize("persona", ["privacy_officer", "care_worker"])
def test_options_on_the_disclosure_pdf_is_a_problem_not_a_crash(world, client_for, persona):
    """OPTIONS used to hand DRF's route description to the PDF renderer: 500."""
    response = client_for(persona).options(f"/api/v1/rights/disclosures/{world.tanaka.id}/pdf")
    assert response.status_code == 405
    assert response["Content-Type"].startswith("application/problem+json")
    assert json.loads(response.content)["code"] == "method_not_allowed"


def test_disclosure_pdf_is_readable_japanese_with_its_font_embedded(world, records, client_for):
    response = client_for("privacy_officer").get(f"/api/v1/rights/disclosures/{world.tanaka.id}/pdf")
    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    assert response.content.startswith(b"%PDF")
    reader = PdfReader(io.BytesIO(response.content))
    text = "".join(page.extract_text() for page in reader.pages)
    for expected in ("保有個人データ開示書", "田中 一郎", "タナカ イチロウ", "第三者提供記録",
                     "登戸地域包括支援センター", "血圧が高め。通院中。", "健康", "応答なし", "新聞が溜まっている"):
        assert expected in text, expected
    assert entries_of(response, action=Action.EXPORT).exists()

    # Every font carries its glyphs (a subset of IPAex Gothic): no viewer has to substitute one.
    fonts = _fonts_of(reader)
    assert fonts
    descriptors = [f["/FontDescriptor"].get_object() for f in fonts if "/FontDescriptor" in f]
    assert descriptors and all("/FontFile2" in d or "/FontFile3" in d for d in descriptors), descriptors
    assert all("IPAexGothic" in str(f["/BaseFont"]) for f in fonts), [f["/BaseFont"] for f in fonts]


def test_disclosure_routes_answer_one_media_type_each(world, client_for):
    officer = client_for("privacy_officer")
    url = f"/api/v1/rights/disclosures/{world.tanaka.id}"
    assert officer.get(url)["Content-Type"] == "application/json"
    wrong = officer.get(url, HTTP_ACCEPT="application/pdf")
    assert wrong.status_code == 406 and wrong["Content-Type"] == "application/problem+json"
    wrong = officer.get(f"{url}/pdf", HTTP_ACCEPT="application/json")
    assert wrong.status_code == 406 and wrong.json()["code"] == "not_acceptable"


def test_disclosure_query_parameters_are_400_and_errors_stay_problem_json(world, client_for):
    officer = client_for("privacy_officer")
    for suffix in ("", "/pdf"):
        for params in ({"format": "pdf"}, {"format": "xml"}, {"colour": "red"}):
            bad = officer.get(f"/api/v1/rights/disclosures/{world.tanaka.id}{suffix}", params)
            assert bad.status_code == 400 and bad.json()["code"] == "validation_error", (suffix, params)
    hidden = client_for("care_worker").get(f"/api/v1/rights/disclosures/{world.tanaka.id}/pdf")
    assert hidden.status_code == 404 and hidden["Content-Type"] == "application/problem+json"
    assert hidden.json()["code"] == "not_found"


def test_cessation_withdraws_every_consent_at_once(world, records, client_for):
    """Cessation at the resident's own request: after cessation the care centre no longer sees his health note."""
    npo_on_team(world)
    services.consent_record(actor=world.users["care_worker"], resident=world.tanaka, decision="granted",
                            grantor=Grantor.SELF, recipient_organizations=[world.npo], categories=["basic"],
                            purposes=[Purpose.WATCH_OVER], method=Method.ORAL)
    care, npo = client_for("care_worker"), client_for("npo_worker")
    assert care.get(f"/api/v1/notes/{records.health_note.id}").status_code == 200
    assert npo.get(f"/api/v1/residents/{world.tanaka.id}").status_code == 200

    officer = client_for("privacy_officer")
    created = officer.post("/api/v1/rights/requests", {
        "resident": world.tanaka.id, "kind": "cessation", "identity_check": "photo_id_in_person",
    }).json()
    response = officer.post(f"/api/v1/rights/requests/{created['id']}/cessation", HTTP_IDEMPOTENCY_KEY="stop-1")
    assert response.status_code == 200, response.content
    body = response.json()
    assert len(body["withdrawn_consents"]) == 2 and body["request"]["outcome"] == "ceased"
    assert not Consent.objects.filter(resident=world.tanaka, withdrawn_at__isnull=True, decision="granted").exists()
    assert care.get(f"/api/v1/notes/{records.health_note.id}").status_code == 404
    assert npo.get(f"/api/v1/residents/{world.tanaka.id}").status_code == 404
    replay = officer.post(f"/api/v1/rights/requests/{created['id']}/cessation", HTTP_IDEMPOTENCY_KEY="stop-1")
    assert replay.json() == body and replay["Idempotent-Replayed"] == "true"

    disclosure = officer.post(f"/api/v1/rights/requests/{records.rights_request.id}/cessation")
    assert disclosure.status_code == 409 and disclosure.json()["code"] == "rights_cessation_kind"


def test_the_officer_is_reminded_a_week_before_the_deadline(world, records):
    assert rights_reminders_send() == 0
    with time_machine.travel(timezone.now() + datetime.timedelta(days=23, minutes=1)):
        assert rights_reminders_send() == 1
        assert rights_reminders_send() == 0  # safe to run twice
    messages = OutboxMessage.objects.filter(subject_type="rights_request", subject_id=records.rights_request.id)
    assert set(messages.values_list("recipient_id", flat=True)) == {world.users["privacy_officer"].id}
    assert all(m.link == f"/api/v1/rights/requests/{records.rights_request.id}" for m in messages)


@pytest.mark.parametrize("persona", OTHERS)
def test_nobody_else_sees_or_acts_on_rights(persona, world, records, client_for):
    client = client_for(persona)
    expected = 403 if persona == "expired_commissioner" else 404
    request_id = records.rights_request.id
    for response in (
        client.get("/api/v1/rights/requests"),
        client.get(f"/api/v1/rights/requests/{request_id}"),
        client.get(f"/api/v1/rights/disclosures/{world.tanaka.id}"),
        client.post("/api/v1/rights/requests", {"resident": world.tanaka.id, "kind": "disclosure",
                                                 "identity_check": "photo_id_in_person"}),
        client.post(f"/api/v1/rights/requests/{request_id}/close", {"outcome": "disclosed"}),
        client.post(f"/api/v1/rights/requests/{request_id}/cessation"),
    ):
        assert response.status_code == expected, (persona, response.request["PATH_INFO"], response.content)
    assert RightsRequest.objects.get(pk=request_id).status == "open"


def test_bad_rights_input_answers_400(world, client_for):
    client = client_for("privacy_officer")
    base = {"resident": world.tanaka.id, "kind": "disclosure", "identity_check": "photo_id_in_person"}
    cases = [
        ({**base, "kind": "everything"}, "validation_error"),
        ({**base, "identity_check": ""}, "validation_error"),
        ({**base, "extra": 1}, "validation_error"),
        ({**base, "received_at": "2001-01-01T00:00:00Z"}, "rights_received_at_invalid"),
        ({**base, "kind": "correction"}, "rights_details_required"),
        ({**base, "requester": "family"}, "consent_proxy_required"),
        ({**base, "resident": 2**63}, "validation_error"),
        ({**base, "details": "a\x00b"}, "validation_error"),
    ]
    for body, code in cases:
        response = client.post("/api/v1/rights/requests", body)
        assert response.status_code == 400, (body, response.content)
        assert response.json()["code"] == code
    missing = client.post("/api/v1/rights/requests", {**base, "resident": 999999})
    assert missing.status_code == 404
