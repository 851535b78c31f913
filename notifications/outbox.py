"""Writing to the outbox: inside the caller's transaction; delivery is enqueued only after commit.

If the broker is down the enqueue fails after the commit: that failure is
logged and swallowed (the change is already stored, and the beat sweep
delivers the message later). After a failure, enqueues are skipped for a few
seconds so a dead broker does not slow every request down.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass

from django.db import transaction

from notifications.models import Channel, OutboxMessage

logger = logging.getLogger("notifications.outbox")

ENQUEUE_CHUNK = 500
BROKER_BACKOFF_SECONDS = 10.0
_broker_down_until = 0.0


@dataclass(frozen=True)
class Message:
    """One announcement to one user; `reason` makes the key unique (e.g. "task:17:escalation:1")."""

    reason: str
    recipient_id: int
    recipient_email: str
    event: str
    subject_type: str
    subject_id: int
    link: str
    urgent: bool = False


# Called with every batch of messages inside the writer's transaction (the integrations register one that
# turns them into their organisations' events), so whatever they write commits or rolls back with the change.
outbox_listeners: list[Callable[[list[Message]], None]] = []


@dataclass(frozen=True)
class OrganizationNotice:
    """A change announced to organisations, not to a person: no one is notified in the app or by e-mail;
    the listeners (the integrations' events) tell each organisation's machines, once per `reason` and
    organisation. Ids and types only."""

    reason: str
    organization_ids: tuple[int, ...]
    event: str
    subject_type: str
    subject_id: int


organization_listeners: list[Callable[[list[OrganizationNotice]], None]] = []


def outbox_announce(notices: Iterable[OrganizationNotice]) -> None:
    """Hand organisation notices to the listeners, inside the caller's transaction (what they write commits
    or rolls back with the change; what they send leaves after the commit)."""
    notices = [n for n in notices if n.organization_ids]
    if notices:
        for listener in organization_listeners:
            listener(notices)


def outbox_write(messages: Iterable[Message]) -> list[int]:
    """Store the messages (in-app, and e-mail when the user has an address) once per key; deliver after commit."""
    messages = list(messages)
    for listener in outbox_listeners:
        listener(messages)
    rows = []
    for m in messages:
        channels = [Channel.IN_APP] + ([Channel.EMAIL] if m.recipient_email else [])
        for channel in channels:
            rows.append(OutboxMessage(
                key=f"{m.reason}:u{m.recipient_id}:{channel}", channel=channel, recipient_id=m.recipient_id,
                event=m.event, subject_type=m.subject_type, subject_id=m.subject_id, link=m.link, urgent=m.urgent,
            ))
    if not rows:
        return []
    OutboxMessage.objects.bulk_create(rows, ignore_conflicts=True, batch_size=1000)
    keys = [row.key for row in rows]
    pending = list(
        OutboxMessage.objects.filter(key__in=keys, delivered_at__isnull=True).values_list("id", "urgent")
    )
    urgent = [pk for pk, is_urgent in pending if is_urgent]
    routine = [pk for pk, is_urgent in pending if not is_urgent]
    for ids, queue in ((urgent, "urgent"), (routine, "default")):
        for start in range(0, len(ids), ENQUEUE_CHUNK):
            chunk = ids[start:start + ENQUEUE_CHUNK]
            transaction.on_commit(lambda chunk=chunk, queue=queue: enqueue_delivery(chunk, queue=queue))
    return [pk for pk, _ in pending]


def outbox_requeue(ids: list[int]) -> None:
    """Put messages a delivery run did not reach back at the end of their queue (urgent or default),
    so the messages enqueued after them get a worker in turn. A failed enqueue leaves them to the sweep."""
    urgent = set(OutboxMessage.objects.filter(id__in=ids, urgent=True).values_list("id", flat=True))
    for chunk, queue in (([i for i in ids if i in urgent], "urgent"), ([i for i in ids if i not in urgent], "default")):
        if chunk:
            enqueue_delivery(chunk, queue=queue)


def enqueue_delivery(ids: list[int], *, queue: str) -> bool:
    """Ask a worker to deliver these messages now. Never raises: the sweep is the safety net."""
    global _broker_down_until
    if time.monotonic() < _broker_down_until:
        return False
    try:
        from notifications.tasks import outbox_deliver

        outbox_deliver.apply_async(
            args=[ids], queue=queue, retry=True,
            retry_policy={"max_retries": 1, "interval_start": 0, "interval_step": 0.2, "interval_max": 0.2},
        )
        return True
    except Exception as error:  # the broker is down or unreachable: the beat sweep delivers later
        _broker_down_until = time.monotonic() + BROKER_BACKOFF_SECONDS
        logger.warning("outbox enqueue failed (%s); %d message(s) wait for the sweep", type(error).__name__,
                       len(ids))
        return False
