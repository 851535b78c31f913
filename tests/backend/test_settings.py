"""Configuration is read strictly: a malformed value stops start-up naming the variable."""

from __future__ import annotations

import os
import secrets
import subprocess
import sys
from pathlib import Path

import pytest
from django.core.exceptions import ImproperlyConfigured

from backend.env import database_from_url, env_bool, env_choice, env_int, env_list, env_str, env_url

ROOT = Path(__file__).resolve().parent.parent.parent


# --- the readers ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "url",
    [
        "postgres://",  # no host, no database
        "postgres://db.example",  # no database
        "postgres://user@db.example:notaport/mimamori",
        "mysql://user@db.example/mimamori",
        "sqlite://relative.sqlite3",
        "just-a-word",
    ],
)
def test_malformed_database_url_names_the_variable(url):
    with pytest.raises(ImproperlyConfigured, match="DATABASE_URL"):
        database_from_url("DATABASE_URL", url)


def test_postgres_database_url_is_parsed():
    config = database_from_url("DATABASE_URL", "postgres://app:p%40ss@db.example:6543/mimamori")

    assert config["ENGINE"] == "backend.postgresql"
    assert (config["NAME"], config["USER"], config["PASSWORD"]) == ("mimamori", "app", "p@ss")
    assert (config["HOST"], config["PORT"]) == ("db.example", "6543")


def test_sqlite_database_url_is_parsed():
    config = database_from_url("DATABASE_URL", "sqlite:////tmp/x.sqlite3")

    assert (config["ENGINE"], config["NAME"]) == ("django.db.backends.sqlite3", "/tmp/x.sqlite3")
    # Set up for a web process and a worker at once (tests/backend/test_embedded_sqlite.py).
    assert config["OPTIONS"]["transaction_mode"] == "IMMEDIATE"
    assert "PRAGMA journal_mode=WAL" in config["OPTIONS"]["init_command"]


@pytest.mark.parametrize("url", ["http://cache.example:6379/0", "memcached://cache", "localhost:6379"])
def test_redis_url_with_a_bad_scheme_names_the_variable(monkeypatch, url):
    monkeypatch.setenv("REDIS_URL", url)

    with pytest.raises(ImproperlyConfigured, match="REDIS_URL"):
        env_url("REDIS_URL", None, schemes=("redis", "rediss"))


def test_redis_url_is_read(monkeypatch):
    monkeypatch.setenv("REDIS_URL", "rediss://cache.example:6380/1")
    assert env_url("REDIS_URL", None, schemes=("redis", "rediss")) == "rediss://cache.example:6380/1"
    monkeypatch.setenv("REDIS_URL", "   ")
    assert env_url("REDIS_URL", None, schemes=("redis", "rediss")) is None


@pytest.mark.parametrize("value", ["abc", "1.5", "90d", "0x10"])
def test_non_integer_names_the_variable(monkeypatch, value):
    monkeypatch.setenv("API_TOKEN_TTL_DAYS", value)

    with pytest.raises(ImproperlyConfigured, match="API_TOKEN_TTL_DAYS.*not an integer"):
        env_int("API_TOKEN_TTL_DAYS", 90, minimum=1, maximum=730)


@pytest.mark.parametrize("value", ["0", "-1", "731"])
def test_integer_out_of_range_names_the_variable(monkeypatch, value):
    monkeypatch.setenv("API_TOKEN_TTL_DAYS", value)

    with pytest.raises(ImproperlyConfigured, match="API_TOKEN_TTL_DAYS"):
        env_int("API_TOKEN_TTL_DAYS", 90, minimum=1, maximum=730)


def test_integer_is_read(monkeypatch):
    assert env_int("API_TOKEN_TTL_DAYS_UNSET_IN_TESTS", 90) == 90
    monkeypatch.setenv("API_TOKEN_TTL_DAYS", " 30 ")
    assert env_int("API_TOKEN_TTL_DAYS", 90, minimum=1, maximum=730) == 30


@pytest.mark.parametrize("value", ["maybe", "2", "enabled", "tru"])
def test_bad_boolean_names_the_variable(monkeypatch, value):
    monkeypatch.setenv("SECURE_SSL_REDIRECT", value)

    with pytest.raises(ImproperlyConfigured, match="SECURE_SSL_REDIRECT.*not a boolean"):
        env_bool("SECURE_SSL_REDIRECT", True)


