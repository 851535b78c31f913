"""Issuing, checking and revoking personal API tokens."""

from __future__ import annotations

import datetime
import hashlib
import hmac
import re
import secrets

from django.conf import settings
from django.utils import timezone

from api.models import ApiToken
from cases.errors import NotFound, RuleViolation
from cases.models import User
from cases.selectors import actor_remember_rows, rows_with_standings

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
    rows = rows_with_standings(ApiToken.objects.select_related("user").filter(key_id=key_id),
                               memberships="user__memberships", at=now)
    token = rows[0] if rows else None
    if token is None or not hmac.compare_digest(token.secret_hash, _hash(secret)):
        return None
    if not token.is_usable or not token.user.is_active:
        return None
    actor_remember_rows(user=token.user, rows=rows)
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
