"""Idempotency-Key on POST: a retried request is answered from the store, never duplicated."""

from __future__ import annotations

import datetime
import threading

import pytest
from django.db import connections
from django.utils import timezone
from rest_framework.test import APIClient

from api.models import IdempotencyRecord
from api.tasks import idempotency_records_purge
from cases import services
from cases.models import Resident


def resident_body(world, **overrides) -> dict:
    return {
        "name_kanji": "山田 太郎",
        "name_kana": "ヤマダ タロウ",
        "date_of_birth": "1940-04-01",
        "postal_code": "214-0014",
        "town": "登戸",
        "chome": 1,
        "block_number": "2-15",
        "district": world.district_a.id,
        "household_type": "lives_alone",
        **overrides,
    }


def post(client: APIClient, body: dict, key: str | None = None):
    headers = {"HTTP_IDEMPOTENCY_KEY": key} if key is not None else {}
    return client.post("/api/v1/residents", body, format="json", **headers)


def yamadas() -> int:
    return Resident.objects.filter(name_kana_key="ヤマダタロウ").count()


@pytest.mark.django_db
def test_without_a_key_every_post_creates(client_for, world):
    client = client_for("commissioner_a")

    assert post(client, resident_body(world)).status_code == 201
    assert post(client, resident_body(world)).status_code == 201
    assert yamadas() == 2


@pytest.mark.django_db
def test_one_key_sent_a_hundred_times_creates_one_resident(client_for, world):
    client = client_for("commissioner_a")
    body = resident_body(world)

    responses = [post(client, body, key="visit-2024-05-01-0001") for _ in range(100)]

    assert yamadas() == 1
    first = responses[0]
    assert first.status_code == 201, first.content
    assert not first.has_header("Idempotent-Replayed")
    resident = Resident.objects.get(name_kana_key="ヤマダタロウ")
    assert first.json()["id"] == resident.id
    assert first["Location"] == f"/api/v1/residents/{resident.id}"
    for replay in responses[1:]:
        assert replay.status_code == 201
        assert replay["Idempotent-Replayed"] == "true"
        assert replay.json() == first.json()
        assert replay["Location"] == first["Location"]
        assert replay["ETag"] == first["ETag"]
    assert IdempotencyRecord.objects.filter(user=world.users["commissioner_a"]).count() == 1


@pytest.mark.django_db
def test_same_key_with_another_body_is_409(client_for, world):
    client = client_for("commissioner_a")
    assert post(client, resident_body(world), key="key-0001").status_code == 201

    response = post(client, resident_body(world, name_kanji="山田 次郎", name_kana="ヤマダ ジロウ"), key="key-0001")

    assert response.status_code == 409, response.content
    assert response["Content-Type"] == "application/problem+json"
    assert response.json()["code"] == "idempotency_key_reused"
    assert not Resident.objects.filter(name_kana_key="ヤマダジロウ").exists()


@pytest.mark.django_db
def test_same_key_on_another_path_is_409(client_for, world):
    client = client_for("commissioner_a")
    assert post(client, resident_body(world), key="key-0002").status_code == 201

    response = client.post("/api/v1/me/tokens", {"name": "phone"}, format="json", HTTP_IDEMPOTENCY_KEY="key-0002")

    assert response.status_code == 409, response.content
    assert response.json()["code"] == "idempotency_key_reused"


@pytest.mark.django_db
def test_same_key_from_another_user_is_independent(client_for, world):
    body = resident_body(world)
    mine = post(client_for("commissioner_a"), body, key="shared-key-1")

    theirs = post(client_for("care_worker"), body, key="shared-key-1")

    assert mine.status_code == 201 and theirs.status_code == 201, theirs.content
    assert not theirs.has_header("Idempotent-Replayed")
    assert theirs.json()["id"] != mine.json()["id"]
    assert yamadas() == 2


@pytest.mark.django_db
def test_a_failed_request_is_not_stored(client_for, world):
    client = client_for("commissioner_a")

    failed = post(client, resident_body(world, postal_code="not a code"), key="retry-me-1")
    corrected = post(client, resident_body(world), key="retry-me-1")

    assert failed.status_code == 400, failed.content
    assert corrected.status_code == 201, corrected.content
    assert not corrected.has_header("Idempotent-Replayed")
    assert yamadas() == 1


@pytest.mark.django_db
def test_a_refused_request_is_not_stored(client_for, world):
    client = client_for("commissioner_a")

    refused = post(client, resident_body(world, district=world.district_b.id), key="retry-me-2")
    corrected = post(client, resident_body(world), key="retry-me-2")

    assert refused.status_code == 403, refused.content
    assert refused.json()["code"] == "district_not_assigned"
    assert corrected.status_code == 201, corrected.content
    assert yamadas() == 1


@pytest.mark.django_db
@pytest.mark.parametrize(
    "key",
    ["x" * 256, "キー", "key with spaces", "tab\tkey", ""],
    ids=["too-long", "non-ascii", "spaces", "control", "empty"],
)
def test_invalid_key_is_400(client_for, world, key):
    response = post(client_for("commissioner_a"), resident_body(world), key=key)

    assert response.status_code == 400, response.content
    assert response.json()["code"] == "invalid_header"
    assert yamadas() == 0


@pytest.mark.django_db
def test_longest_valid_key_is_accepted(client_for, world):
    response = post(client_for("commissioner_a"), resident_body(world), key="k" * 255)

    assert response.status_code == 201, response.content


@pytest.mark.services  # concurrent writers need PostgreSQL: SQLite locks the table
@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_two_concurrent_posts_with_one_key_create_one_resident(client_for, world, monkeypatch):
    """Both requests pass the "already stored?" check before either commits; the unique key decides."""
    body = resident_body(world)
    clients = [client_for("commissioner_a") for _ in range(2)]
    both_inside = threading.Barrier(2)
    register = services.resident_register

    def register_together(**kwargs):
        try:
            both_inside.wait(timeout=5)
        except threading.BrokenBarrierError:
            pass  # a serialising implementation lets only one in at a time: that is fine too
        return register(**kwargs)

    monkeypatch.setattr(services, "resident_register", register_together)
    responses: list = [None, None]
    errors: list[BaseException] = []

    def send(index: int) -> None:
        try:
            responses[index] = post(clients[index], body, key="concurrent-key-1")
        except BaseException as exc:  # reported by the main thread
            errors.append(exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=send, args=(i,)) for i in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)

    assert not errors, errors
    assert all(not t.is_alive() for t in threads)
    assert [r.status_code for r in responses] == [201, 201], [r.content for r in responses]
    assert responses[0].json()["id"] == responses[1].json()["id"]
    assert sorted(r.has_header("Idempotent-Replayed") for r in responses) == [False, True]
    assert yamadas() == 1


def test_a_key_is_forgotten_after_a_week_and_kept_until_then(client_for, world):
    """An offline phone retries within days: a week-old key is purged, a younger one stays."""
    client = client_for("commissioner_a")
    assert post(client, resident_body(world), key="old").status_code == 201
    assert post(client, resident_body(world, name_kanji="山田 次郎"), key="young").status_code == 201
    now = timezone.now()
    IdempotencyRecord.objects.filter(key="old").update(created_at=now - datetime.timedelta(days=7, minutes=1))
    IdempotencyRecord.objects.filter(key="young").update(created_at=now - datetime.timedelta(days=6, hours=23))
    assert idempotency_records_purge(now=now) == 1
    assert list(IdempotencyRecord.objects.values_list("key", flat=True)) == ["young"]
