"""Personal API tokens: shown once, stored as a SHA-256 hash, revocable, expiring."""

from __future__ import annotations

import datetime
import hashlib
import re

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from rest_framework.test import APIClient

from api.models import ApiToken, IdempotencyRecord
from api.tokens import token_issue

pytestmark = pytest.mark.django_db


def bearer(plaintext: str) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {plaintext}")
    return client


def secret_of(plaintext: str) -> str:
    """The part after ``mmr_<key_id>_`` (the secret itself may contain ``_``)."""
    match = re.fullmatch(r"mmr_[A-Za-z0-9]{12}_([A-Za-z0-9_-]{43})", plaintext)
    assert match, plaintext
    return match.group(1)


def assert_unauthorized(response) -> None:
    assert response.status_code == 401, response.content
    assert response["Content-Type"] == "application/problem+json"
    assert response["WWW-Authenticate"].startswith("Bearer")
    assert response.json()["code"] in {"authentication_failed", "not_authenticated"}


def row_values(token: ApiToken) -> str:
    """Every stored column of the token's row, as the database returns it."""
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT * FROM {ApiToken._meta.db_table} WHERE id = %s", [token.pk])
        return " ".join(str(value) for value in cursor.fetchone())


def test_created_token_is_shown_once_and_stored_only_as_a_hash(client_for, world):
    response = client_for("care_worker").post("/api/v1/me/tokens", {"name": "my phone"}, format="json")

    assert response.status_code == 201, response.content
    body = response.json()
    plaintext = body["token"]
    assert plaintext.startswith("mmr_")
    token = ApiToken.objects.get(pk=body["id"])
    assert token.user == world.users["care_worker"]
    assert token.name == "my phone"
    secret = secret_of(plaintext)
    assert token.secret_hash == hashlib.sha256(secret.encode()).hexdigest()
    stored = row_values(token)
    assert plaintext not in stored
    assert secret not in stored


def test_created_token_expires_after_the_configured_days(client_for, settings):
    before = timezone.now()
    response = client_for("care_worker").post("/api/v1/me/tokens", {"name": "laptop"}, format="json")

    expires_at = ApiToken.objects.get(pk=response.json()["id"]).expires_at
    expected = before + datetime.timedelta(days=settings.API_TOKEN_TTL_DAYS)
    assert abs(expires_at - expected) < datetime.timedelta(minutes=1)


def test_created_token_authenticates(client_for, world):
    plaintext = client_for("care_worker").post("/api/v1/me/tokens", {"name": "phone"}, format="json").json()["token"]

    response = bearer(plaintext).get("/api/v1/me")

    assert response.status_code == 200, response.content
    assert response.json()["username"] == "care_worker"


def test_list_never_shows_the_plaintext(client_for):
    client = client_for("care_worker")
    plaintext = client.post("/api/v1/me/tokens", {"name": "phone"}, format="json").json()["token"]

    response = client.get("/api/v1/me/tokens")

    assert response.status_code == 200, response.content
    results = response.json()["results"]
    assert "phone" in [t["name"] for t in results]
    assert all("token" not in t and "secret_hash" not in t for t in results)
    assert plaintext.encode() not in response.content
    assert secret_of(plaintext).encode() not in response.content


def test_list_shows_only_my_own_tokens(client_for, world):
    token_issue(user=world.users["care_outsider"], name="someone else's")

    response = client_for("care_worker").get("/api/v1/me/tokens")

    assert response.status_code == 200
    assert "someone else's" not in [t["name"] for t in response.json()["results"]]


def test_idempotent_token_creation_keeps_no_plaintext(client_for):
    client = client_for("care_worker", HTTP_IDEMPOTENCY_KEY="token-create-1")

    first = client.post("/api/v1/me/tokens", {"name": "phone"}, format="json")
    replay = client.post("/api/v1/me/tokens", {"name": "phone"}, format="json")

    assert first.status_code == 201, first.content
    plaintext = first.json()["token"]
    assert replay.status_code == 201
    assert replay["Idempotent-Replayed"] == "true"
    assert replay.json()["id"] == first.json()["id"]
    assert "token" not in replay.json()
    assert plaintext.encode() not in replay.content
    stored = [str(r.__dict__) for r in IdempotencyRecord.objects.all()]
    assert stored and all(secret_of(plaintext) not in record for record in stored)
    assert ApiToken.objects.filter(name="phone").count() == 1


