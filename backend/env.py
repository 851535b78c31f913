"""Strict readers for configuration taken from the environment.

A malformed value stops start-up with an ``ImproperlyConfigured`` error that
names the variable, so a typo in a deployment never becomes a silent default.
"""

from __future__ import annotations

import os
from urllib.parse import unquote, urlsplit

from django.core.exceptions import ImproperlyConfigured

_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off"}


def _raw(name: str) -> str | None:
    value = os.environ.get(name)
    if value is None or value.strip() == "":
        return None
    return value.strip()


def env_str(name: str, default: str | None = None, *, required: bool = False) -> str:
    value = _raw(name)
    if value is None:
        if required or default is None:
            raise ImproperlyConfigured(f"Environment variable {name} is required.")
        return default
    return value


def env_bool(name: str, default: bool) -> bool:
    value = _raw(name)
    if value is None:
        return default
    if value.lower() in _TRUE:
        return True
    if value.lower() in _FALSE:
        return False
    raise ImproperlyConfigured(f"Environment variable {name}={value!r} is not a boolean (use true or false).")


def env_int(name: str, default: int, *, minimum: int | None = None, maximum: int | None = None) -> int:
    value = _raw(name)
    if value is None:
        return default
    try:
        number = int(value)
    except ValueError:
        raise ImproperlyConfigured(f"Environment variable {name}={value!r} is not an integer.") from None
    if (minimum is not None and number < minimum) or (maximum is not None and number > maximum):
        raise ImproperlyConfigured(f"Environment variable {name}={number} is outside {minimum}..{maximum}.")
    return number


def env_list(name: str, default: list[str]) -> list[str]:
    value = _raw(name)
    if value is None:
        return list(default)
    items = [item.strip() for item in value.split(",")]
    if any(not item for item in items):
        raise ImproperlyConfigured(f"Environment variable {name}={value!r} has an empty item.")
    return items


def env_choice(name: str, default: str, choices: tuple[str, ...]) -> str:
    value = env_str(name, default)
    if value not in choices:
        raise ImproperlyConfigured(f"Environment variable {name}={value!r} must be one of {', '.join(choices)}.")
    return value


def database_from_url(name: str, url: str) -> dict:
    """Turn ``postgres://user:pass@host:port/db`` or ``sqlite:///path`` into a DATABASES entry."""
    parts = urlsplit(url)
    if parts.scheme in ("postgres", "postgresql"):
        database = unquote(parts.path.lstrip("/"))
        if not database or not parts.hostname:
            raise ImproperlyConfigured(f"Environment variable {name} must name a host and a database.")
        try:
            port = parts.port
        except ValueError:
            raise ImproperlyConfigured(f"Environment variable {name} has an invalid port.") from None
        return {
            "ENGINE": "backend.postgresql",  # Django's, with dates and times read faster (backend/postgresql/)
            "NAME": database,
            "USER": unquote(parts.username or ""),
            "PASSWORD": unquote(parts.password or ""),
            "HOST": parts.hostname,
            "PORT": str(port or 5432),
            "CONN_MAX_AGE": 60,
            # A ping before a reused connection's first query of a request: one round trip more, but after a
            # database restart no request fails on a dead connection (no 500 for a read nobody can retry).
            "CONN_HEALTH_CHECKS": True,
            # Pages of 50 rows: launching a parallel worker cost 5-7 ms on queries that take 1-3 ms
            # (docs/benchmarks.md), so this service's sessions plan serial queries. Statements may be prepared
            # (psycopg ignores a request to prepare when this is None, Django's default): only those sent
            # through backend.prepared are, Django's own cursors bind on the client and never prepare.
            "OPTIONS": {"options": "-c max_parallel_workers_per_gather=0", "prepare_threshold": 5},
        }
    if parts.scheme == "sqlite":
        path = url[len("sqlite:///"):] if url.startswith("sqlite:///") else ""
        if not path:
            raise ImproperlyConfigured(f"Environment variable {name} must look like sqlite:///path/to/db.sqlite3.")
        # The embedded default serves a web process and a worker at once: WAL lets readers go on while
        # one writes, a writer waits up to 20 s for another instead of failing ("database is locked"),
        # and IMMEDIATE takes the write lock when a transaction begins, so two transactions that read
        # and then write never deadlock on upgrading a read lock (SQLite would fail one at once).
        return {
            "ENGINE": "django.db.backends.sqlite3",
            "NAME": path,
            "OPTIONS": {
                "transaction_mode": "IMMEDIATE",
                "timeout": 20,
                "init_command": "PRAGMA journal_mode=WAL; PRAGMA busy_timeout=20000;",
            },
        }
    raise ImproperlyConfigured(
        f"Environment variable {name} has unsupported scheme {parts.scheme!r} (use postgres:// or sqlite:///)."
    )


def env_url(name: str, default: str | None, *, schemes: tuple[str, ...]) -> str | None:
    value = _raw(name)
    if value is None:
        return default
    scheme = urlsplit(value).scheme
    if scheme not in schemes:
        raise ImproperlyConfigured(f"Environment variable {name} must use one of: {', '.join(schemes)}.")
    return value
