"""Visits from a phone that is often offline and always retrying."""

import datetime
import uuid

import pytest
from django.utils import timezone

from cases.models import Case, Visit
from tests.helpers import fixture_update


def _body(world, **overrides):
    occurred = timezone.now() - datetime.timedelta(minutes=35)
    body = {
        "case": world.tanaka_case.id,
        "client_id": str(uuid.uuid4()),
        "occurred_at": occurred.isoformat(),
        "channel": "home_visit",
        "outcome": "no_answer",
        "warning_signs": ["newspapers_piling", "mail_piling"],
        "note": "新聞が3日分溜まっている。",
    }
    return {**body, **overrides}


def test_the_same_visit_uploaded_100_times_with_one_key_is_stored_once(world, client_for):
    client = client_for("commissioner_a")
    body = _body(world)
    statuses = [
        client.post("/api/v1/visits", body, format="json", HTTP_IDEMPOTENCY_KEY="visit-upload-1").status_code
        for _ in range(100)
    ]
    assert statuses == [201] * 100
    assert Visit.objects.filter(client_id=body["client_id"]).count() == 1


def test_a_retry_without_the_key_is_recognised_by_client_id(world, client_for):
    client = client_for("commissioner_a")
    body = _body(world)
    first = client.post("/api/v1/visits", body, format="json")
    again = client.post("/api/v1/visits", body, format="json")
    assert (first.status_code, again.status_code) == (201, 200)
    assert first.json()["id"] == again.json()["id"]
    assert Visit.objects.count() == 1


def test_the_same_client_id_on_another_case_is_a_conflict(world, client_for):
    client = client_for("care_worker")
    body = _body(world)
    assert client.post("/api/v1/visits", body, format="json").status_code == 201
    other_case = Case.objects.create(
        resident=world.tanaka, concern="別件", lead_organization=world.care_centre
    )
    from permissions.grants import grants_sync_residents

    world.tanaka_case.team_members.model.objects.create(case=other_case, organization=world.care_centre)
    grants_sync_residents(resident_ids=[world.tanaka.id])
    response = client.post("/api/v1/visits", {**body, "case": other_case.id}, format="json")
    assert response.status_code == 409
    assert response.json()["code"] == "visit_client_id_reused"


def test_recording_moves_next_visit_due_by_cadence_and_never_back(world, client_for):
    client = client_for("commissioner_a")
    case = world.tanaka_case
    fixture_update(Case.objects.filter(pk=case.pk), next_visit_due=timezone.localdate(), visit_cadence_days=30)
    occurred = timezone.now() - datetime.timedelta(hours=1)
    client.post("/api/v1/visits", _body(world, occurred_at=occurred.isoformat(), outcome="met"), format="json")
    expected = timezone.localtime(occurred).date() + datetime.timedelta(days=30)
    case.refresh_from_db()
    assert case.next_visit_due == expected
    older = timezone.now() - datetime.timedelta(days=20)
    client.post("/api/v1/visits", _body(world, occurred_at=older.isoformat(), outcome="met"), format="json")
    case.refresh_from_db()
    assert case.next_visit_due == expected


@pytest.mark.parametrize(
    "persona, status",
    [("commissioner_a", 201), ("care_worker", 201), ("commissioner_b", 404), ("care_outsider", 404),
     ("ward_caseworker", 404), ("npo_worker", 404), ("partner", 404), ("privacy_officer", 404)],
)
def test_only_those_who_see_the_case_can_record_on_it(world, client_for, persona, status):
    response = client_for(persona).post("/api/v1/visits", _body(world), format="json")
    assert response.status_code == status
    assert Visit.objects.count() == (1 if status == 201 else 0)


def test_visits_are_listed_only_to_those_who_see_the_case(world, client_for):
    client_for("commissioner_a").post("/api/v1/visits", _body(world), format="json")
    visit = Visit.objects.get()
    for persona, visible in [("commissioner_a", True), ("care_worker", True), ("commissioner_b", False),
                             ("npo_worker", False), ("care_outsider", False)]:
        client = client_for(persona)
        listed = [v["id"] for v in client.get("/api/v1/visits").json()["results"]]
        assert listed == ([visit.id] if visible else []), persona
        assert client.get(f"/api/v1/visits/{visit.id}").status_code == (200 if visible else 404), persona
        filtered = client.get(f"/api/v1/visits?case={world.tanaka_case.id}").json()["results"]
        assert len(filtered) == (1 if visible else 0), persona


