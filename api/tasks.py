"""Periodic housekeeping for API conventions."""

import datetime

from celery import shared_task
from django.utils import timezone

from api.models import IdempotencyRecord

IDEMPOTENCY_RETENTION = datetime.timedelta(days=7)


def idempotency_records_purge(*, now: datetime.datetime | None = None) -> int:
    """Forget keys older than a week: an offline phone retries within days, not weeks (a key holds no body)."""
    cutoff = (now or timezone.now()) - IDEMPOTENCY_RETENTION
    deleted, _ = IdempotencyRecord.objects.filter(created_at__lt=cutoff).delete()
    return deleted


@shared_task(name="api.tasks.idempotency_purge")
def idempotency_purge() -> int:
    return idempotency_records_purge()
