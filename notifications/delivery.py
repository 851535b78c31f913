"""Delivering outbox messages: each exactly once in the app; each e-mail once, except the one send
a dying worker had in flight.

In-app: a batch of rows is claimed with `SELECT … FOR UPDATE SKIP LOCKED`, becomes `Notification`s
(unique key: a redelivery cannot make a second) and is marked delivered in the same transaction.

E-mail, one row at a time, each step its own short transaction:
1. claim: lock the row (skip locked), set `claimed_at`, count the attempt, commit;
2. send it (one SMTP connection per run, every SMTP step bounded by `send_timeout()`), with the
   row's key as its Message-ID (`messages.email_message_id`);
3. mark: a conditional update on (id, claimed_at) sets `delivered_at`, commit; then the next row.
A worker killed between 1 and 3 leaves exactly one row claimed and unmarked. Once that claim is
older than `claim_lease()` a later run sends it again and logs it as a possible repeat: that row,
the send in flight, is the only e-mail a crash can repeat, and it carries the same Message-ID.
Rows already marked are never sent again; rows not yet claimed were never sent. A failed send
clears the claim and backs off (30 s doubling, at most 1 h).

A run is bounded by a time budget; ids it did not reach are returned (`remaining`) so the caller
can put them back at the end of their queue instead of holding a worker.
"""

from __future__ import annotations

import datetime
import logging
import time
from dataclasses import dataclass, field

from django.conf import settings
from django.core.mail import EmailMessage, get_connection
from django.db import transaction
from django.db.models import F, Q
from django.utils import timezone

from notifications.messages import email_body, email_message_id, email_subject
from notifications.models import Channel, Notification, OutboxMessage

logger = logging.getLogger("notifications.delivery")

BATCH = 500
EMAIL_BATCH = 100
DELIVER_BUDGET_SECONDS = 5.0
SWEEP_BUDGET_SECONDS = 5.0
MAX_BACKOFF = datetime.timedelta(hours=1)
DEFAULT_SEND_TIMEOUT = 20.0
DEFAULT_CLAIM_LEASE_SECONDS = 300
_clock = time.monotonic


def send_timeout() -> float:
    """Seconds any one SMTP step may take (Django's EMAIL_TIMEOUT, else 20 s): a send never hangs a worker."""
    return float(settings.EMAIL_TIMEOUT or DEFAULT_SEND_TIMEOUT)


def claim_lease() -> datetime.timedelta:
    """How old an unfinished claim must be before another run may send the row again: longer than any
    live send can take (connect, greeting and the four steps of one message, each within the timeout),
    so only a dead worker's claim is taken over. OUTBOX_EMAIL_CLAIM_LEASE_SECONDS overrides it."""
    return datetime.timedelta(seconds=getattr(settings, "OUTBOX_EMAIL_CLAIM_LEASE_SECONDS",
                                              DEFAULT_CLAIM_LEASE_SECONDS))


@dataclass
class DeliveryReport:
    delivered: int = 0
    failed: int = 0
    claimed: int = 0
    reclaimed: int = 0  # e-mails sent again after a claim a dead worker left: possible repeats
    more: bool = False  # a full batch was found: more may be due
    remaining: list[int] = field(default_factory=list)  # e-mail ids not reached within the time budget

    def add(self, other: DeliveryReport) -> None:
        self.delivered += other.delivered
        self.failed += other.failed
        self.claimed += other.claimed
        self.reclaimed += other.reclaimed


def _backoff(attempts: int) -> datetime.timedelta:
    return min(datetime.timedelta(seconds=30 * 2 ** min(attempts, 10)), MAX_BACKOFF)


def _undelivered(ids: list[int] | None, now: datetime.datetime):
    rows = OutboxMessage.objects.filter(delivered_at__isnull=True)
    return rows.filter(id__in=ids) if ids is not None else rows.filter(available_at__lte=now)


def _claimable(now: datetime.datetime) -> Q:
    return Q(claimed_at__isnull=True) | Q(claimed_at__lt=now - claim_lease())


def outbox_deliver(*, ids: list[int] | None = None, now: datetime.datetime | None = None, limit: int = BATCH,
                   email_limit: int = EMAIL_BATCH, time_budget: float | None = None) -> DeliveryReport:
    """Deliver these undelivered messages (or, without ids, the oldest that are due): the in-app ones
    in one transaction, then the e-mails one send at a time until the time budget is spent."""
    now = now or timezone.now()
    deadline = _clock() + (DELIVER_BUDGET_SECONDS if time_budget is None else time_budget)
    if ids is not None:
        limit = email_limit = len(ids)
    report = DeliveryReport()
    _in_app_deliver(ids=ids, now=now, limit=limit, report=report)
    _emails_send(ids=ids, now=now, limit=email_limit, deadline=deadline, report=report)
    return report


