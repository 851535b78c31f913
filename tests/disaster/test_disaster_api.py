"""The disaster routes: plans shared by consent, offline outcome uploads, progress as counts, exports."""

from __future__ import annotations

import datetime
import io
import json
import uuid

import pytest
from django.utils import timezone
from pypdf import PdfReader

from audit.models import AccessLogEntry
from cases.models import SafetyCheckReport, Task
from cases.models.escalations import TaskKind
from cases.services.escalations import escalations_fire_due
from tests.helpers import API, declare, fixture_update

pytestmark = pytest.mark.django_db


def post(client, path, body):
    return client.post(f"{API}{path}", json.dumps(body), content_type="application/json",
                       HTTP_IDEMPOTENCY_KEY=str(uuid.uuid4()))


def _plan(listed, **changes) -> dict:
    return {"supporters": [{"name": "佐藤 花子", "role": "民生委員", "organization": listed.world.council.id},
                           {"name": "高橋 次郎", "role": "近隣住民", "organization": listed.world.npo.id}],
            "destination": "登戸小学校 体育館", "needs": ["mobility", "oxygen"], "contact": "長女 090-0000-0000",
            **changes}


def test_a_plan_is_versioned_and_reaches_named_supporters_by_consent_only(listed, client_for):
    keeper = client_for("ward_caseworker")
    first = post(keeper, f"/evacuation-entries/{listed.tanaka.id}/plans", _plan(listed))
    assert first.status_code == 201, first.json()
    stale = post(keeper, f"/evacuation-entries/{listed.tanaka.id}/plans", _plan(listed, destination="公民館"))
    assert stale.status_code == 409 and stale.json()["code"] == "evacuation_plan_superseded"
    second = post(keeper, f"/evacuation-entries/{listed.tanaka.id}/plans",
                  _plan(listed, destination="公民館", supersedes=first.json()["id"]))
    assert second.status_code == 201 and second.json()["supersedes"] == first.json()["id"]
    history = client_for("npo_worker").get(f"{API}/evacuation-entries/{listed.tanaka.id}/plans").json()["results"]
    assert [p["destination"] for p in history] == ["登戸小学校 体育館", "公民館"]
    assert client_for("commissioner_a").get(f"{API}/evacuation-entries/{listed.tanaka.id}/plans").status_code == 200
    # Yamada did not consent: a plan naming the NPO is not shared with it.
    assert post(keeper, f"/evacuation-entries/{listed.yamada.id}/plans", _plan(listed)).status_code == 201
    assert client_for("npo_worker").get(f"{API}/evacuation-entries/{listed.yamada.id}/plans").status_code == 404
    # Only the ward section writes plans.
    refused = post(client_for("npo_worker"), f"/evacuation-entries/{listed.tanaka.id}/plans", _plan(listed))
    assert refused.status_code == 403 and refused.json()["code"] == "ward_section_required"


def test_manual_removal_sticks_and_a_manual_addition_says_why(listed, client_for, world):
    keeper = client_for("ward_caseworker")
    removed = post(keeper, f"/evacuation-entries/{listed.suzuki.id}/remove", {"reason": "施設に入所"})
    assert removed.status_code == 200 and removed.json()["status"] == "removed"
    assert post(keeper, "/evacuation-entries/refresh", {}).json() == {"listed": 2, "removed": 1}
    assert client_for("ward_caseworker").get(f"{API}/evacuation-entries/{listed.suzuki.id}").json()["status"] == \
        "removed"
    added = post(keeper, "/evacuation-entries", {"resident": world.suzuki.id, "sex": "female", "reason": "本人の申出"})
    assert added.status_code == 201 and added.json()["source"] == "manual" and added.json()["sex"] == "female"
    again = post(keeper, "/evacuation-entries", {"resident": world.suzuki.id, "sex": "female", "reason": "本人の申出"})
    assert again.status_code == 409 and again.json()["code"] == "evacuation_entry_exists"


