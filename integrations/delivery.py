"""Sending webhooks (Standard Webhooks): per endpoint, in event order, backing off per endpoint.

An endpoint is sent to by one worker at a time (a lease: a conditional update of `lease_until`), so its
deliveries go in sequence order. Each delivery is (1) claimed (attempt counted, `claimed_at`, commit),
(2) POSTed on the turn's kept-alive connection (`targets.TargetSession`: one handshake per turn, not per
delivery), signed with `standardwebhooks` (`webhook-id` is the event's id, the same on every attempt and
replay, so a receiver drops a repeat), (3) marked delivered by a conditional update on its claim. A worker
killed between 1 and 3 leaves the lease to expire (`_lease_length()`); the next run sends that delivery again: the
send in flight is the only one a crash can repeat, and it carries the same `webhook-id`.

A failed send (no 2xx, no answer within `WEBHOOK_TIMEOUT`) stops this endpoint's run and backs the endpoint
off (30 s doubling, at most 1 h) — its later deliveries wait behind the first, other endpoints are not
touched. 410 Gone disables the endpoint at once; failing for `WEBHOOK_DISABLE_AFTER_DAYS` (3) disables it.
Either way its organisation's admins are told (through the outbox). The log keeps each attempt's status,
duration and the first 200 characters of the answer (the receiver's words; our bodies carry ids only).
"""

from __future__ import annotations

import contextlib
import datetime
import json
import logging
import time
from collections.abc import Iterator
from dataclasses import dataclass, field

from django.conf import settings
from django.db import connection, transaction
from django.db.models import F, Q
from django.utils import timezone
from standardwebhooks.webhooks import Webhook

from integrations.models import EndpointStatus, Event, WebhookAttempt, WebhookDelivery, WebhookEndpoint
from integrations.targets import TargetRefused, TargetSession
from notifications.outbox import Message, outbox_write
from permissions.actors import org_admins_of

logger = logging.getLogger("integrations.delivery")

DEFAULT_LEASE_SECONDS = 60  # longer than a run's budget plus one send's timeout
MAX_BACKOFF = datetime.timedelta(hours=1)
BUDGET_SECONDS = 5.0
TURN = 100  # deliveries to one endpoint before the next endpoint's turn
LINKS = {"referral": "/api/v1/referrals/{}", "task": "/api/v1/tasks/{}", "resident": "/api/v1/residents/{}",
         "partner_report": "/api/v1/partner-reports/{}"}
_clock = time.monotonic


def _timeout() -> float:
    return float(getattr(settings, "WEBHOOK_TIMEOUT", 5.0))


def _lease_length() -> datetime.timedelta:
    """How long a run holds an endpoint: longer than its budget plus one send, so only a dead worker's lease
    is ever taken over (WEBHOOK_LEASE_SECONDS overrides it, e.g. in the fault tests)."""
    return datetime.timedelta(seconds=getattr(settings, "WEBHOOK_LEASE_SECONDS", DEFAULT_LEASE_SECONDS))


def _disable_after() -> datetime.timedelta:
    return datetime.timedelta(days=float(getattr(settings, "WEBHOOK_DISABLE_AFTER_DAYS", 3)))


def backoff(failures: int) -> datetime.timedelta:
    return min(datetime.timedelta(seconds=30 * 2 ** min(max(failures - 1, 0), 10)), MAX_BACKOFF)


def event_payload(event: Event) -> dict:
    """What a receiver is sent: ids, types and times, never personal data (it fetches through the API)."""
    link = LINKS.get(event.subject_type)
    return {
        "id": event.webhook_id, "type": event.type, "timestamp": event.occurred_at.isoformat(),
        "organization": event.organization_id, "sequence": event.sequence,
        "data": {"subject_type": event.subject_type, "subject_id": event.subject_id,
                 "link": link.format(event.subject_id) if link else None},
    }


def signed_request(endpoint: WebhookEndpoint, event: Event, *, now: datetime.datetime) -> tuple[bytes, dict]:
    """The body and the Standard Webhooks headers; during a secret rotation, signed with both secrets."""
    body = json.dumps(event_payload(event), separators=(",", ":"), sort_keys=True)
    secrets = [endpoint.secret]
    if endpoint.previous_secret and endpoint.previous_secret_until and endpoint.previous_secret_until > now:
        secrets.append(endpoint.previous_secret)
    signature = " ".join(Webhook(secret).sign(event.webhook_id, now, body) for secret in secrets)
    headers = {"content-type": "application/json", "user-agent": "mimamori-webhooks/1",
               "webhook-id": event.webhook_id, "webhook-timestamp": str(int(now.timestamp())),
               "webhook-signature": signature}
    return body.encode(), headers