@pytest.mark.parametrize(("value", "expected"), [("true", True), ("YES", True), ("1", True), ("off", False),
                                                 ("False", False), ("0", False)])
def test_boolean_is_read(monkeypatch, value, expected):
    monkeypatch.setenv("SECURE_SSL_REDIRECT", value)

    assert env_bool("SECURE_SSL_REDIRECT", not expected) is expected


def test_list_with_an_empty_item_names_the_variable(monkeypatch):
    monkeypatch.setenv("ALLOWED_HOSTS", "a.example,,b.example")

    with pytest.raises(ImproperlyConfigured, match="ALLOWED_HOSTS"):
        env_list("ALLOWED_HOSTS", [])


def test_list_is_read(monkeypatch):
    monkeypatch.setenv("ALLOWED_HOSTS", "a.example, b.example")

    assert env_list("ALLOWED_HOSTS", []) == ["a.example", "b.example"]


def test_choice_outside_the_choices_names_the_variable(monkeypatch):
    monkeypatch.setenv("LOG_LEVEL", "LOUD")

    with pytest.raises(ImproperlyConfigured, match="LOG_LEVEL"):
        env_choice("LOG_LEVEL", "INFO", ("DEBUG", "INFO"))


def test_required_string_names_the_variable(monkeypatch):
    monkeypatch.delenv("SECRET_KEY", raising=False)

    with pytest.raises(ImproperlyConfigured, match="SECRET_KEY"):
        env_str("SECRET_KEY", required=True)


# --- start-up in a fresh process ---------------------------------------------------------------


def _production_env(tmp_path, **overrides: str) -> dict[str, str]:
    """A complete production environment (nothing connects to its servers during `check`)."""
    replaced = {"DJANGO_SETTINGS_MODULE", "SECRET_KEY", "DATABASE_URL", "REDIS_URL", "CELERY_BROKER_URL", "CACHE_URL",
                "DEBUG"}
    env = {key: value for key, value in os.environ.items() if key not in replaced and not key.startswith("SECURE_")}
    env.update(
        DJANGO_SETTINGS_MODULE="backend.settings.production",
        SECRET_KEY=secrets.token_urlsafe(45),  # 60 random characters
        DATABASE_URL="postgres://mimamori@db.invalid:5432/mimamori",
        REDIS_URL="redis://redis.invalid:6379/0",
        ALLOWED_HOSTS="mimamori.example",
        PYTHONDONTWRITEBYTECODE="1",
    )
    env.update(overrides)
    return env


_PRINT_SERVERS = (
    "from django.conf import settings as s; "
    "print(s.DATABASES['default']['ENGINE'], s.CACHES['default']['BACKEND'], s.CACHES['default']['LOCATION'], "
    "s.CELERY_BROKER_URL)"
)


def _manage(env: dict[str, str], *args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "manage.py", *args], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120
    )


def test_production_settings_pass_the_deploy_check(tmp_path):
    env = _production_env(tmp_path)
    assert len(env["SECRET_KEY"]) == 60

    result = _manage(env, "check", "--deploy", "--fail-level", "WARNING")

    assert result.returncode == 0, result.stdout + result.stderr
    assert "System check identified no issues" in result.stdout
    assert "WARNING" not in result.stdout + result.stderr


def test_production_refuses_a_short_secret_key(tmp_path):
    result = _manage(_production_env(tmp_path, SECRET_KEY="too-short"), "check")

    assert result.returncode != 0
    assert "ImproperlyConfigured" in result.stderr
    assert "SECRET_KEY" in result.stderr


def test_production_refuses_the_development_secret_key(tmp_path):
    dev_key = "dev-only-insecure-key-change-me-0123456789-abcdefghijklmnopqrstuvwxyz"
    result = _manage(_production_env(tmp_path, SECRET_KEY=dev_key), "check")

    assert result.returncode != 0
    assert "SECRET_KEY" in result.stderr


def test_production_refuses_a_missing_secret_key(tmp_path):
    env = _production_env(tmp_path)
    del env["SECRET_KEY"]

    result = _manage(env, "check")

    assert result.returncode != 0
    assert "SECRET_KEY" in result.stderr


