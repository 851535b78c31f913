"""The directory's periodic work: ask organisations to re-verify listings that are getting old.

Beat runs it hourly on `bulk`; it is safe to run twice or concurrently (a task opens once per listing
and assured date), and acks on receipt like the other unbounded housekeeping sweeps.
"""

from celery import shared_task
from django.db import DatabaseError

from service_directory.services import listings_reverification_sweep as sweep


@shared_task(name="service_directory.tasks.listings_reverification_sweep", max_retries=3,
             autoretry_for=(DatabaseError,), retry_backoff=2, retry_backoff_max=30, acks_late=False)
def listings_reverification_sweep() -> int:
    """Open re-verification tasks for listings not assured within DIRECTORY_REVERIFY_AFTER_MONTHS."""
    return sweep()
