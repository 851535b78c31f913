"""Organisations' events: written in the transaction of the change, numbered without gaps, delivered later.

The change's services already announce it through the outbox (`notifications.outbox.outbox_write`, in
their transaction); `events_from_messages` listens there (registered by the app) and turns each
announcement into one event per organisation one of whose people is told: a referral received or
changed, a task assigned, escalated, reminded of or closed. Changes announced to organisations rather than
to people (`notifications.outbox.outbox_announce`) become one event per organisation named:
`events_from_notices` — consent changed for a resident the organisation holds (before or after the change;
a period that starts or ends with no one writing is announced by `consent_boundaries_announce`), a partner's
report routed (to the reporting partner: that it was routed, never to whom). Events carry types and ids only.

Per organisation the sequence is gap-free: a writer locks the organisation's counter row, takes the next
numbers and holds the lock until its commit, so a reader of the feed never sees number n+1 before n, and a
rolled-back change leaves no hole. Each event becomes one delivery per endpoint of the organisation that
subscribed to its type (active or paused), and after the commit a worker is asked to send them.
"""

from __future__ import annotations

import datetime
import logging
import time
from collections.abc import Iterable
from dataclasses import dataclass

from django.db import transaction
from django.db.models import F, Q
from django.utils import timezone

from cases.models import Consent, Membership
from integrations.models import (
    EndpointStatus,
    Event,
    EventCounter,
    EventType,
    SweepMark,
    WebhookDelivery,
    WebhookEndpoint,
)
from notifications.outbox import Message, OrganizationNotice
from permissions.access import organizations_holding

logger = logging.getLogger("integrations.events")

# Outbox events (what a person is told) → the organisation's event type.
FROM_OUTBOX = {
    "referral_requested": EventType.REFERRAL_RECEIVED,
    "referral_updated": EventType.REFERRAL_CHANGED,
    "task_assigned": EventType.TASK_ASSIGNED,
    "task_escalated": EventType.TASK_ESCALATED,
    "task_reminder": EventType.TASK_REMINDER,
    "task_acknowledged": EventType.TASK_CHANGED,
    "task_completed": EventType.TASK_CHANGED,
    "task_cancelled": EventType.TASK_CHANGED,
}
# Organisation notices (what an organisation's machines are told) → the event type.
FROM_NOTICES = {
    "consent_changed": EventType.CONSENT_CHANGED,
    "partner_report_routed": EventType.PARTNER_REPORT_ROUTED,
}


@dataclass(frozen=True)
class NewEvent:
    organization_id: int
    key: str
    type: str
    subject_type: str
    subject_id: int


def events_from_messages(messages: list[Message]) -> None:
    """The outbox listener: the organisations told of a change get its event (once per change and organisation)."""
    wanted = [m for m in messages if m.event in FROM_OUTBOX]
    if not wanted:
        return
    organizations: dict[int, set[int]] = {}
    for user_id, organization_id in Membership.objects.active().filter(
            user_id__in={m.recipient_id for m in wanted}).values_list("user_id", "organization_id"):
        organizations.setdefault(user_id, set()).add(organization_id)
    found: dict[str, NewEvent] = {}
    for m in wanted:
        for organization_id in sorted(organizations.get(m.recipient_id, ())):
            key = f"{m.reason}:o{organization_id}"
            found.setdefault(key, NewEvent(organization_id, key, FROM_OUTBOX[m.event], m.subject_type, m.subject_id))
    events_record(events=list(found.values()))


def events_from_notices(notices: list[OrganizationNotice]) -> None:
    """The outbox's organisation listener: each organisation a notice names gets its event, once per notice."""
    found: dict[str, NewEvent] = {}
    for notice in notices:
        event_type = FROM_NOTICES.get(notice.event)
        if event_type is None:
            continue
        for organization_id in sorted(set(notice.organization_ids)):
            key = f"{notice.reason}:o{organization_id}"
            found.setdefault(key, NewEvent(organization_id, key, event_type, notice.subject_type, notice.subject_id))
    events_record(events=list(found.values()))


def events_record(*, events: Iterable[NewEvent]) -> list[Event]:
    """Write these events (a key already written is skipped) and their deliveries, in the caller's transaction."""
    events = list(events)
    if not events:
        return []
    with transaction.atomic():
        known = set(Event.objects.filter(key__in=[e.key for e in events]).values_list("key", flat=True))
        fresh: dict[int, list[NewEvent]] = {}
        for event in events:
            if event.key not in known:
                known.add(event.key)
                fresh.setdefault(event.organization_id, []).append(event)
        if not fresh:
            return []
        organization_ids = sorted(fresh)
        EventCounter.objects.bulk_create([EventCounter(organization_id=o) for o in organization_ids],
                                         ignore_conflicts=True)
        counters = {c.organization_id: c for c in
                    EventCounter.objects.select_for_update().filter(organization_id__in=organization_ids)
                    .order_by("organization_id")}
        now = timezone.now()
        rows = []
        for organization_id in organization_ids:
            counter = counters[organization_id]
            for event in fresh[organization_id]:
                counter.last_sequence += 1
                rows.append(Event(organization_id=organization_id, sequence=counter.last_sequence, key=event.key,
                                  type=event.type, subject_type=event.subject_type, subject_id=event.subject_id,
                                  occurred_at=now))
        EventCounter.objects.bulk_update(list(counters.values()), ["last_sequence"])
        Event.objects.bulk_create(rows)
        stored = list(Event.objects.filter(key__in=[row.key for row in rows]).order_by("organization_id", "sequence"))
        endpoints = deliveries_create(events=stored)
    if endpoints:
        transaction.on_commit(lambda: enqueue_webhooks(sorted(endpoints)))
    return stored