@pytest.mark.parametrize("variable", ["DATABASE_URL", "REDIS_URL"])
def test_production_refuses_to_start_without_its_servers(tmp_path, variable):
    env = _production_env(tmp_path)
    del env[variable]

    result = _manage(env, "check")

    assert result.returncode != 0
    last = result.stderr.strip().splitlines()[-1]
    assert "ImproperlyConfigured" in last and variable in last and "required" in last, result.stderr


@pytest.mark.parametrize(
    ("variable", "value"),
    [
        ("DATABASE_URL", "sqlite:////tmp/x.sqlite3"),
        ("CELERY_BROKER_URL", "filesystem://"),
        ("CELERY_BROKER_URL", "memory://"),
        ("CACHE_URL", "locmem://"),
    ],
)
def test_production_refuses_the_embedded_defaults(tmp_path, variable, value):
    result = _manage(_production_env(tmp_path, **{variable: value}), "check")

    assert result.returncode != 0
    last = result.stderr.strip().splitlines()[-1]
    assert "ImproperlyConfigured" in last and variable in last, result.stderr


def test_production_runs_on_postgresql_and_redis_for_broker_and_cache(tmp_path):
    result = _manage(_production_env(tmp_path), "shell", "--no-imports", "-c", _PRINT_SERVERS)

    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == [
        "backend.postgresql",
        "django.core.cache.backends.redis.RedisCache",
        "redis://redis.invalid:6379/0",
        "redis://redis.invalid:6379/0",
    ]


def test_production_takes_a_separate_cache_when_given(tmp_path):
    env = _production_env(tmp_path, CACHE_URL="redis://cache.invalid:6379/3")

    result = _manage(env, "shell", "--no-imports", "-c", _PRINT_SERVERS)

    assert result.returncode == 0, result.stderr
    assert result.stdout.split()[1:3] == ["django.core.cache.backends.redis.RedisCache", "redis://cache.invalid:6379/3"]


@pytest.mark.parametrize(
    ("variable", "value"),
    [
        ("API_TOKEN_TTL_DAYS", "abc"),
        ("REDIS_URL", "http://cache.example:6379/0"),
        ("DATABASE_URL", "postgres://"),
        ("SECURE_SSL_REDIRECT", "maybe"),
    ],
)
def test_a_malformed_variable_stops_start_up_naming_it(tmp_path, variable, value):
    result = _manage(_production_env(tmp_path, **{variable: value}), "check")

    assert result.returncode != 0
    assert "ImproperlyConfigured" in result.stderr
    assert variable in result.stderr.strip().splitlines()[-1]


# --- production: the image's collected static files, served by whitenoise -------------------------

_SERVE = """
from django.test import Client
client = Client()
for path in ("/static/drf_spectacular_sidecar/swagger-ui-dist/swagger-ui-bundle.js",
             "/static/admin/css/base.css", "/static/rest_framework/js/csrf.js"):
    from django.templatetags.static import static
    hashed = static(path.removeprefix("/static/"))
    response = client.get(hashed, secure=True, HTTP_HOST="mimamori.example")
    print(path, hashed != path, response.status_code, response["Content-Type"].split(";")[0],
          response.get("Cache-Control", ""))
"""


def test_production_serves_the_collected_static_files(tmp_path):
    env = _production_env(tmp_path, STATIC_ROOT=str(tmp_path / "static"))
    collected = _manage(env, "collectstatic", "--noinput", "-v", "0")
    assert collected.returncode == 0, collected.stderr

    served = _manage(env, "shell", "--no-imports", "-c", _SERVE)

    assert served.returncode == 0, served.stderr
    lines = [line.split() for line in served.stdout.strip().splitlines()]
    assert [line[:4] for line in lines] == [
        ["/static/drf_spectacular_sidecar/swagger-ui-dist/swagger-ui-bundle.js", "True", "200", "text/javascript"],
        ["/static/admin/css/base.css", "True", "200", "text/css"],
        ["/static/rest_framework/js/csrf.js", "True", "200", "text/javascript"],
    ]
    assert all("max-age=315360000" in " ".join(line[4:]) for line in lines)  # hashed names: cached for good
