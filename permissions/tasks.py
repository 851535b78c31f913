"""Celery tasks of the access policy: thin, safe to run twice; they call `permissions.grants` and decide nothing."""

from celery import shared_task
from django.conf import settings

from permissions.memberships import memberships_sync_all


@shared_task(name="permissions.tasks.memberships_sync", **settings.TASK_RETRY)
def memberships_sync() -> int:
    """Align every active user's Django groups with their active memberships (a term starts or ends with no
    request to notice it); returns how many users changed. Reads decide from memberships at query time, so
    this only keeps guardian's own shortcuts in step."""
    return memberships_sync_all()
