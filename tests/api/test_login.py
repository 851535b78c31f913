"""Password logins: the admin's and the API's session login share one throttle (django-axes,
backend/login_throttle.py), counted per normalised user name, by address only for names that failed there.
"""

from __future__ import annotations

import datetime

import pytest
import time_machine
from axes.backends import AxesStandaloneBackend
from axes.exceptions import AxesBackendRequestParameterRequired
from axes.models import AccessAttempt
from django.conf import settings as django_settings
from django.contrib.auth import authenticate
from django.contrib.auth.hashers import Argon2PasswordHasher
from django.test import Client
from django.utils import timezone
from django.utils.module_loading import import_string

from backend.login_throttle import client_address
from backend.settings import base
from cases.models import User
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db

PASSWORD = "correct horse battery staple"  # tests.factories.UserFactory
WRONG = "wrong password 123"
API_LOGIN = "/api/auth/login/"
ADMIN_LOGIN = "/admin/login/"
PROXY = "172.18.0.1"  # the reverse proxy's address, as the web container sees it


@pytest.fixture
def sato(db):
    """A ward officer who also uses the admin."""
    return UserFactory(username="sato", is_staff=True)


def login(client: Client, username: str, password: str, path: str = API_LOGIN):
    data = {"username": username, "password": password}
    if path == ADMIN_LOGIN:
        data["next"] = "/admin/"
    return client.post(path, data)


def logged_in_as(client: Client) -> str | None:
    user_id = client.session.get("_auth_user_id")
    return None if user_id is None else User.objects.get(pk=user_id).username


def assert_throttled(response) -> None:
    assert response.status_code == 429, (response.status_code, response.content[:300])
    assert response["Content-Type"] == "application/problem+json"
    assert response.json()["code"] == "login_throttled"
    assert response["Retry-After"] == str(int(django_settings.AXES_COOLOFF_TIME.total_seconds()))


def fail(times: int, username: str, path: str = API_LOGIN, **client_kwargs) -> None:
    """Wrong passwords; the one that reaches the limit is answered as throttled already."""
    client = Client(**client_kwargs)
    for _ in range(times):
        response = login(client, username, WRONG, path)
        assert response.status_code in (200, 429), (response.status_code, response.content[:300])
        assert logged_in_as(client) is None


# --- The session login itself --------------------------------------------------------------------

def test_session_login_serves_the_docs(world):
    client = Client()

    response = login(client, "care_worker", PASSWORD)

    assert response.status_code == 302, response.content
    assert response["Location"] == "/api/docs/"
    assert logged_in_as(client) == "care_worker"
    docs = client.get("/api/docs/")
    assert docs.status_code == 200
    assert b"swagger" in docs.content.lower()


def test_docs_redirect_to_login_without_a_session(world):
    response = Client().get("/api/docs/")

    assert response.status_code == 302
    assert response["Location"].startswith("/api/auth/login/?next=/api/docs/")


def test_login_page_renders(world):
    response = Client().get(API_LOGIN)

    assert response.status_code == 200
    assert b'name="password"' in response.content


def test_wrong_password_does_not_log_in(world):
    client = Client()

    response = login(client, "care_worker", WRONG)

    assert response.status_code == 200
    assert logged_in_as(client) is None


# --- One throttle for every login ----------------------------------------------------------------

def test_the_admin_login_is_throttled(sato):
    fail(30, "sato", ADMIN_LOGIN)
    client = Client()

    response = login(client, "sato", PASSWORD, ADMIN_LOGIN)

    assert_throttled(response)
    assert logged_in_as(client) is None


def test_the_admin_and_the_api_login_count_the_same_failures(sato, settings):
    settings.AXES_FAILURE_LIMIT = 4
    fail(2, "sato", ADMIN_LOGIN)
    fail(2, "sato", API_LOGIN)

    assert_throttled(login(Client(), "sato", PASSWORD, API_LOGIN))
    assert_throttled(login(Client(), "sato", PASSWORD, ADMIN_LOGIN))


def test_every_authentication_goes_through_the_throttle_first():
    """authenticate() itself refuses a throttled name, so a login view added later is throttled too."""
    first = import_string(django_settings.AUTHENTICATION_BACKENDS[0])
    assert issubclass(first, AxesStandaloneBackend)
    assert django_settings.MIDDLEWARE[-1] == "axes.middleware.AxesMiddleware"


def test_an_authentication_without_the_request_is_refused(world):
    """It could not be throttled, so it does not happen."""
    with pytest.raises(AxesBackendRequestParameterRequired):
        authenticate(username="care_worker", password=PASSWORD)


