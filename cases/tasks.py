"""Celery tasks: thin, id-based, safe to run twice. They call services; they decide nothing."""

from celery import shared_task

from permissions.grants import memberships_sync_all


@shared_task(name="cases.tasks.memberships_sync")
def memberships_sync() -> int:
    """Align Django groups with memberships whose term started or ended since the last run."""
    return memberships_sync_all()
