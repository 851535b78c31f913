"""Managing an organisation's webhook endpoints: register, rotate the secret, pause, resume, replay.

Only the organisation's org admins (the guard); an endpoint of another organisation answers 404. The
secret (`whsec_…`, Standard Webhooks) is answered once, at registration and at each rotation; after a
rotation deliveries carry both signatures for the overlap, so the receiver can switch without missing one.
A replay sends again, with the same `webhook-id`, one delivery or every event of a time range the endpoint
subscribes to (including those written while it was paused or disabled).
"""

from __future__ import annotations

import base64
import datetime
import secrets

from django.db import transaction
from django.utils import timezone

from cases.errors import NotFound, NotPermitted, RuleViolation
from cases.models import Organization, User
from integrations.events import deliveries_create, enqueue_webhooks
from integrations.models import EndpointStatus, Event, EventType, WebhookDelivery, WebhookEndpoint
from integrations.targets import TargetRefused, target_check_url
from permissions.actors import actor_for
from permissions.guards import authorize_integration_manage

# `heartbeat` (integrations/heartbeat.py) comes on top of at least one event type: alone it would say only
# that the sender lives, to a receiver that hears of nothing else.
SUBSCRIBABLE = sorted(EventType.values)
MAX_REPLAY = datetime.timedelta(days=31)
MAX_OVERLAP = datetime.timedelta(days=7)


def _new_secret() -> str:
    return "whsec_" + base64.b64encode(secrets.token_bytes(32)).decode()


def _managed(*, actor: User, endpoint_id: int, lock: bool = True) -> WebhookEndpoint:
    organizations = actor_for(user=actor).administered_organization_ids
    endpoints = WebhookEndpoint.objects.filter(pk=endpoint_id, organization_id__in=organizations)
    endpoint = (endpoints.select_for_update() if lock else endpoints).first()
    if endpoint is None:
        raise NotFound(field="id")
    return endpoint


@transaction.atomic
def webhook_register(*, actor: User, url: str, event_types: list[str],
                     organization_id: int | None = None) -> WebhookEndpoint:
    """An org admin subscribes an HTTPS endpoint of their organisation to event types; its secret is on it."""
    acting = actor_for(user=actor)
    administered = acting.administered_organization_ids
    if not administered:
        raise NotPermitted("org_admin_required")
    if organization_id is None:
        if len(administered) > 1:
            raise RuleViolation("organization_required", field="organization")
        organization_id = next(iter(administered))
    authorize_integration_manage(actor=acting, organization_id=organization_id)
    if not set(event_types) - {EventType.HEARTBEAT} or set(event_types) - set(SUBSCRIBABLE):
        raise RuleViolation("webhook_event_type_unknown", field="event_types")
    try:
        target_check_url(url)
    except TargetRefused:
        raise RuleViolation("webhook_url_refused", field="url") from None
    return WebhookEndpoint.objects.create(
        organization=Organization.objects.get(pk=organization_id), url=url, event_types=sorted(set(event_types)),
        secret=_new_secret(), created_by=actor)


@transaction.atomic
def webhook_rotate_secret(*, actor: User, endpoint_id: int, overlap_hours: int = 24) -> WebhookEndpoint:
    endpoint = _managed(actor=actor, endpoint_id=endpoint_id)
    overlap = datetime.timedelta(hours=overlap_hours)
    if not datetime.timedelta(0) <= overlap <= MAX_OVERLAP:
        raise RuleViolation("client_overlap_too_long", field="overlap_hours")
    endpoint.previous_secret = endpoint.secret if overlap else ""
    endpoint.previous_secret_until = timezone.now() + overlap if overlap else None
    endpoint.secret = _new_secret()
    endpoint.save(update_fields=["secret", "previous_secret", "previous_secret_until"])
    return endpoint


@transaction.atomic
def webhook_pause(*, actor: User, endpoint_id: int) -> WebhookEndpoint:
    """Deliveries keep being written, none is sent, until it is resumed."""
    endpoint = _managed(actor=actor, endpoint_id=endpoint_id)
    if endpoint.status == EndpointStatus.ACTIVE:
        endpoint.status = EndpointStatus.PAUSED
        endpoint.save(update_fields=["status"])
    return endpoint


@transaction.atomic
def webhook_resume(*, actor: User, endpoint_id: int) -> WebhookEndpoint:
    """Paused or disabled → active, its failures forgotten; what waits is sent in order (a disabled
    endpoint's missed events: replay the time range)."""
    endpoint = _managed(actor=actor, endpoint_id=endpoint_id)
    endpoint.status, endpoint.disabled_reason = EndpointStatus.ACTIVE, ""
    endpoint.consecutive_failures, endpoint.failing_since, endpoint.next_attempt_at = 0, None, None
    endpoint.save(update_fields=["status", "disabled_reason", "consecutive_failures", "failing_since",
                                 "next_attempt_at"])
    transaction.on_commit(lambda: enqueue_webhooks([endpoint.pk]))
    return endpoint


@transaction.atomic
def webhook_replay(*, actor: User, endpoint_id: int, delivery_id: int | None = None,
                   since: datetime.datetime | None = None, until: datetime.datetime | None = None) -> int:
    """Send again one delivery, or every subscribed event that occurred in [since, until). How many."""
    endpoint = _managed(actor=actor, endpoint_id=endpoint_id)
    if delivery_id is not None:
        changed = WebhookDelivery.objects.filter(pk=delivery_id, endpoint=endpoint).update(
            delivered_at=None, claimed_at=None)
        if not changed:
            raise NotFound(field="delivery")
        count = 1
    else:
        if since is None or until is None or not since < until or until - since > MAX_REPLAY:
            raise RuleViolation("webhook_replay_range_invalid", field="since")
        events = list(Event.objects.filter(organization_id=endpoint.organization_id, type__in=endpoint.event_types,
                                           occurred_at__gte=since, occurred_at__lt=until))
        deliveries_create(events=events, endpoint_ids=[endpoint.pk])
        count = WebhookDelivery.objects.filter(endpoint=endpoint, event__in=events).update(
            delivered_at=None, claimed_at=None)
    if endpoint.status == EndpointStatus.ACTIVE:
        transaction.on_commit(lambda: enqueue_webhooks([endpoint.pk]))
    return count
