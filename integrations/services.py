"""Registering, rotating and revoking organisation API clients; authenticating a client's key.

Keys are `mmc_<key id>_<secret>`: the key id finds one secret row, the secret is compared with its SHA-256
(a 256-bit random secret needs no slow hash). The plaintext is returned once and never stored. A rotation
issues a new secret and keeps the previous one valid for an overlap the admin chooses (at most a week), so
a fleet of servers can switch without downtime; any older secret is retired at once, so at most two are
valid. Revoking the client (or rotating with no overlap) stops the old keys at the next request: every
request looks the secret up again, nothing is cached.
"""

from __future__ import annotations

import datetime
import hashlib
import hmac
import re
import secrets
from dataclasses import dataclass

from django.db import transaction
from django.utils import timezone

from cases.errors import Conflict, NotFound, NotPermitted, RuleViolation
from cases.models import Organization, User
from cases.models.consent import Purpose
from integrations.models import ClientSecret, OrganizationClient
from integrations.scopes import RECORD_SCOPES, SCOPES
from permissions.actors import actor_for
from permissions.guards import authorize_client_scopes, authorize_integration_manage

PREFIX = "mmc_"
_FORMAT = re.compile(r"^mmc_([a-f0-9]{12})_([A-Za-z0-9_-]{43})$")
MAX_OVERLAP = datetime.timedelta(days=7)
_TOUCH_EVERY = datetime.timedelta(minutes=15)


def _hash(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def _new_secret(client: OrganizationClient) -> str:
    key_id, secret = secrets.token_hex(6), secrets.token_urlsafe(32)
    ClientSecret.objects.create(client=client, key_id=key_id, secret_hash=_hash(secret))
    return f"{PREFIX}{key_id}_{secret}"


def _organization_of(*, actor, organization_id: int | None) -> Organization:
    """The organisation the admin registers for: named, or the only one they administer."""
    administered = actor.administered_organization_ids
    if not administered:
        raise NotPermitted("org_admin_required")
    if organization_id is None:
        if len(administered) > 1:
            raise RuleViolation("organization_required", field="organization")
        organization_id = next(iter(administered))
    authorize_integration_manage(actor=actor, organization_id=organization_id)
    return Organization.objects.get(pk=organization_id)  # an organisation it administers exists


@transaction.atomic
def client_register(*, actor: User, name: str, scopes: list[str], purposes: list[str],
                    organization_id: int | None = None) -> tuple[OrganizationClient, str]:
    """An org admin registers a machine client for their organisation; returns it and its first key (once)."""
    acting = actor_for(user=actor)
    organization = _organization_of(actor=acting, organization_id=organization_id)
    unknown = sorted(set(scopes) - set(SCOPES))
    if unknown or not scopes:
        raise RuleViolation("client_scope_unknown", field="scopes")
    if not purposes or set(purposes) - set(Purpose.values):
        raise RuleViolation("client_purpose_unknown", field="purposes")
    authorize_client_scopes(actor=acting, organization=organization, record_scopes=bool(set(scopes) & RECORD_SCOPES))
    account = User(username=f"client-{secrets.token_hex(8)}", display_name=name[:100], is_active=True)
    account.set_unusable_password()
    account.save()
    client = OrganizationClient.objects.create(
        organization=organization, name=name, user=account, scopes=sorted(set(scopes)),
        purposes=sorted(set(purposes)), created_by=actor)
    return client, _new_secret(client)


def _managed(*, actor: User, client_id: int, lock: bool = False) -> OrganizationClient:
    """A client of an organisation the actor administers; any other answers 404, as a missing one does."""
    organizations = actor_for(user=actor).administered_organization_ids
    clients = OrganizationClient.objects.filter(pk=client_id, organization_id__in=organizations)
    client = (clients.select_for_update() if lock else clients).first()
    if client is None:
        raise NotFound(field="id")
    return client


@transaction.atomic
def client_rotate(*, actor: User, client_id: int, overlap_hours: int = 24) -> tuple[OrganizationClient, str]:
    """A new key; the newest previous secret stays valid for `overlap_hours` (0: stops now), older ones stop now."""
    client = _managed(actor=actor, client_id=client_id, lock=True)
    if client.revoked_at is not None:
        raise Conflict("client_revoked")
    overlap = datetime.timedelta(hours=overlap_hours)
    if not datetime.timedelta(0) <= overlap <= MAX_OVERLAP:
        raise RuleViolation("client_overlap_too_long", field="overlap_hours")
    now = timezone.now()
    live = [s for s in client.secrets.filter(revoked_at__isnull=True).order_by("-created_at", "-id") if s.valid_at(now)]
    for index, secret in enumerate(live):
        if index == 0 and overlap:
            ends = now + overlap
            secret.expires_at = min(secret.expires_at, ends) if secret.expires_at else ends
            secret.save(update_fields=["expires_at"])
        else:
            secret.revoked_at = now
            secret.save(update_fields=["revoked_at"])
    return client, _new_secret(client)


@transaction.atomic
def client_revoke(*, actor: User, client_id: int) -> OrganizationClient:
    """The client and all its secrets stop at the next request."""
    client = _managed(actor=actor, client_id=client_id, lock=True)
    if client.revoked_at is None:
        now = timezone.now()
        client.revoked_at = now
        client.save(update_fields=["revoked_at"])
        client.secrets.filter(revoked_at__isnull=True).update(revoked_at=now)
        User.objects.filter(pk=client.user_id).update(is_active=False)  # its sessions and tokens, if any, too
    return client


@dataclass(frozen=True)
class ClientCredential:
    """What a client's key proved: the client and the secret it used."""

    client: OrganizationClient
    key_id: str


def client_authenticate(plaintext: str) -> ClientCredential | None:
    """The client a key belongs to, if the key is valid right now (its secret and the client unrevoked).

    One query finds the secret, the client, its account and its organisation (whose worker it acts as:
    integrations.authentication), all read at the moment of the request."""
    match = _FORMAT.match(plaintext)
    if not match:
        return None
    key_id, secret = match.groups()
    row = ClientSecret.objects.select_related("client__user", "client__organization").filter(key_id=key_id).first()
    if row is None or not hmac.compare_digest(row.secret_hash, _hash(secret)):
        return None
    now = timezone.now()
    client = row.client
    if not row.valid_at(now) or client.revoked_at is not None or not client.user.is_active:
        return None
    if client.last_used_at is None or now - client.last_used_at > _TOUCH_EVERY:
        OrganizationClient.objects.filter(pk=client.pk).update(last_used_at=now)
    return ClientCredential(client=client, key_id=key_id)
