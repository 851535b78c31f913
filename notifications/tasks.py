"""Celery tasks for the outbox: thin, id-based, safe to run twice (see delivery.py).

Fresh deliveries go to `urgent` (or `default`) right after the commit that wrote them; the
redelivery sweep runs on `default`, bounded by a time budget, and enqueues nothing, so a backlog of
old rows never stands in front of a new safety check on `urgent`.
"""

from celery import shared_task
from django.conf import settings

from notifications import delivery
from notifications.outbox import outbox_requeue


@shared_task(name="notifications.tasks.outbox_deliver", **settings.TASK_RETRY)
def outbox_deliver(ids: list[int]) -> int:
    """Deliver these messages now (enqueued after the commit that wrote them); what the time budget
    did not reach goes back to the end of its queue."""
    report = delivery.outbox_deliver(ids=[int(i) for i in ids][:1000])
    if report.remaining:
        outbox_requeue(report.remaining)
    return report.delivered


@shared_task(name="notifications.tasks.outbox_sweep", **settings.TASK_RETRY)
def outbox_sweep() -> int:
    """Beat: redeliver what is still undelivered (a lost message, a broker restart, an e-mail to retry)."""
    return delivery.outbox_deliver_due().delivered
