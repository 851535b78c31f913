"""Celery tasks for webhooks: thin, id-based, safe to run twice (see delivery.py)."""

from celery import shared_task
from django.db import DatabaseError

from integrations.delivery import endpoints_deliver, webhooks_deliver_due
from integrations.events import consent_boundaries_announce
from integrations.heartbeat import heartbeats_send

RETRY = {"max_retries": 5, "autoretry_for": (DatabaseError,), "retry_backoff": 2, "retry_backoff_max": 60,
         "retry_jitter": True, "acks_late": True, "reject_on_worker_lost": True}


@shared_task(name="integrations.tasks.webhooks_deliver", **RETRY)
def webhooks_deliver(endpoint_ids: list[int]) -> int:
    """Send to these endpoints now (enqueued after the commit that wrote their deliveries); endpoints with
    more to send when the time budget ends go back to the end of the queue."""
    report = endpoints_deliver(endpoint_ids=[int(i) for i in endpoint_ids][:500])
    if report.more:
        from integrations.events import enqueue_webhooks

        enqueue_webhooks(sorted(report.more))
    return report.delivered


@shared_task(name="integrations.tasks.webhooks_sweep", **RETRY)
def webhooks_sweep() -> int:
    """Beat: send what is due (after a back-off, a lost task, a killed worker's lease)."""
    return webhooks_deliver_due().delivered


@shared_task(name="integrations.tasks.webhooks_heartbeat", **RETRY)
def webhooks_heartbeat() -> int:
    """Beat (every WEBHOOK_HEARTBEAT_SECONDS): a heartbeat to each idle endpoint subscribed to them."""
    return heartbeats_send().sent


@shared_task(name="integrations.tasks.consent_boundaries_announce", **RETRY)
def consent_boundaries() -> int:
    """Beat: consent periods that started or ended since the last run, announced to the organisations holding
    the resident (once per boundary and organisation; safe to run twice)."""
    return consent_boundaries_announce()
