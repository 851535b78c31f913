"""Session login for the docs and the browsable API: Argon2 hashes, throttled per account."""

from __future__ import annotations

import os

import pytest
from django.contrib.auth.hashers import Argon2PasswordHasher
from django.core.cache import cache
from django.test import Client
from django.utils.module_loading import import_string

from api.views.auth import ADDRESS_FACTOR, _limits
from backend.settings import base

pytestmark = pytest.mark.django_db

PASSWORD = "correct horse battery staple"  # tests.factories.UserFactory


@pytest.fixture(autouse=True)
def empty_cache():
    cache.clear()
    yield
    cache.clear()


def login(client: Client, username: str, password: str, **extra):
    return client.post("/api/auth/login/", {"username": username, "password": password}, **extra)


def logged_in(client: Client) -> bool:
    return "_auth_user_id" in client.session


def test_session_login_serves_the_docs(world):
    client = Client()

    response = login(client, "care_worker", PASSWORD)

    assert response.status_code == 302, response.content
    assert response["Location"] == "/api/docs/"
    assert logged_in(client)
    docs = client.get("/api/docs/")
    assert docs.status_code == 200
    assert b"swagger" in docs.content.lower()


def test_docs_redirect_to_login_without_a_session(world):
    response = Client().get("/api/docs/")

    assert response.status_code == 302
    assert response["Location"].startswith("/api/auth/login/?next=/api/docs/")


def test_login_page_renders(world):
    response = Client().get("/api/auth/login/")

    assert response.status_code == 200
    assert b'name="password"' in response.content


def test_wrong_password_does_not_log_in(world):
    client = Client()

    response = login(client, "care_worker", "wrong password 123")

    assert response.status_code == 200
    assert not logged_in(client)


def test_failed_attempts_throttle_the_account_even_with_the_right_password(world, settings):
    settings.LOGIN_THROTTLE_FAILURES = 3
    client = Client()
    for _ in range(settings.LOGIN_THROTTLE_FAILURES):
        assert login(client, "care_worker", "wrong password 123").status_code == 200

    response = login(client, "care_worker", PASSWORD)

    assert response.status_code == 200
    assert not logged_in(client)
    assert "throttled" in [e.code for e in response.context["form"].non_field_errors().as_data()]
    # Per account: another address does not get through either.
    other_address = Client(REMOTE_ADDR="192.0.2.10")
    assert login(other_address, "care_worker", PASSWORD).status_code == 200
    assert not logged_in(other_address)


def test_throttle_counts_only_up_to_the_limit_before_refusing(world, settings):
    settings.LOGIN_THROTTLE_FAILURES = 3
    client = Client()
    for _ in range(settings.LOGIN_THROTTLE_FAILURES - 1):
        login(client, "care_worker", "wrong password 123")

    assert login(client, "care_worker", PASSWORD).status_code == 302
    assert logged_in(client)


def test_throttle_of_one_account_leaves_others_alone(world, settings):
    settings.LOGIN_THROTTLE_FAILURES = 3
    for _ in range(settings.LOGIN_THROTTLE_FAILURES):
        login(Client(), "care_worker", "wrong password 123")

    # From another address (the per-address counter is separate), another account still logs in.
    client = Client(REMOTE_ADDR="192.0.2.20")
    assert login(client, "care_supervisor", PASSWORD).status_code == 302
    assert logged_in(client)


def test_the_failure_counter_lives_in_the_cache(world, settings):
    settings.LOGIN_THROTTLE_FAILURES = 3
    client = Client()
    for _ in range(settings.LOGIN_THROTTLE_FAILURES):
        login(client, "care_worker", "wrong password 123")

    class FakeRequest:
        META = {"REMOTE_ADDR": "127.0.0.1"}

    (account_key, account_limit), (address_key, address_limit) = _limits(FakeRequest(), "care_worker")
    assert (account_limit, address_limit) == (3, 3 * ADDRESS_FACTOR)
    assert cache.get(account_key) == settings.LOGIN_THROTTLE_FAILURES
    assert cache.get(address_key) == settings.LOGIN_THROTTLE_FAILURES
    backend = settings.CACHES["default"]["BACKEND"]
    if os.environ.get("REDIS_URL"):
        assert backend == "django.core.cache.backends.redis.RedisCache"
    else:
        assert backend == "django.core.cache.backends.locmem.LocMemCache"

    cache.clear()
    assert login(client, "care_worker", PASSWORD).status_code == 302


def test_username_case_and_spaces_share_one_counter(world, settings):
    settings.LOGIN_THROTTLE_FAILURES = 2
    login(Client(REMOTE_ADDR="192.0.2.31"), "care_worker", "wrong password 123")
    login(Client(REMOTE_ADDR="192.0.2.32"), " CARE_WORKER ", "wrong password 123")

    client = Client(REMOTE_ADDR="192.0.2.33")
    assert login(client, "care_worker", PASSWORD).status_code == 200
    assert not logged_in(client)


def test_base_settings_hash_passwords_with_argon2():
    assert "Argon2" in base.PASSWORD_HASHERS[0]
    hasher = import_string(base.PASSWORD_HASHERS[0])()
    assert isinstance(hasher, Argon2PasswordHasher)
    encoded = hasher.encode(PASSWORD, hasher.salt())
    assert encoded.startswith("argon2$argon2id$")
    assert hasher.verify(PASSWORD, encoded)
    assert not hasher.verify("wrong password 123", encoded)