def test_outcomes_upload_offline_once_each_and_progress_is_counts_by_district(listed, client_for, world):
    event = declare(listed)
    phone = client_for("commissioner_a")
    observed = (timezone.now() - datetime.timedelta(minutes=5)).isoformat()
    items = [
        {"resident": world.tanaka.id, "client_id": str(uuid.uuid4()), "outcome": "evacuated",
         "evacuated_to": "登戸小学校", "observed_at": observed},
        {"resident": listed.yamada.resident_id, "client_id": str(uuid.uuid4()), "outcome": "not_reached",
         "observed_at": observed},
        {"resident": world.suzuki.id, "client_id": str(uuid.uuid4()), "outcome": "safe_at_home",
         "observed_at": observed},  # district B: not commissioner A's
        {"resident": world.tanaka.id, "client_id": str(uuid.uuid4()), "outcome": "evacuated",
         "observed_at": observed},  # where to?
    ]
    body = post(phone, f"/disaster-events/{event.id}/safety-checks", {"items": items}).json()
    assert [r["status"] for r in body["results"]] == [201, 201, 404, 400]
    assert body["results"][3]["problem"]["code"] == "evacuated_to_required"
    retried = post(phone, f"/disaster-events/{event.id}/safety-checks", {"items": items[:2]}).json()
    assert [r["status"] for r in retried["results"]] == [200, 200]  # a retry stores nothing twice
    assert SafetyCheckReport.objects.filter(event=event).count() == 2
    checks = Task.objects.filter(disaster_event=event, kind=TaskKind.DISASTER_CHECK)
    assert checks.get(resident=world.tanaka).status == "completed"
    assert checks.get(resident_id=listed.yamada.resident_id).status == "open"  # not reached: still escalating

    progress = client_for("ward_supervisor").get(f"{API}/disaster-events/{event.id}/progress").json()
    by_code = {d["district_code"]: d for d in progress["districts"]}
    assert by_code["A"]["total"] == 2 and by_code["A"]["open"] == 1
    assert by_code["A"]["outcomes"]["evacuated"] == 1 and by_code["A"]["outcomes"]["not_reached"] == 1
    assert by_code["B"] == {**by_code["B"], "total": 1, "open": 1}
    assert "name_kanji" not in json.dumps(progress) and "田中" not in json.dumps(progress, ensure_ascii=False)
    assert client_for("npo_worker").get(f"{API}/disaster-events/{event.id}/progress").status_code == 200
    for persona in ("care_worker", "partner", "care_outsider"):
        assert client_for(persona).get(f"{API}/disaster-events/{event.id}/progress").status_code in (404, 403)


def test_a_resident_not_reached_escalates_within_hours(listed, world):
    event = declare(listed)
    check = Task.objects.get(disaster_event=event, resident_id=listed.yamada.resident_id)
    fixture_update(Task.objects.filter(pk=check.pk), next_escalation_at=timezone.now() - datetime.timedelta(seconds=1))
    escalations_fire_due()
    check.refresh_from_db()
    # The council has no supervisor (chair) in this world: that step reaches nobody, so the ward section's
    # fires at once instead of two hours later.
    fired = {e.target: e.recipients for e in check.escalations.all()}
    assert fired["assignee_supervisors"] == 0 and fired["ward_section"] > 0 and check.escalation_level == 2


def test_the_printable_pdf_is_japanese_marked_with_the_event_and_its_time(listed, client_for, world):
    event = declare(listed)
    response = client_for("npo_worker").get(f"{API}/disaster-events/{event.id}/export/pdf",
                                            {"district": world.district_a.id})
    assert response.status_code == 200 and response["Content-Type"] == "application/pdf"
    reader = PdfReader(io.BytesIO(response.content))
    text = "".join(page.extract_text() for page in reader.pages)
    assert f"避難行動要支援者名簿 災害イベント{event.id}（地震）" in text
    assert "田中 一郎" in text and "山田 太郎" in text and "鈴木 花子" not in text  # district A only
    assert timezone.localtime(event.starts_at).strftime("%Y-%m-%d %H:%M") in text
    fonts = {str(font.get("/BaseFont")) for page in reader.pages
             for font in page["/Resources"]["/Font"].get_object().values()}
    assert all("IPAexGothic" in name for name in fonts)
    exported = AccessLogEntry.objects.filter(kind="evacuation_export", action="export")  # one row per resident
    assert set(exported.values_list("resident_id", flat=True)) == {world.tanaka.id, listed.yamada.resident_id}
    print(f"\nprintable list, district A (2 residents): {len(response.content):,} bytes")


def test_the_csv_lists_only_what_the_reader_may_see_and_commissioners_take_no_bulk_export(listed, client_for):
    event = declare(listed)
    rows = client_for("npo_worker").get(f"{API}/disaster-events/{event.id}/export/csv").content.decode("utf-8-sig")
    lines = rows.splitlines()
    assert lines[0].startswith(f"避難行動要支援者名簿 災害イベント{event.id}") and "地区,氏名,ふりがな" in lines[3]
    assert len(lines) == 4 + 3
    refused = client_for("commissioner_a").get(f"{API}/disaster-events/{event.id}/export/csv")
    assert refused.status_code == 403 and refused.json()["code"] == "bulk_export_not_permitted"
    assert client_for("care_worker").get(f"{API}/disaster-events/{event.id}/export/csv").status_code == 404
    bad = client_for("npo_worker").get(f"{API}/disaster-events/{event.id}/export/csv", {"district": "x"})
    assert bad.status_code == 400
