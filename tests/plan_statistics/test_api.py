"""The statistics routes: who reads which areas, who releases, frozen releases, CSV, charts, the report, the log."""

from __future__ import annotations

import json
import re
import xml.etree.ElementTree as ElementTree

import pytest

from audit.models import AccessLogEntry
from cases.models import CouncilArea, Visit
from cases.models.audited import seed_create
from cases.models.choices import Role
from plan_statistics.models import PublishedTable, Release
from plan_statistics.services import release_publish
from tests.factories import MembershipFactory, UserFactory
from tests.helpers import PERSONAS

API = "/api/v1/statistics/releases"
READERS = {"ward_caseworker", "ward_supervisor", "privacy_officer"}


@pytest.fixture
def released(stats_world):
    ward_id = stats_world.district_a.council_area.ward_id
    for period in ("2024-04", "2024-05"):
        release, _ = release_publish(actor=stats_world.users["ward_supervisor"], ward_id=ward_id, period=period)
    return release


def _routes(release) -> list[str]:
    base = f"{API}/{release.id}"
    return [API, base, f"{base}/tables/visits", f"{base}/tables/visits/csv", f"{base}/charts/trend", f"{base}/report"]


@pytest.mark.parametrize("persona", PERSONAS)
def test_who_reads(persona, released, client_for):
    client = client_for(persona)
    answers = [client.get(path).status_code for path in _routes(released)]
    if persona == "expired_commissioner":
        assert answers == [403] * 6
    elif persona in READERS:
        assert answers == [200] * 6
    else:
        assert answers == [200, 404, 404, 404, 404, 404]
        assert client.get(API).json()["results"] == []


def test_a_council_chair_reads_its_council_areas_only(released, stats_world, client_for):
    chair = UserFactory(username="council_chair")
    MembershipFactory(user=chair, organization=stats_world.council, role=Role.SUPERVISOR)
    stats_world.users["council_chair"] = chair
    body = client_for("council_chair").get(f"{API}/{released.id}/tables/watched_residents").json()
    own = stats_world.district_a.council_area_id
    assert {a["level"] for a in body["areas"]} <= {"council", "district"}
    assert body["areas"] and {a["council_area_id"] for a in body["areas"]} == {own}
    assert CouncilArea.objects.exclude(pk=own).exists()


def test_release_is_frozen_and_idempotent(stats_world, client_for):
    ward_id = stats_world.district_a.council_area.ward_id
    client = client_for("ward_supervisor", HTTP_IDEMPOTENCY_KEY="stats-release-1")
    first = client.post(API, {"ward_id": ward_id, "period": "2024-06"}, format="json")
    assert first.status_code == 201, first.content
    replay = client.post(API, {"ward_id": ward_id, "period": "2024-06"}, format="json")
    assert replay.status_code == 201 and replay["Idempotent-Replayed"] == "true"
    visits_before = next(t for t in first.json()["tables"] if t["table"] == "visits")
    # A late upload dated in June does not change June's released figures.
    seed_create(Visit, [Visit(case=v.case, recorded_by=v.recorded_by, organization=v.organization,
                                     client_id=f"00000000-0000-0000-0000-{i:012d}", occurred_at=v.occurred_at,
                                     channel=v.channel, outcome=v.outcome) for i, v in enumerate(
        Visit.objects.filter(occurred_at__month=6)[:30])])
    again = client_for("ward_supervisor", HTTP_IDEMPOTENCY_KEY="stats-release-2").post(
        API, {"ward_id": ward_id, "period": "2024-06"}, format="json")
    assert again.status_code == 200 and again.json()["id"] == first.json()["id"]
    assert next(t for t in again.json()["tables"] if t["table"] == "visits") == visits_before
    assert Release.objects.count() == 1 and PublishedTable.objects.count() == 9


@pytest.mark.parametrize("period,code", [("2024-13", "statistics_period_invalid"),
                                         ("FY24", "statistics_period_invalid"),
                                         ("FY2099", "statistics_period_not_ended")])