def _in_app_deliver(*, ids: list[int] | None, now: datetime.datetime, limit: int, report: DeliveryReport) -> None:
    with transaction.atomic():
        rows = list(_undelivered(ids, now).filter(channel=Channel.IN_APP).select_for_update(skip_locked=True)
                    .order_by("available_at", "id")[:limit])
        if not rows:
            return
        Notification.objects.bulk_create(
            [Notification(key=r.key, user_id=r.recipient_id, event=r.event, subject_type=r.subject_type,
                          subject_id=r.subject_id, link=r.link, created_at=now) for r in rows],
            ignore_conflicts=True,
        )
        report.claimed += len(rows)
        report.more = report.more or len(rows) == limit
        report.delivered += OutboxMessage.objects.filter(
            id__in=[r.id for r in rows], delivered_at__isnull=True).update(delivered_at=now, attempts=F("attempts") + 1)


def _emails_send(*, ids: list[int] | None, now: datetime.datetime, limit: int, deadline: float,
                 report: DeliveryReport) -> None:
    candidates = list(_undelivered(ids, now).filter(_claimable(now), channel=Channel.EMAIL)
                      .order_by("available_at", "id").values_list("id", flat=True)[:limit])
    report.more = report.more or len(candidates) == limit
    connection = None
    try:
        for position, row_id in enumerate(candidates):
            if _clock() > deadline:
                report.remaining = candidates[position:]
                return
            row, reclaimed = _email_claim(row_id=row_id, now=now)
            if row is None:  # delivered, claimed or locked by another run meanwhile
                continue
            report.claimed += 1
            report.reclaimed += reclaimed
            connection = connection or get_connection(timeout=send_timeout())
            if _email_send_one(row=row, now=now, connection=connection, report=report):
                continue
            connection.close()  # a failed send may leave the SMTP session broken: reopen for the next row
    finally:
        if connection is not None:
            connection.close()


def _email_claim(*, row_id: int, now: datetime.datetime) -> tuple[OutboxMessage | None, bool]:
    """Step 1: claim one row in its own transaction (skip locked, conditional on still being claimable).
    The flag says the row carried a claim a dead worker left: this send may be a repeat."""
    with transaction.atomic():
        row = (OutboxMessage.objects.select_for_update(skip_locked=True, of=("self",)).select_related("recipient")
               .filter(_claimable(now), id=row_id, delivered_at__isnull=True).first())
        if row is None:
            return None, False
        reclaimed = row.claimed_at is not None
        if reclaimed:
            logger.warning("e-mail for outbox %s: the claim of %s never finished; sending again (possible repeat)",
                           row.id, row.claimed_at.isoformat())
        row.claimed_at = timezone.now()
        row.attempts += 1
        row.save(update_fields=["claimed_at", "attempts"])
    return row, reclaimed


def _email_send_one(*, row: OutboxMessage, now: datetime.datetime, connection, report: DeliveryReport) -> bool:
    """Steps 2 and 3: send, then mark sent (conditional on our claim). False when the send failed."""
    mine = OutboxMessage.objects.filter(id=row.id, claimed_at=row.claimed_at, delivered_at__isnull=True)
    address = row.recipient.email
    if address:
        message = EmailMessage(
            email_subject(event=row.event, subject_type=row.subject_type, subject_id=row.subject_id),
            email_body(event=row.event, subject_type=row.subject_type, subject_id=row.subject_id, link=row.link),
            to=[address], headers={"Message-ID": email_message_id(row.key)}, connection=connection,
        )
        try:
            connection.open()  # once per run: opened here, the session stays open across sends until closed
            message.send()
        except Exception as error:  # an SMTP failure: release the claim and back off; a later run retries
            report.failed += 1
            logger.warning("e-mail for outbox %s failed: %s", row.id, type(error).__name__)
            mine.update(claimed_at=None, available_at=now + _backoff(row.attempts - 1),
                        last_error=type(error).__name__[:200])
            return False
    marked = mine.update(delivered_at=timezone.now(), last_error="" if address else "no address")
    if not marked:
        logger.warning("e-mail for outbox %s: sent, but its claim was taken over (the send outlived the lease)",
                       row.id)
    report.delivered += marked
    return True


def outbox_deliver_due(*, now: datetime.datetime | None = None, batch: int = BATCH, email_batch: int = EMAIL_BATCH,
                       time_budget: float | None = None) -> DeliveryReport:
    """The redelivery sweep: what is due and undelivered, oldest first, batch by batch, until none is
    left or the time budget is spent. Bounded, so it never holds a worker for long; it enqueues nothing."""
    budget = SWEEP_BUDGET_SECONDS if time_budget is None else time_budget
    total = DeliveryReport()
    started = _clock()
    while True:
        left = budget - (_clock() - started)
        report = outbox_deliver(now=now or timezone.now(), limit=batch, email_limit=email_batch,
                                time_budget=max(left, 0.0))
        total.add(report)
        if not report.more or report.remaining or report.delivered == 0 or _clock() - started > budget:
            total.more = report.more or bool(report.remaining)
            return total
