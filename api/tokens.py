"""Issuing, checking and revoking personal API tokens."""

from __future__ import annotations

import datetime
import hashlib
import hmac
import re
import secrets

from django.conf import settings
from django.db import connection
from django.utils import timezone

from api.models import ApiToken
from backend.prepared import prepared_cursor
from cases.errors import NotFound, RuleViolation
from cases.models import User
from cases.selectors import actor_remember_rows, rows_with_standings, standings_of, standings_sql

PREFIX = "mmr_"
_FORMAT = re.compile(r"^mmr_([A-Za-z0-9]{12})_([A-Za-z0-9_-]{43})$")
_TOUCH_EVERY = datetime.timedelta(minutes=15)


def _hash(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def token_issue(*, user: User, name: str, ttl_days: int | None = None) -> tuple[ApiToken, str]:
    """Create a token and return it with its plaintext, which is never stored and never shown again.

    It lives `ttl_days`, at most the operator's API_TOKEN_TTL_DAYS (the default): a client may ask for
    less, never more."""
    limit = settings.API_TOKEN_TTL_DAYS
    days = limit if ttl_days is None else ttl_days
    if not 1 <= days <= limit:
        raise RuleViolation("token_lifetime_too_long", field="ttl_days")
    key_id = secrets.token_hex(6)
    secret = secrets.token_urlsafe(32)
    token = ApiToken.objects.create(
        user=user,
        name=name,
        key_id=key_id,
        secret_hash=_hash(secret),
        expires_at=timezone.now() + datetime.timedelta(days=days),
    )
    return token, f"{PREFIX}{key_id}_{secret}"


def token_install(*, user: User, name: str, plaintext: str, ttl_days: int = 365) -> ApiToken:
    """Store a token whose plaintext is fixed in advance (demo accounts listed in the README only)."""
    match = _FORMAT.match(plaintext)
    if not match:
        raise ValueError("token does not have the mmr_<12>_<43> format")
    key_id, secret = match.groups()
    token, _ = ApiToken.objects.update_or_create(
        key_id=key_id,
        defaults={
            "user": user,
            "name": name,
            "secret_hash": _hash(secret),
            "expires_at": timezone.now() + datetime.timedelta(days=ttl_days),
            "revoked_at": None,
        },
    )
    return token


_SQL: str | None = None


def _sql() -> str:
    """The look-up as one hand-written SELECT (built once per process): compiling the ORM's version cost
    more Python on every request than PostgreSQL spent answering it."""
    global _SQL
    if _SQL is None:
        q = connection.ops.quote_name
        token_columns = ", ".join(f"t.{q(f.column)}" for f in ApiToken._meta.concrete_fields)
        user_columns = ", ".join(f"u.{q(f.column)}" for f in User._meta.concrete_fields)
        standings, joins, order = standings_sql(user_column="t.user_id")
        _SQL = (f"SELECT {token_columns}, {user_columns}, {standings} FROM {q(ApiToken._meta.db_table)} t"
                f" JOIN {q(User._meta.db_table)} u ON u.id = t.user_id{joins} WHERE t.key_id = %s ORDER BY {order}")
    return _SQL


def _look_up(key_id: str, now) -> tuple[ApiToken | None, list[tuple]]:
    """The token with its user, and the user's active standings as tuples, in one query."""
    if connection.vendor != "postgresql":  # the ORM's converters (SQLite returns dates as text)
        rows = rows_with_standings(ApiToken.objects.select_related("user").filter(key_id=key_id),
                                   memberships="user__memberships", at=now)
        return (rows[0] if rows else None), [standings_of(row) for row in rows]
    with prepared_cursor() as cursor:
        cursor.execute(_sql(), [now, now, key_id])
        rows = cursor.fetchall()
    if not rows:
        return None, []
    token_fields, user_fields = ApiToken._meta.concrete_fields, User._meta.concrete_fields
    first = rows[0]
    token = ApiToken.from_db(connection.alias, [f.attname for f in token_fields], first[:len(token_fields)])
    end = len(token_fields) + len(user_fields)
    token.user = User.from_db(connection.alias, [f.attname for f in user_fields], first[len(token_fields):end])
    return token, [row[end:] for row in rows]


def token_authenticate(plaintext: str) -> ApiToken | None:
    """The token, if usable right now (unrevoked, unexpired, its user active), found with its user and the
    user's active memberships in one query; the request keeps the actor (cases.selectors.actor_remember_rows),
    so the route's membership check and every scoped read ask the database nothing more about who is asking.

    Everything is read at the moment of the request: a revocation, an expiry or a term's end counts on the
    very next request."""
    match = _FORMAT.match(plaintext)
    if not match:
        return None
    key_id, secret = match.groups()
    now = timezone.now()
    token, standings = _look_up(key_id, now)
    if token is None or not hmac.compare_digest(token.secret_hash, _hash(secret)):
        return None
    if not token.is_usable or not token.user.is_active:
        return None
    actor_remember_rows(user=token.user, rows=standings, values=True)
    if token.last_used_at is None or now - token.last_used_at > _TOUCH_EVERY:
        ApiToken.objects.filter(pk=token.pk).update(last_used_at=now)
    return token


def tokens_of(*, user: User):
    return ApiToken.objects.filter(user=user).order_by("-created_at", "-id")


def token_revoke(*, user: User, token_id: int) -> ApiToken:
    token = ApiToken.objects.filter(user=user, pk=token_id).first()
    if token is None:
        raise NotFound()
    if token.revoked_at is None:
        token.revoked_at = timezone.now()
        token.save(update_fields=["revoked_at"])
    return token
