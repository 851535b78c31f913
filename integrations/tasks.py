"""Celery tasks for webhooks: thin, id-based, safe to run twice (see delivery.py).

Fresh deliveries (`webhooks_deliver`, enqueued after the commit that wrote them) are sent at once. The
sweep redelivers what is due after a back-off, a lost task or a dead worker's lease: a backlog, so it runs
on `bulk` and sends for BULK_WORK_PERCENT of its beat interval, never more than the delivery budget.
"""

from celery import shared_task
from django.conf import settings

from integrations import delivery, events, heartbeat


def sweep_budget_seconds() -> float:
    """How long one sweep sends: the operator's share of the interval between two sweeps."""
    share = settings.WEBHOOKS_SWEEP_SECONDS * settings.BULK_WORK_PERCENT / 100
    return min(delivery.BUDGET_SECONDS, share)


@shared_task(name="integrations.tasks.webhooks_deliver", **settings.TASK_RETRY)
def webhooks_deliver(endpoint_ids: list[int]) -> int:
    """Send to these endpoints now (enqueued after the commit that wrote their deliveries); endpoints with
    more to send when the time budget ends go back to the end of the queue."""
    report = delivery.endpoints_deliver(endpoint_ids=[int(i) for i in endpoint_ids][:500])
    if report.more:
        from integrations.events import enqueue_webhooks

        enqueue_webhooks(sorted(report.more))
    return report.delivered


@shared_task(name="integrations.tasks.webhooks_sweep", **settings.TASK_RETRY)
def webhooks_sweep() -> int:
    """Beat: send what is due (after a back-off, a lost task, a killed worker's lease), paced."""
    return delivery.webhooks_deliver_due(budget=sweep_budget_seconds()).delivered


@shared_task(name="integrations.tasks.webhooks_heartbeat", **settings.TASK_RETRY)
def webhooks_heartbeat() -> int:
    """Beat (every WEBHOOK_HEARTBEAT_SECONDS): a heartbeat to each idle endpoint subscribed to them."""
    return heartbeat.heartbeats_send().sent


@shared_task(name="integrations.tasks.consent_boundaries_announce", **settings.TASK_RETRY)
def consent_boundaries_announce() -> int:
    """Beat: consent periods that started or ended since the last run, announced to the organisations holding
    the resident (once per boundary and organisation; safe to run twice)."""
    return events.consent_boundaries_announce()
