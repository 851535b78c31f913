"""Celery tasks for the outbox: thin, id-based, safe to run twice (see delivery.py)."""

from celery import shared_task
from django.db import DatabaseError

from notifications.delivery import outbox_deliver as deliver
from notifications.delivery import outbox_deliver_due

RETRY = {"max_retries": 5, "autoretry_for": (DatabaseError,), "retry_backoff": 2, "retry_backoff_max": 60,
         "retry_jitter": True, "acks_late": True, "reject_on_worker_lost": True}


@shared_task(name="notifications.tasks.outbox_deliver", **RETRY)
def outbox_deliver(ids: list[int]) -> int:
    """Deliver these messages now (enqueued after the commit that wrote them)."""
    return deliver(ids=[int(i) for i in ids][:1000]).delivered


@shared_task(name="notifications.tasks.outbox_sweep", **RETRY)
def outbox_sweep() -> int:
    """Beat: deliver whatever is still undelivered (a lost message, a broker restart, an e-mail to retry)."""
    return outbox_deliver_due().delivered