def test_failed_attempts_throttle_the_account_even_with_the_right_password(world, settings):
    settings.AXES_FAILURE_LIMIT = 3
    fail(3, "care_worker")
    client = Client()

    assert_throttled(login(client, "care_worker", PASSWORD))
    assert logged_in_as(client) is None
    # Per account: another address does not get through either.
    other_address = Client(REMOTE_ADDR="192.0.2.10")
    assert_throttled(login(other_address, "care_worker", PASSWORD))
    assert logged_in_as(other_address) is None


def test_the_throttle_refuses_only_at_the_limit(world, settings):
    settings.AXES_FAILURE_LIMIT = 3
    fail(2, "care_worker")
    client = Client()

    assert login(client, "care_worker", PASSWORD).status_code == 302
    assert logged_in_as(client) == "care_worker"


def test_the_throttle_of_one_account_leaves_others_alone(world, settings):
    settings.AXES_FAILURE_LIMIT = 3
    fail(3, "care_worker")
    client = Client()  # the same address

    assert login(client, "care_supervisor", PASSWORD).status_code == 302
    assert logged_in_as(client) == "care_supervisor"


def test_a_successful_login_clears_the_names_failures(world, settings):
    settings.AXES_FAILURE_LIMIT = 3
    fail(2, "care_worker")
    assert login(Client(), "care_worker", PASSWORD).status_code == 302
    fail(2, "care_worker")

    assert login(Client(), "care_worker", PASSWORD).status_code == 302


def test_the_throttle_ends_when_the_window_has_passed_since_the_last_failure(world, settings):
    settings.AXES_FAILURE_LIMIT = 3
    window = settings.AXES_COOLOFF_TIME
    start = timezone.now()
    with time_machine.travel(start, tick=False) as clock:
        fail(3, "care_worker")
        clock.shift(window - datetime.timedelta(seconds=5))
        assert_throttled(login(Client(), "care_worker", PASSWORD))  # refused attempts do not extend it
        clock.shift(datetime.timedelta(seconds=10))
        client = Client()
        assert login(client, "care_worker", PASSWORD).status_code == 302
        assert logged_in_as(client) == "care_worker"


def test_the_failures_live_in_the_database_without_the_password(world, settings):
    """One count for every gunicorn worker and web container; the password typed is never stored."""
    fail(2, "ＣＡＲＥ_ＷＯＲＫＥＲ")

    attempt = AccessAttempt.objects.get()
    assert (attempt.username, attempt.failures_since_start) == ("care_worker", 2)
    stored = " ".join(str(getattr(attempt, field.attname)) for field in AccessAttempt._meta.concrete_fields)
    assert WRONG not in stored


def test_the_refusal_speaks_the_callers_language(world, settings):
    settings.AXES_FAILURE_LIMIT = 1
    fail(1, "care_worker")

    english = Client(HTTP_ACCEPT_LANGUAGE="en").post(API_LOGIN, {"username": "care_worker", "password": PASSWORD})
    japanese = Client(HTTP_ACCEPT_LANGUAGE="ja").post(API_LOGIN, {"username": "care_worker", "password": PASSWORD})

    assert english.json()["title"].startswith("Too many failed logins")
    assert japanese.json()["title"].startswith("このアカウントへのログイン失敗が多すぎます")


# --- One account, however its name is typed -------------------------------------------------------

def test_full_width_and_upper_case_spellings_are_throttled_with_the_account(sato):
    fail(5, "sato")

    for spelling in ("ｓａｔｏ", "SATO", "Ｓａｔｏ", " sato "):
        client = Client()
        assert_throttled(login(client, spelling, PASSWORD))
        assert_throttled(login(client, spelling, PASSWORD, ADMIN_LOGIN))
        assert logged_in_as(client) is None


def test_failures_under_any_spelling_count_for_the_account(sato, settings):
    settings.AXES_FAILURE_LIMIT = 3
    fail(1, "ｓａｔｏ")
    fail(1, "SATO", ADMIN_LOGIN)
    fail(1, "Sato")

    assert_throttled(login(Client(), "sato", PASSWORD))


@pytest.mark.parametrize("spelling", ["ｓａｔｏ", "SATO", "Ｓａｔｏ"])
def test_every_spelling_of_the_name_logs_in_to_the_one_account(sato, spelling):
    api, admin = Client(), Client()

    assert login(api, spelling, PASSWORD).status_code == 302
    assert login(admin, spelling, PASSWORD, ADMIN_LOGIN).status_code == 302
    assert logged_in_as(api) == logged_in_as(admin) == "sato"


# --- A shared address -----------------------------------------------------------------------------

def test_failures_under_many_names_from_one_address_do_not_lock_out_a_user_who_never_failed(world):
    for n in range(50):
        fail(1, f"throwaway{n}")
    client = Client()  # the same address: a ward office behind one router, or the reverse proxy

    response = login(client, "care_supervisor", PASSWORD)

    assert response.status_code == 302, response.content[:300]
    assert logged_in_as(client) == "care_supervisor"