def deliveries_create(*, events: list[Event], endpoint_ids: Iterable[int] | None = None) -> set[int]:
    """One pending delivery per event and subscribed endpoint (active or paused); the endpoints concerned."""
    organization_ids = {event.organization_id for event in events}
    endpoints = WebhookEndpoint.objects.filter(organization_id__in=organization_ids)
    if endpoint_ids is None:
        endpoints = endpoints.filter(status__in=[EndpointStatus.ACTIVE, EndpointStatus.PAUSED])
    else:
        endpoints = endpoints.filter(id__in=list(endpoint_ids))
    by_organization: dict[int, list[WebhookEndpoint]] = {}
    for endpoint in endpoints:
        by_organization.setdefault(endpoint.organization_id, []).append(endpoint)
    deliveries = [
        WebhookDelivery(endpoint=endpoint, event=event, sequence=event.sequence)
        for event in events for endpoint in by_organization.get(event.organization_id, ())
        if event.type in endpoint.event_types
    ]
    WebhookDelivery.objects.bulk_create(deliveries, ignore_conflicts=True, batch_size=1000)
    return {d.endpoint_id for d in deliveries}


CONSENT_SWEEP = "consent_boundaries"
CONSENT_SWEEP_FIRST_LOOKBACK = datetime.timedelta(days=1)
CONSENT_SWEEP_BATCH = 500
_JUST_BEFORE = datetime.timedelta(microseconds=1)


def consent_boundaries_announce(*, now: datetime.datetime | None = None, batch: int = CONSENT_SWEEP_BATCH) -> int:
    """The sweep for consent periods that start or end with no one writing (a dated consent beginning, a
    period running out): for each boundary since the last run, the organisations holding the resident just
    before it or at it get `consent.changed` once (key `consent:<id>:started|ended:o<org>`, so a sweep run
    twice, or a boundary seen twice, writes nothing more). A consent withdrawn before its end has no end to
    announce (its withdrawal was). The first run looks back a day. How many boundaries it looked at."""
    now = now or timezone.now()
    with transaction.atomic():
        SweepMark.objects.get_or_create(name=CONSENT_SWEEP,
                                        defaults={"until": now - CONSENT_SWEEP_FIRST_LOOKBACK})
        mark = SweepMark.objects.select_for_update().get(name=CONSENT_SWEEP)
        since = mark.until
        ended = list(Consent.objects.filter(valid_until__gt=since, valid_until__lte=now)
                     .filter(Q(withdrawn_at__isnull=True) | Q(withdrawn_at__gt=F("valid_until")))
                     .order_by("valid_until", "id").values_list("valid_until", "id", "resident_id")[:batch])
        started = list(Consent.objects.filter(valid_from__gt=since, valid_from__lte=now)
                       .filter(valid_from__gt=F("taken_at")).exclude(withdrawn_at__lte=F("valid_from"))
                       .order_by("valid_from", "id").values_list("valid_from", "id", "resident_id")[:batch])
        boundaries = sorted([(*row, "ended") for row in ended] + [(*row, "started") for row in started])
        truncated = len(ended) == batch or len(started) == batch
        boundaries = boundaries[:batch]
        events = []
        for at, consent_id, resident_id, change in boundaries:
            held = (organizations_holding(resident_id=resident_id, at=at - _JUST_BEFORE)
                    | organizations_holding(resident_id=resident_id, at=at))
            events += [NewEvent(o, f"consent:{consent_id}:{change}:o{o}", EventType.CONSENT_CHANGED, "resident",
                                resident_id) for o in sorted(held)]
        events_record(events=events)
        mark.until = boundaries[-1][0] - _JUST_BEFORE if truncated else now
        mark.save(update_fields=["until"])
    return len(boundaries)


BROKER_BACKOFF_SECONDS = 10.0
_broker_down_until = 0.0


def enqueue_webhooks(endpoint_ids: list[int]) -> bool:
    """Ask a worker to send to these endpoints now. Never raises: the sweep is the safety net. After a failed
    enqueue, enqueues are skipped for a few seconds (as the outbox does), so a dead broker slows no request."""
    global _broker_down_until
    if time.monotonic() < _broker_down_until:
        return False
    try:
        from integrations.tasks import webhooks_deliver

        webhooks_deliver.apply_async(
            args=[endpoint_ids], queue="default", retry=True,
            retry_policy={"max_retries": 1, "interval_start": 0, "interval_step": 0.2, "interval_max": 0.2})
        return True
    except Exception as error:  # the broker is down: the sweep sends them
        _broker_down_until = time.monotonic() + BROKER_BACKOFF_SECONDS
        logger.warning("webhook enqueue failed (%s); %d endpoint(s) wait for the sweep", type(error).__name__,
                       len(endpoint_ids))
        return False