def test_future_and_ancient_visits_are_refused(world, client_for):
    client = client_for("commissioner_a")
    future = (timezone.now() + datetime.timedelta(hours=2)).isoformat()
    ancient = (timezone.now() - datetime.timedelta(days=400)).isoformat()
    assert client.post("/api/v1/visits", _body(world, occurred_at=future), format="json").json()["code"] == (
        "visit_in_future"
    )
    assert client.post("/api/v1/visits", _body(world, occurred_at=ancient), format="json").json()["code"] == (
        "visit_too_old"
    )
    assert Visit.objects.count() == 0


def test_a_days_batch_answers_per_item(world, client_for):
    client = client_for("commissioner_a")
    good = _body(world)
    items = [
        good,
        good,  # the same visit twice in one upload
        _body(world, outcome="not-an-outcome"),
        _body(world, case=world.suzuki_case.id),  # not her district
        _body(world, channel="phone", outcome="met", warning_signs=[]),
    ]
    response = client.post("/api/v1/visits/batch", {"items": items}, format="json")
    assert response.status_code == 200
    results = response.json()["results"]
    assert [r["status"] for r in results] == [201, 200, 400, 404, 201]
    assert results[2]["problem"]["code"] == "validation_error"
    assert results[3]["problem"]["code"] == "not_found"
    assert results[0]["visit"]["id"] == results[1]["visit"]["id"]
    assert Visit.objects.count() == 2
    again = client.post("/api/v1/visits/batch", {"items": items}, format="json").json()["results"]
    assert [r["status"] for r in again] == [200, 200, 400, 404, 200]
    assert Visit.objects.count() == 2


@pytest.mark.parametrize("accept_language", ["ja", "en"])
def test_a_batch_items_problem_is_the_single_uploads_problem(world, client_for, accept_language):
    client = client_for("commissioner_a", HTTP_ACCEPT_LANGUAGE=accept_language)
    future = _body(world, occurred_at=(timezone.now() + datetime.timedelta(hours=2)).isoformat())
    bad_field = _body(world, outcome="not-an-outcome")

    single = [client.post("/api/v1/visits", item, format="json").json() for item in (future, bad_field)]
    batch = client.post("/api/v1/visits/batch", {"items": [future, bad_field]}, format="json").json()["results"]

    def same(problem: dict) -> dict:  # what differs is where and when it was asked
        return {key: value for key, value in problem.items() if key not in ("instance", "request_id")}

    assert [same(item["problem"]) for item in batch] == [same(problem) for problem in single]
    assert batch[0]["problem"]["errors"] == [{"field": "occurred_at", "code": "visit_in_future",
                                              "message": single[0]["title"]}]
    assert all(error["message"] for item in batch for error in item["problem"]["errors"])


def test_a_batch_must_have_between_1_and_100_items(world, client_for):
    client = client_for("commissioner_a")
    assert client.post("/api/v1/visits/batch", {"items": []}, format="json").status_code == 400
    many = [_body(world) for _ in range(101)]
    assert client.post("/api/v1/visits/batch", {"items": many}, format="json").status_code == 400
    assert Visit.objects.count() == 0


def test_contact_is_never_scheduled_for_a_do_not_contact_household(world, client_for):
    world.tanaka.do_not_contact = True
    world.tanaka.save()
    client = client_for("care_worker")
    response = client.post("/api/v1/cases", {"resident": world.tanaka.id, "concern": "見守り", "risk_level": "high",
                                             "visit_cadence_days": 14}, format="json", HTTP_ACCEPT_LANGUAGE="en")
    assert response.status_code == 409
    body = response.json()
    assert body["code"] == "do_not_contact"
    assert "neighbours" in body["detail"]  # says what may be done instead
    assert Case.objects.filter(resident=world.tanaka).count() == 1
    etag = client.get(f"/api/v1/cases/{world.tanaka_case.id}")["ETag"]
    response = client.patch(f"/api/v1/cases/{world.tanaka_case.id}", {"visit_cadence_days": 7}, format="json",
                            HTTP_IF_MATCH=etag)
    assert response.status_code == 409
    # Watching without scheduled contact is still possible.
    response = client.post("/api/v1/cases", {"resident": world.tanaka.id, "concern": "近隣から見守り",
                                             "risk_level": "high"}, format="json")
    assert response.status_code == 201
