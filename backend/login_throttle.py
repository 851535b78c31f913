"""Every password login goes through django-axes: one throttle for the admin, the API's session login and
any later one (ADR 0007).

axes' backend stands first in AUTHENTICATION_BACKENDS, so `django.contrib.auth.authenticate()` itself
refuses a throttled name before any password is checked, whichever view called it; a call without the
request is refused too (it could not be throttled). Failures are counted in the database
(`axes.AccessAttempt`, kept for the throttle window only), shared by every worker.

- **Per user name**: `AXES_FAILURE_LIMIT` (5, env LOGIN_THROTTLE_FAILURES) failures of one name within
  `AXES_COOLOFF_TIME` (15 minutes, env LOGIN_THROTTLE_WINDOW_SECONDS), from any address, refuse that
  name, even with the right password, until the window has passed since its last failure. Names are
  counted in their normalised form (`cases.usernames`), the form the account is looked up by, so
  ｓａｔｏ and SATO count as sato.
- **Per address, for names that failed there**: once `LOGIN_THROTTLE_ADDRESS_NAMES` (50) different names
  failed from one address within the window (someone trying passwords across many accounts), a name that
  failed from that address is refused there too. A name that never failed from it is not: a ward office
  where everyone shares one address, or a reverse proxy, never locks out someone who has not failed.
- **The client address** is what the reverse proxies in front saw (`client_address`).

A refused login answers 429 `login_throttled` (problem+json) with Retry-After.
"""

from __future__ import annotations

import ipaddress

from axes.attempts import get_cool_off_threshold
from axes.handlers.database import AxesDatabaseHandler
from axes.helpers import get_client_username, get_cool_off
from axes.models import AccessAttempt
from django.conf import settings
from django.http import HttpRequest

from api.problems import problem_response
from cases.usernames import username_normalize

_NAME_LENGTH = 255  # axes.AccessAttempt.username


def username_key(request: HttpRequest, credentials: dict | None) -> str | None:
    """The name a login attempt is counted under (AXES_USERNAME_CALLABLE): the normalised user name."""
    if credentials is not None:
        name = credentials.get("username")
    else:
        name = getattr(request, "POST", {}).get("username")
    return username_normalize(name)[:_NAME_LENGTH] if isinstance(name, str) else None


def client_address(request: HttpRequest) -> str | None:
    """The client's address (AXES_CLIENT_IP_CALLABLE).

    Behind `TRUSTED_PROXY_COUNT` reverse proxies that each append the address they received from to
    X-Forwarded-For, the client is the entry that many places from the right: entries further left were
    written by the client and prove nothing. With no proxy (0), or when the header is missing or that
    entry is not an address, it is the peer of the connection (REMOTE_ADDR)."""
    peer = request.META.get("REMOTE_ADDR") or None
    proxies = settings.TRUSTED_PROXY_COUNT
    forwarded = request.META.get("HTTP_X_FORWARDED_FOR", "")
    if not proxies or not forwarded.strip():
        return peer
    hops = [hop.strip() for hop in forwarded.split(",")]
    candidate = hops[-min(proxies, len(hops))]
    try:
        return str(ipaddress.ip_address(candidate))
    except ValueError:
        return peer


class LoginThrottle(AxesDatabaseHandler):
    """axes' database handler (failures per user name, AXES_LOCKOUT_PARAMETERS = ["username"]) plus the
    address rule, which axes cannot say: its limits are one number for every parameter it counts."""

    def is_locked(self, request, credentials: dict | None = None) -> bool:
        return super().is_locked(request, credentials) or self._address_refuses(request, credentials)

    def _address_refuses(self, request, credentials: dict | None) -> bool:
        username = get_client_username(request, credentials)
        address = getattr(request, "axes_ip_address", None)
        if not username or not address:
            return False
        recent = AccessAttempt.objects.filter(
            ip_address=address, attempt_time__gte=get_cool_off_threshold(request)
        ).order_by()
        if not recent.filter(username=username).exists():
            return False  # never failed from here: only its own counter applies
        limit = settings.LOGIN_THROTTLE_ADDRESS_NAMES
        return len(recent.values_list("username", flat=True).distinct()[:limit]) >= limit


def throttled_response(request: HttpRequest, original_response=None, credentials: dict | None = None):
    """AXES_LOCKOUT_CALLABLE: 429 `login_throttled` as problem+json, like every other refusal."""
    response = problem_response(request, "login_throttled")
    response["Retry-After"] = str(int(get_cool_off(request).total_seconds()))
    return response
