"""Webhook heartbeats: so a receiver tells silence from failure without polling the feed.

Every `WEBHOOK_HEARTBEAT_SECONDS` (beat), each active endpoint subscribed to `heartbeat` that is not backing
off and has nothing waiting to be sent gets one signed POST (Standard Webhooks, as every delivery):
`{"id": "hb_<org>_<unix time>", "type": "heartbeat", "timestamp", "organization", "last_sequence"}` —
the organisation's last event sequence committed, as the feed's heartbeat gives it. A receiver holding
fewer events than `last_sequence` missed some (fetch `GET /api/v1/events?after=`); no heartbeat for two
periods means the sender or the path to it is down, not that nothing happened.

A heartbeat is not an event: it takes no sequence number (the feed stays gap-free and free of them) and
is never replayed; an endpoint with deliveries waiting gets those instead (they say more). It is sent under
the endpoint's lease, so it never interleaves with a run sending that endpoint's events. A failed
heartbeat is logged and changes nothing (the next one tries again), except that 410 Gone disables the
endpoint as a delivery's would.
"""

from __future__ import annotations

import datetime
import json
import logging
from dataclasses import dataclass

from django.conf import settings
from django.db.models import Exists, OuterRef, Q
from django.utils import timezone
from standardwebhooks.webhooks import Webhook

from integrations.delivery import _clock, _disable, _lease, _timeout
from integrations.models import EndpointStatus, EventCounter, EventType, WebhookDelivery, WebhookEndpoint
from integrations.targets import TargetRefused, target_post

logger = logging.getLogger("integrations.heartbeat")

DEFAULT_HEARTBEAT_SECONDS = 300
BUDGET_SECONDS = 20.0


def heartbeat_period() -> datetime.timedelta:
    return datetime.timedelta(seconds=getattr(settings, "WEBHOOK_HEARTBEAT_SECONDS", DEFAULT_HEARTBEAT_SECONDS))


def heartbeat_payload(*, organization_id: int, last_sequence: int, now: datetime.datetime) -> dict:
    return {"id": f"hb_{organization_id}_{int(now.timestamp())}", "type": EventType.HEARTBEAT.value,
            "timestamp": now.isoformat(), "organization": organization_id, "last_sequence": last_sequence}


def heartbeat_request(endpoint: WebhookEndpoint, *, last_sequence: int, now: datetime.datetime) -> tuple[bytes, dict]:
    """The body and headers of one heartbeat to this endpoint (both secrets during a rotation)."""
    payload = heartbeat_payload(organization_id=endpoint.organization_id, last_sequence=last_sequence, now=now)
    body = json.dumps(payload, separators=(",", ":"), sort_keys=True)
    secrets = [endpoint.secret]
    if endpoint.previous_secret and endpoint.previous_secret_until and endpoint.previous_secret_until > now:
        secrets.append(endpoint.previous_secret)
    signature = " ".join(Webhook(secret).sign(payload["id"], now, body) for secret in secrets)
    return body.encode(), {"content-type": "application/json", "user-agent": "mimamori-webhooks/1",
                           "webhook-id": payload["id"], "webhook-timestamp": str(int(now.timestamp())),
                           "webhook-signature": signature}


@dataclass
class HeartbeatReport:
    sent: int = 0
    failed: int = 0
    skipped: int = 0  # busy (leased, backing off) or with deliveries waiting


def endpoints_for_heartbeat(*, now: datetime.datetime) -> list[int]:
    """Active endpoints subscribed to heartbeats, idle: not backing off, nothing waiting to be sent."""
    waiting = WebhookDelivery.objects.filter(endpoint_id=OuterRef("pk"), delivered_at__isnull=True)
    due = Q(next_attempt_at__isnull=True) | Q(next_attempt_at__lte=now)
    return [endpoint.pk for endpoint in WebhookEndpoint.objects.filter(due, status=EndpointStatus.ACTIVE)
            .exclude(Exists(waiting)).order_by("id").only("id", "event_types")
            if EventType.HEARTBEAT in endpoint.event_types]


def heartbeats_send(*, budget: float = BUDGET_SECONDS) -> HeartbeatReport:
    """One heartbeat to each idle endpoint that subscribed to them (the beat task, every period)."""
    report = HeartbeatReport()
    deadline = _clock() + budget
    now = timezone.now()
    endpoint_ids = endpoints_for_heartbeat(now=now)
    last = dict(EventCounter.objects.filter(
        organization_id__in=WebhookEndpoint.objects.filter(id__in=endpoint_ids).values("organization_id"))
        .values_list("organization_id", "last_sequence"))
    for endpoint_id in endpoint_ids:
        if _clock() >= deadline or not _lease(endpoint_id, timezone.now()):
            report.skipped += 1
            continue
        try:
            endpoint = WebhookEndpoint.objects.get(pk=endpoint_id)
            if WebhookDelivery.objects.filter(endpoint_id=endpoint_id, delivered_at__isnull=True).exists():
                report.skipped += 1  # events arrived since: they are the signal
                continue
            sent_at = timezone.now()
            body, headers = heartbeat_request(endpoint, last_sequence=last.get(endpoint.organization_id, 0),
                                              now=sent_at)
            try:
                status, _ = target_post(endpoint.url, body=body, headers=headers, timeout=_timeout())
            except (TargetRefused, OSError) as error:
                status = None
                logger.info("heartbeat to endpoint %s: no answer (%s)", endpoint_id, type(error).__name__)
            if status is not None and 200 <= status < 300:
                report.sent += 1
                continue
            report.failed += 1
            if status == 410:
                _disable(endpoint, reason="gone", now=timezone.now())
        finally:
            WebhookEndpoint.objects.filter(pk=endpoint_id).update(lease_until=None)
    return report