@dataclass
class Report:
    delivered: int = 0
    failed: int = 0
    more: set[int] = field(default_factory=set)  # endpoints with deliveries left when the budget ran out

    def add(self, other: Report) -> None:
        self.delivered += other.delivered
        self.failed += other.failed
        self.more |= other.more


def _lease(endpoint_id: int, now: datetime.datetime) -> bool:
    due = Q(next_attempt_at__isnull=True) | Q(next_attempt_at__lte=now)
    free = Q(lease_until__isnull=True) | Q(lease_until__lt=now)
    return bool(WebhookEndpoint.objects.filter(due & free, pk=endpoint_id, status=EndpointStatus.ACTIVE)
                .update(lease_until=now + _lease_length()))


def _disable(endpoint: WebhookEndpoint, *, reason: str, now: datetime.datetime) -> None:
    with transaction.atomic():
        changed = WebhookEndpoint.objects.filter(pk=endpoint.pk).exclude(status=EndpointStatus.DISABLED).update(
            status=EndpointStatus.DISABLED, disabled_reason=reason, lease_until=None)
        if changed:
            logger.warning("webhook endpoint %s disabled: %s", endpoint.pk, reason)
            outbox_write(
                Message(reason=f"webhook:{endpoint.pk}:disabled:{int(now.timestamp())}", recipient_id=user.id,
                        recipient_email=user.email, event="webhook_disabled", subject_type="webhook",
                        subject_id=endpoint.pk, link=f"/api/v1/integrations/webhooks/{endpoint.pk}")
                for user in org_admins_of(organization_id=endpoint.organization_id))


def _send(endpoint: WebhookEndpoint, delivery: WebhookDelivery,
          session: TargetSession) -> tuple[int | None, str, str, int]:
    """(status or None, error code, answer excerpt, milliseconds), on the turn's kept-alive connection."""
    now = timezone.now()
    body, headers = signed_request(endpoint, delivery.event, now=now)
    started = _clock()
    try:
        status, answer = session.post(body=body, headers=headers)
        excerpt = answer.decode("utf-8", errors="replace")[:200]
        return status, "", excerpt, int((_clock() - started) * 1000)
    except TargetRefused as refused:
        return None, f"target_refused:{refused.args[0]}", "", int((_clock() - started) * 1000)
    except TimeoutError:
        return None, "timeout", "", int((_clock() - started) * 1000)
    except OSError as error:
        return None, type(error).__name__[:60], "", int((_clock() - started) * 1000)


@contextlib.contextmanager
def _commits_without_waiting_for_disk() -> Iterator[None]:
    """The claims, attempts and marks of a run commit without waiting for the WAL flush (PostgreSQL's
    `synchronous_commit = off`, this connection, this run only): a database crash can lose the last
    fraction of a second of them, which only makes those deliveries go again, with the same webhook-id —
    what a killed worker already does. Waiting for the disk three times per delivery cost more than the
    HTTP request."""
    if connection.vendor != "postgresql" or connection.in_atomic_block:
        yield
        return
    with connection.cursor() as cursor:
        cursor.execute("SET synchronous_commit TO off")
    try:
        yield
    finally:
        with connection.cursor() as cursor:
            cursor.execute("RESET synchronous_commit")


def _mark_delivered(delivery: WebhookDelivery, *, claimed: datetime.datetime, status: int, excerpt: str,
                    duration: int) -> None:
    """The attempt's log row and the mark (conditional on this run's claim), together. On PostgreSQL one
    statement (a data-modifying WITH: atomic on its own, one round trip instead of four with BEGIN and
    COMMIT); elsewhere one transaction."""
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute(
                f"WITH marked AS (UPDATE {WebhookDelivery._meta.db_table} SET delivered_at = %s, last_status = %s, "
                "claimed_at = NULL WHERE id = %s AND claimed_at = %s RETURNING id) "
                f"INSERT INTO {WebhookAttempt._meta.db_table} (delivery_id, at, status, error, excerpt, duration_ms) "
                "VALUES (%s, %s, %s, '', %s, %s)",
                [timezone.now(), status, delivery.pk, claimed, delivery.pk, claimed, status, excerpt, duration])
        return
    with transaction.atomic():
        WebhookAttempt.objects.create(delivery=delivery, at=claimed, status=status, error="", excerpt=excerpt,
                                      duration_ms=duration)
        WebhookDelivery.objects.filter(pk=delivery.pk, claimed_at=claimed).update(
            delivered_at=timezone.now(), last_status=status, claimed_at=None)