def test_revoked_token_is_refused(client_for, world):
    client = client_for("care_worker")
    body = client.post("/api/v1/me/tokens", {"name": "phone"}, format="json").json()
    assert bearer(body["token"]).get("/api/v1/me").status_code == 200

    response = client.delete(f"/api/v1/me/tokens/{body['id']}")

    assert response.status_code == 204, response.content
    assert ApiToken.objects.get(pk=body["id"]).revoked_at is not None
    assert_unauthorized(bearer(body["token"]).get("/api/v1/me"))


def test_revoking_twice_keeps_the_first_revocation_time(client_for):
    client = client_for("care_worker")
    token_id = client.post("/api/v1/me/tokens", {"name": "phone"}, format="json").json()["id"]
    client.delete(f"/api/v1/me/tokens/{token_id}")
    first = ApiToken.objects.get(pk=token_id).revoked_at

    assert client.delete(f"/api/v1/me/tokens/{token_id}").status_code == 204
    assert ApiToken.objects.get(pk=token_id).revoked_at == first


def test_a_user_cannot_revoke_another_users_token(client_for, world):
    token, plaintext = token_issue(user=world.users["care_outsider"], name="theirs")

    response = client_for("care_worker").delete(f"/api/v1/me/tokens/{token.pk}")

    assert response.status_code == 404, response.content
    assert response.json()["code"] == "not_found"
    token.refresh_from_db()
    assert token.revoked_at is None
    assert bearer(plaintext).get("/api/v1/me").status_code == 200


def test_expired_token_is_refused(world):
    token, plaintext = token_issue(user=world.users["care_worker"], name="old")
    ApiToken.objects.filter(pk=token.pk).update(expires_at=timezone.now() - datetime.timedelta(seconds=1))

    assert_unauthorized(bearer(plaintext).get("/api/v1/me"))


@pytest.mark.parametrize(
    "header",
    [
        "Bearer not-a-token",
        "Bearer mmr_",
        "Bearer mmr_short_secret",
        "Bearer mmr_abcdefabcdef_" + "x" * 42,  # one character short
        "Bearer mmr_abcdefabcdef_" + "x" * 43 + " extra",  # three parts
        "Bearer",  # no credentials
        "Bearer mmr_abcdefabcdef_" + "\u00e9" * 43,  # not ASCII
    ],
)
def test_malformed_token_is_refused(world, header):
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=header)

    assert_unauthorized(client.get("/api/v1/me"))


def test_unknown_token_is_refused(world):
    token, plaintext = token_issue(user=world.users["care_worker"], name="real")
    unknown = "mmr_" + "0" * 12 + "_" + secret_of(plaintext)
    assert unknown != plaintext

    assert_unauthorized(bearer(unknown).get("/api/v1/me"))


def test_wrong_secret_is_refused(world):
    token, plaintext = token_issue(user=world.users["care_worker"], name="real")
    secret = secret_of(plaintext)
    wrong = plaintext[: -len(secret)] + ("A" if secret[0] != "A" else "B") + secret[1:]

    assert_unauthorized(bearer(wrong).get("/api/v1/me"))
    assert bearer(plaintext).get("/api/v1/me").status_code == 200


def test_token_of_a_deactivated_user_is_refused(world):
    user = world.users["care_worker"]
    token, plaintext = token_issue(user=user, name="phone")
    assert bearer(plaintext).get("/api/v1/me").status_code == 200
    user.is_active = False
    user.save(update_fields=["is_active"])

    assert_unauthorized(bearer(plaintext).get("/api/v1/me"))


def test_no_credentials_is_401_with_bearer_challenge(world):
    assert_unauthorized(APIClient().get("/api/v1/residents"))


def _token_updates(queries) -> list[str]:
    table = ApiToken._meta.db_table
    return [q["sql"] for q in queries if q["sql"].startswith("UPDATE") and table in q["sql"]]


def test_last_used_at_is_recorded_but_not_on_every_request(world):
    token, plaintext = token_issue(user=world.users["care_worker"], name="phone")
    client = bearer(plaintext)
    assert token.last_used_at is None

    before = timezone.now()
    client.get("/api/v1/me")
    token.refresh_from_db()
    first_use = token.last_used_at
    assert first_use is not None and first_use >= before

    with CaptureQueriesContext(connection) as queries:
        for _ in range(3):
            assert client.get("/api/v1/me").status_code == 200
    assert _token_updates(queries.captured_queries) == []
    token.refresh_from_db()
    assert token.last_used_at == first_use

    stale = timezone.now() - datetime.timedelta(hours=1)
    ApiToken.objects.filter(pk=token.pk).update(last_used_at=stale)
    client.get("/api/v1/me")
    token.refresh_from_db()
    assert token.last_used_at > stale + datetime.timedelta(minutes=59)
