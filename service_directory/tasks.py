"""The directory's periodic work: ask organisations to re-verify listings that are getting old.

Beat runs it hourly on `bulk`; it is safe to run twice or concurrently (a task opens once per listing
and assured date), and acks on receipt like the other unbounded housekeeping sweeps.
"""

from celery import shared_task
from django.conf import settings

from service_directory import services


@shared_task(name="service_directory.tasks.listings_reverification_sweep", **settings.TASK_RETRY, acks_late=False)
def listings_reverification_sweep() -> int:
    """Open re-verification tasks for listings not assured within DIRECTORY_REVERIFY_AFTER_MONTHS."""
    return services.listings_reverification_sweep()