def endpoint_deliver(*, endpoint_id: int, deadline: float, turn: int = TURN) -> Report:
    with _commits_without_waiting_for_disk():
        return _endpoint_deliver(endpoint_id=endpoint_id, deadline=deadline, turn=turn)


def _endpoint_deliver(*, endpoint_id: int, deadline: float, turn: int) -> Report:
    """Send this endpoint's pending deliveries in order until one fails, `turn` are sent or time is up."""
    report = Report()
    now = timezone.now()
    if not _lease(endpoint_id, now):
        return report
    endpoint = WebhookEndpoint.objects.get(pk=endpoint_id)
    session = TargetSession(endpoint.url, timeout=_timeout())
    try:
        pending = list(WebhookDelivery.objects.select_related("event").filter(
            endpoint_id=endpoint_id, delivered_at__isnull=True).order_by("sequence", "id")[:turn])
        for delivery in pending:
            if _clock() >= deadline:
                report.more.add(endpoint_id)
                break
            claimed = timezone.now()
            if not WebhookDelivery.objects.filter(pk=delivery.pk, delivered_at__isnull=True).update(
                    claimed_at=claimed, attempts=F("attempts") + 1):
                continue
            status, error, excerpt, duration = _send(endpoint, delivery, session)
            if status is not None and 200 <= status < 300:
                _mark_delivered(delivery, claimed=claimed, status=status, excerpt=excerpt, duration=duration)
                report.delivered += 1
                if endpoint.consecutive_failures or endpoint.failing_since:
                    WebhookEndpoint.objects.filter(pk=endpoint_id).update(
                        consecutive_failures=0, failing_since=None, next_attempt_at=None)
                    endpoint.consecutive_failures, endpoint.failing_since = 0, None
                continue
            report.failed += 1
            WebhookAttempt.objects.create(delivery=delivery, at=claimed, status=status, error=error, excerpt=excerpt,
                                          duration_ms=duration)
            WebhookDelivery.objects.filter(pk=delivery.pk, claimed_at=claimed).update(
                last_status=status, claimed_at=None)
            failed_at = timezone.now()
            if status == 410:
                _disable(endpoint, reason="gone", now=failed_at)
                break
            failing_since = endpoint.failing_since or failed_at
            failures = endpoint.consecutive_failures + 1
            WebhookEndpoint.objects.filter(pk=endpoint_id).update(
                consecutive_failures=failures, failing_since=failing_since,
                next_attempt_at=failed_at + backoff(failures))
            if failed_at - failing_since >= _disable_after():
                _disable(endpoint, reason="failing", now=failed_at)
            break
        else:
            if len(pending) == turn:
                report.more.add(endpoint_id)
    finally:
        session.close()
        WebhookEndpoint.objects.filter(pk=endpoint_id).update(lease_until=None)
    return report


def endpoints_deliver(*, endpoint_ids: list[int], budget: float = BUDGET_SECONDS) -> Report:
    """Turns over these endpoints (one turn each, round and round) until all are done or the budget is spent."""
    deadline = _clock() + budget
    report = Report()
    queue = list(dict.fromkeys(endpoint_ids))
    while queue and _clock() < deadline:
        turn = Report()
        for endpoint_id in queue:
            if _clock() >= deadline:
                turn.more.add(endpoint_id)
                continue
            turn.add(endpoint_deliver(endpoint_id=endpoint_id, deadline=deadline))
        report.delivered += turn.delivered
        report.failed += turn.failed
        queue = sorted(turn.more)
    report.more = set(queue)
    return report


def endpoints_due(*, now: datetime.datetime | None = None) -> list[int]:
    """Active endpoints with something to send and not backing off, those waiting longest first."""
    now = now or timezone.now()
    due = Q(next_attempt_at__isnull=True) | Q(next_attempt_at__lte=now)
    pending = WebhookDelivery.objects.filter(delivered_at__isnull=True).values("endpoint_id")
    return list(WebhookEndpoint.objects.filter(due, status=EndpointStatus.ACTIVE, id__in=pending)
                .order_by(F("next_attempt_at").asc(nulls_first=True), "id").values_list("id", flat=True)[:500])


def webhooks_deliver_due(*, budget: float = BUDGET_SECONDS) -> Report:
    """The sweep: every due endpoint, round and round, within the budget."""
    return endpoints_deliver(endpoint_ids=endpoints_due(), budget=budget)
