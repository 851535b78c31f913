"""Celery tasks: thin, id-free sweeps, safe to run twice or concurrently (the work is re-derived from the database)."""

from celery import shared_task

from audit.chain import access_log_anchor, access_log_seal
from audit.retention import retention_run
from audit.rights import rights_reminders_send


@shared_task(name="audit.tasks.access_log_seal_sweep")
def access_log_seal_sweep() -> int:
    """Chain the entries written since the last run (one sealer at a time: the head row's lock)."""
    return access_log_seal()


@shared_task(name="audit.tasks.access_log_anchor_sweep")
def access_log_anchor_sweep() -> int | None:
    """Sign the chain head into the external anchor file (when configured); returns the anchored position."""
    anchor = access_log_anchor()
    return anchor.seq if anchor else None


@shared_task(name="audit.tasks.retention")
def retention() -> int:
    """Prune the access log and provision records past 3 years, anonymise cases closed 10 years ago."""
    return retention_run().pk


@shared_task(name="audit.tasks.rights_reminders")
def rights_reminders() -> int:
    """Remind privacy officers of rights requests whose 30-day deadline is a week away."""
    return rights_reminders_send()
