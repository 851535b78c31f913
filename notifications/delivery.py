"""Delivering outbox messages: each exactly once in the app, at least once by e-mail.

Rows are claimed with `SELECT … FOR UPDATE SKIP LOCKED`, so two deliverers
(the after-commit task and the sweep, or two workers) never hold the same row.
An in-app message becomes a `Notification` whose key is unique, so even a
redelivery after a crash cannot create a second one; the row is marked
delivered with a conditional update in the same transaction. An e-mail is
sent while its row is locked and marked in the same transaction: a worker
killed between the send and the commit sends it again (at least once), which
is the only duplicate the outbox cannot rule out.
"""

from __future__ import annotations

import datetime
import logging
import time
from dataclasses import dataclass

from django.core.mail import send_mail
from django.db import transaction
from django.db.models import F
from django.utils import timezone

from notifications.messages import email_body, email_subject
from notifications.models import Channel, Notification, OutboxMessage

logger = logging.getLogger("notifications.delivery")

BATCH = 500
MAX_BACKOFF = datetime.timedelta(hours=1)


@dataclass
class DeliveryReport:
    delivered: int = 0
    failed: int = 0
    claimed: int = 0


def _backoff(attempts: int) -> datetime.timedelta:
    return min(datetime.timedelta(seconds=30 * 2 ** min(attempts, 10)), MAX_BACKOFF)


def outbox_deliver(*, ids: list[int] | None = None, now: datetime.datetime | None = None,
                   limit: int = BATCH) -> DeliveryReport:
    """Deliver these undelivered messages (or, without ids, the oldest that are due) in one transaction."""
    now = now or timezone.now()
    report = DeliveryReport()
    with transaction.atomic():
        rows = OutboxMessage.objects.select_for_update(skip_locked=True).filter(delivered_at__isnull=True)
        rows = rows.filter(id__in=ids) if ids is not None else rows.filter(available_at__lte=now)
        rows = list(rows.select_related("recipient").order_by("available_at", "id")[:limit])
        report.claimed = len(rows)
        delivered: list[int] = []
        in_app = [r for r in rows if r.channel == Channel.IN_APP]
        Notification.objects.bulk_create(
            [Notification(key=r.key, user_id=r.recipient_id, event=r.event, subject_type=r.subject_type,
                          subject_id=r.subject_id, link=r.link, created_at=now) for r in in_app],
            ignore_conflicts=True,
        )
        delivered += [r.id for r in in_app]
        for row in (r for r in rows if r.channel == Channel.EMAIL):
            try:
                send_mail(
                    email_subject(event=row.event, subject_type=row.subject_type, subject_id=row.subject_id),
                    email_body(event=row.event, subject_type=row.subject_type, subject_id=row.subject_id,
                               link=row.link),
                    None, [row.recipient.email],
                )
                delivered.append(row.id)
            except Exception as error:  # an SMTP failure: back off, the sweep retries
                report.failed += 1
                logger.warning("e-mail for outbox %s failed: %s", row.id, type(error).__name__)
                OutboxMessage.objects.filter(id=row.id, delivered_at__isnull=True).update(
                    attempts=F("attempts") + 1, available_at=now + _backoff(row.attempts),
                    last_error=type(error).__name__[:200],
                )
        if delivered:
            report.delivered = OutboxMessage.objects.filter(id__in=delivered, delivered_at__isnull=True).update(
                delivered_at=now, attempts=F("attempts") + 1
            )
    return report


def outbox_deliver_due(*, now: datetime.datetime | None = None, batch: int = BATCH,
                       time_budget: float = 20.0) -> DeliveryReport:
    """The sweep: deliver everything due, batch by batch, until none is left or the time budget is spent."""
    total = DeliveryReport()
    started = time.monotonic()
    while True:
        report = outbox_deliver(now=now or timezone.now(), limit=batch)
        total.delivered += report.delivered
        total.failed += report.failed
        total.claimed += report.claimed
        if report.claimed < batch or report.delivered == 0 or time.monotonic() - started > time_budget:
            return total