def test_a_bad_period_is_400(period, code, stats_world, client_for):
    response = client_for("ward_supervisor").post(
        API, {"ward_id": stats_world.district_a.council_area.ward_id, "period": period}, format="json")
    assert (response.status_code, response.json()["code"]) == (400, code)
    assert response["Content-Type"].startswith("application/problem+json")


def test_an_unknown_ward_or_table_is_404(released, client_for):
    client = client_for("ward_supervisor")
    assert client.post(API, {"ward_id": 987654321, "period": "2024-04"}, format="json").status_code == 404
    assert client.get(f"{API}/{released.id}/tables/nonsense").status_code == 404
    assert client.get(f"{API}/{released.id}/charts/nonsense").status_code == 404


def test_every_read_is_logged(released, stats_world, client_for):
    user = stats_world.users["privacy_officer"]
    client_for("privacy_officer").get(f"{API}/{released.id}/tables/visits/csv")
    entry = AccessLogEntry.objects.filter(user_id=user.id, kind="statistics_release").get()
    assert entry.object_ids == [released.id] and entry.resident_id is None
    assert entry.bases == [f"statistics:{released.id}"] and entry.route.startswith("GET ")


def test_withheld_figures_read_x_and_are_never_served(released, client_for):
    body = client_for("ward_supervisor").get(f"{API}/{released.id}").json()
    text = json.dumps(body)
    assert "withheld" not in text
    cells = [v for t in body["tables"] if t["personal"] for a in t["areas"] if a["published"]
             for row in a["cells"] for v in row]
    k = body["parameters"]["k"]
    assert None in cells and all(v is None or v == 0 or v >= k for v in cells)
    csv_text = client_for("ward_supervisor").get(f"{API}/{released.id}/tables/safety_check_acknowledgement/csv")
    assert csv_text["Content-Type"].startswith("text/csv")
    lines = csv_text.content.decode().splitlines()
    assert lines[0].startswith("area_level,area_id,area,row,件数")
    assert any(line.split(",")[4:].count("x") for line in lines[1:]), "nothing withheld: the test proves nothing"


def _svg_text(svg: bytes) -> list[str]:
    root = ElementTree.fromstring(svg)
    return ["".join(node.itertext()) for node in root.iter() if node.tag.endswith("text")]


@pytest.mark.parametrize("chart,labels", [
    ("trend", ["月別の推移", "訪問・連絡", "安否確認", "4月", "3月", "件数"]),
    ("referral_flow", ["つなぎの流れ", "依頼元", "依頼先", "地域包括支援センター", "区役所"]),
    ("acknowledgement", ["安否確認の受付までの時間", "15分以内", "24時間超", "未確認"]),
])
def test_charts_carry_japanese_labels(chart, labels, released, client_for):
    response = client_for("ward_supervisor").get(f"{API}/{released.id}/charts/{chart}")
    assert response["Content-Type"].startswith("image/svg+xml")
    texts = _svg_text(response.content)
    for label in labels:
        assert any(label in text for text in texts), (label, texts[:40])
    # Figures on the chart are published ones: withheld cells show as x, never their value.
    if chart == "acknowledgement":
        body = client_for("ward_supervisor").get(f"{API}/{released.id}/tables/safety_check_acknowledgement").json()
        ward = next(a for a in body["areas"] if a["level"] == "ward")
        shown = [str(row[0]) if row[0] is not None else "x" for row in ward["cells"]]
        assert [t for t in texts if re.fullmatch(r"x|[0-9]+", t)][-len(shown):] == shown


def test_the_report_bundles_tables_and_charts(released, client_for):
    response = client_for("privacy_officer").get(f"{API}/{released.id}/report")
    assert response["Content-Type"].startswith("text/html")
    page = response.content.decode()
    assert page.count("<svg") == 3 and "見守り対象者数" in page and "つなぎの件数" in page and "充足率" in page