def test_an_address_where_many_names_failed_refuses_the_names_that_failed_there(world, settings):
    """Someone trying passwords across many accounts from one address gets one guess per name there."""
    settings.LOGIN_THROTTLE_ADDRESS_NAMES = 10
    for n in range(9):
        fail(1, f"throwaway{n}", REMOTE_ADDR="198.51.100.7")
    fail(1, "care_worker", REMOTE_ADDR="198.51.100.7")  # the tenth name

    assert_throttled(login(Client(REMOTE_ADDR="198.51.100.7"), "care_worker", PASSWORD))
    # Elsewhere the name has only its one failure; here a name that never failed still logs in.
    assert login(Client(REMOTE_ADDR="192.0.2.50"), "care_worker", PASSWORD).status_code == 302
    assert login(Client(REMOTE_ADDR="198.51.100.7"), "care_supervisor", PASSWORD).status_code == 302


def test_one_name_failing_often_does_not_make_its_address_refuse_others(world, settings):
    settings.LOGIN_THROTTLE_ADDRESS_NAMES = 3
    settings.AXES_FAILURE_LIMIT = 10
    fail(8, "care_worker")
    fail(1, "care_supervisor")

    assert login(Client(), "care_supervisor", PASSWORD).status_code == 302


def test_behind_the_proxy_each_client_is_counted_at_its_own_address(world, settings):
    """The proxy appends the client's address to X-Forwarded-For; what the client wrote before it is ignored."""
    settings.TRUSTED_PROXY_COUNT = 1
    settings.LOGIN_THROTTLE_ADDRESS_NAMES = 10
    for n in range(9):  # one client, pretending to be a different one each time
        fail(1, f"throwaway{n}", REMOTE_ADDR=PROXY, HTTP_X_FORWARDED_FOR=f"192.0.2.{n}, 203.0.113.5")
    fail(1, "care_worker", REMOTE_ADDR=PROXY, HTTP_X_FORWARDED_FOR="203.0.113.5")

    attacker = Client(REMOTE_ADDR=PROXY, HTTP_X_FORWARDED_FOR="203.0.113.5")
    assert_throttled(login(attacker, "care_worker", PASSWORD))
    assert set(AccessAttempt.objects.values_list("ip_address", flat=True)) == {"203.0.113.5"}
    colleague = Client(REMOTE_ADDR=PROXY, HTTP_X_FORWARDED_FOR="203.0.113.6")
    assert login(colleague, "care_worker", PASSWORD).status_code == 302


def test_base_settings_hash_passwords_with_argon2():
    assert "Argon2" in base.PASSWORD_HASHERS[0]
    hasher = import_string(base.PASSWORD_HASHERS[0])()
    assert isinstance(hasher, Argon2PasswordHasher)
    encoded = hasher.encode(PASSWORD, hasher.salt())
    assert encoded.startswith("argon2$argon2id$")
    assert hasher.verify(PASSWORD, encoded)
    assert not hasher.verify(WRONG, encoded)


@pytest.mark.parametrize(
    ("proxies", "meta", "address"),
    [
        (0, {"REMOTE_ADDR": "192.0.2.1", "HTTP_X_FORWARDED_FOR": "203.0.113.9"}, "192.0.2.1"),  # no proxy: ignored
        (1, {"REMOTE_ADDR": PROXY}, PROXY),  # not through the proxy (a health check)
        (1, {"REMOTE_ADDR": PROXY, "HTTP_X_FORWARDED_FOR": "203.0.113.9"}, "203.0.113.9"),
        (1, {"REMOTE_ADDR": PROXY, "HTTP_X_FORWARDED_FOR": "10.9.9.9, 203.0.113.9"}, "203.0.113.9"),
        (2, {"REMOTE_ADDR": PROXY, "HTTP_X_FORWARDED_FOR": "10.9.9.9, 203.0.113.9, 198.51.100.2"}, "203.0.113.9"),
        (2, {"REMOTE_ADDR": PROXY, "HTTP_X_FORWARDED_FOR": "203.0.113.9"}, "203.0.113.9"),  # came in past the CDN
        (1, {"REMOTE_ADDR": PROXY, "HTTP_X_FORWARDED_FOR": "2001:db8::1"}, "2001:db8::1"),
        (1, {"REMOTE_ADDR": PROXY, "HTTP_X_FORWARDED_FOR": "203.0.113.9, not-an-address"}, PROXY),
        (1, {"REMOTE_ADDR": PROXY, "HTTP_X_FORWARDED_FOR": " "}, PROXY),
    ],
)
def test_the_client_address_is_what_the_trusted_proxies_saw(settings, rf, proxies, meta, address):
    settings.TRUSTED_PROXY_COUNT = proxies

    assert client_address(rf.post(API_LOGIN, **meta)) == address
