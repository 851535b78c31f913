"""Personal API tokens: shown once, stored as a SHA-256 hash, revocable, expiring."""

from __future__ import annotations

import datetime
import hashlib
import re

import pytest
import yaml
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from rest_framework.test import APIClient

from api.models import ApiToken, IdempotencyRecord
from api.tokens import token_issue
from backend.settings import base as settings_module
from cases.errors import RuleViolation
from cases.models import Membership
from tests.api.test_persona_matrix import API_PATTERNS

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


# --- The operator's lifetime is the longest ------------------------------------------------------

def test_a_client_may_ask_for_a_shorter_lifetime(client_for):
    before = timezone.now()
    response = client_for("care_worker").post("/api/v1/me/tokens", {"name": "short", "ttl_days": 7}, format="json")

    assert response.status_code == 201, response.content
    expires_at = ApiToken.objects.get(pk=response.json()["id"]).expires_at
    assert abs(expires_at - (before + datetime.timedelta(days=7))) < datetime.timedelta(minutes=1)


@pytest.mark.parametrize(("limit", "asked"), [(90, 365), (90, 91), (30, 31)])
def test_a_longer_lifetime_than_the_operators_is_refused_naming_the_limit(client_for, settings, limit, asked):
    settings.API_TOKEN_TTL_DAYS = limit
    client = client_for("care_worker", HTTP_ACCEPT_LANGUAGE="en")

    response = client.post("/api/v1/me/tokens", {"name": "long", "ttl_days": asked}, format="json")

    assert response.status_code == 400, response.content
    body = response.json()
    assert body["code"] == "validation_error"
    [error] = body["errors"]
    assert error["field"] == "ttl_days"
    assert error["message"] == f"Ensure this value is less than or equal to {limit}."
    assert not ApiToken.objects.filter(name="long").exists()


def test_the_service_refuses_a_longer_lifetime_too(world, settings):
    settings.API_TOKEN_TTL_DAYS = 30

    with pytest.raises(RuleViolation) as refused:
        token_issue(user=world.users["care_worker"], name="script", ttl_days=31)

    assert (refused.value.code, refused.value.field) == ("token_lifetime_too_long", "ttl_days")
    assert not ApiToken.objects.filter(name="script").exists()


def test_the_schema_states_the_limit():
    schema = yaml.safe_load((settings_module.BASE_DIR / "docs" / "openapi.yaml").read_text())
    ttl = schema["components"]["schemas"]["ApiTokenCreateRequest"]["properties"]["ttl_days"]

    assert (ttl["minimum"], ttl["maximum"]) == (1, settings_module.API_TOKEN_TTL_DAYS)
    assert "never shortened" in ttl["description"]


# --- Without an active membership a token answers /me only ---------------------------------------

def test_a_token_of_an_ended_membership_answers_who_am_i_with_no_memberships(world):
    _, plaintext = token_issue(user=world.users["expired_commissioner"], name="old phone")

    response = bearer(plaintext).get("/api/v1/me")

    assert response.status_code == 200, response.content
    assert response.json()["username"] == "expired_commissioner"
    assert response.json()["memberships"] == []


@pytest.mark.parametrize(
    ("method", "path"),
    [("get", "/api/v1/me/tokens"), ("post", "/api/v1/me/tokens"), ("delete", "/api/v1/me/tokens/{own}")],
)
def test_a_token_of_an_ended_membership_cannot_manage_tokens(world, method, path):
    own, plaintext = token_issue(user=world.users["expired_commissioner"], name="old phone")

    response = getattr(bearer(plaintext), method)(path.format(own=own.pk), {"name": "new phone"}, format="json")

    assert (response.status_code, response.json()["code"]) == (403, "no_active_membership"), response.content
    assert list(ApiToken.objects.filter(user=world.users["expired_commissioner"]).values_list("name", "revoked_at")) \
        == [("old phone", None)]


def test_a_membership_that_ends_stops_its_tokens_at_the_next_request(world):
    user = world.users["care_worker"]
    _, plaintext = token_issue(user=user, name="phone")
    client = bearer(plaintext)
    assert client.get("/api/v1/residents").status_code == 200
    assert client.get("/api/v1/me/tokens").status_code == 200

    Membership.objects.filter(user=user).update(valid_until=timezone.now() - datetime.timedelta(seconds=1))

    for path in ("/api/v1/residents", "/api/v1/me/tokens"):
        response = client.get(path)
        assert (response.status_code, response.json()["code"]) == (403, "no_active_membership"), path
    assert client.get("/api/v1/me").status_code == 200


def test_a_reappointed_commissioners_token_works_again(world):
    user = world.users["expired_commissioner"]
    _, plaintext = token_issue(user=user, name="phone")
    client = bearer(plaintext)
    assert client.get("/api/v1/residents").status_code == 403
    ended = Membership.objects.get(user=user)

    Membership.objects.create(user=user, organization=ended.organization, role=ended.role,
                              valid_from=timezone.now() - datetime.timedelta(minutes=1))

    assert client.get("/api/v1/residents").status_code == 200


@pytest.mark.parametrize("path", sorted({path for path, _ in API_PATTERNS if path != "/api/v1/me"}))
def test_every_route_but_me_refuses_a_token_without_an_active_membership(world, path):
    """Generated from the URLconf: a route added outside the membership gate fails here."""
    _, plaintext = token_issue(user=world.users["expired_commissioner"], name="old phone")
    client = bearer(plaintext)

    for method in ("GET", "HEAD", "OPTIONS", "POST", "PUT", "PATCH", "DELETE"):
        response = client.generic(method, path, b"{}", content_type="application/json")
        assert response.status_code == 403, f"{method} {path} answered {response.status_code}"
        if method != "HEAD":
            assert response.json()["code"] == "no_active_membership", f"{method} {path}"


def test_a_session_of_an_ended_membership_answers_me_only_too(world):
    client = Client()
    login = client.post("/api/auth/login/", {"username": "expired_commissioner",
                                             "password": "correct horse battery staple"})
    assert login.status_code == 302, login.content[:300]

    assert client.get("/api/v1/me").status_code == 200
    for path in ("/api/v1/me/tokens", "/api/v1/residents"):
        response = client.get(path)
        assert (response.status_code, response.json()["code"]) == (403, "no_active_membership"), path
