"""Celery tasks: thin, id-based, safe to run twice. They call services; they decide nothing.

The sweeps find their work in the database (deadlines live there), so a lost,
duplicated or late message changes nothing: the next beat finds the same work.
The escalation and partner-report sweeps that ran out of their time budget enqueue one
more run at once; the backlog sweeps on `bulk` run one chunk per message, paced (`paced`).
If an enqueue fails (broker down), the next beat picks up where it stopped.
"""

import logging
import time

from celery import shared_task
from django.conf import settings
from django.core.cache import cache

from audit.access_log import access_log_context
from cases.services import disaster, partner_reports
from cases.services.escalations import SweepResult, escalations_fire_due
from cases.services.visit_consent_sweeps import consents_expiring_open_tasks, visits_overdue_open_tasks

logger = logging.getLogger("cases.tasks")


def _again(task, queue: str) -> None:
    try:
        task.apply_async(queue=queue)
    except Exception as error:  # the broker is down: the next beat continues the sweep
        logger.warning("could not re-enqueue %s: %s", task.name, type(error).__name__)


@shared_task(name="cases.tasks.escalations_sweep", **settings.TASK_RETRY)
def escalations_sweep() -> int:
    """Fire every escalation step that is due (urgent queue, never paced: lives depend on it)."""
    result = escalations_fire_due()
    if result.more:
        _again(escalations_sweep, "urgent")
    return result.done


def _chain_key(task, args: tuple) -> str:
    return f"bulk-chain:{task.name}:{':'.join(str(a) for a in args)}"


def paced(task, work, *, percent: int, args: tuple = (), continued: bool = False) -> int:
    """Run one chunk of backlog work (`work()` -> SweepResult), then, if there may be more, enqueue the next
    chunk after a pause that keeps this work to `percent` of the time (a chunk that took 1 s at 5 %
    waits 19 s, at most BULK_PAUSE_MAX_SECONDS). Between chunks the worker is free for urgent work.

    One chain per task and arguments: a beat's run (or a campaign's sweep) while a chain is under way
    leaves the work to it, so beats never add up to a faster rate. The chain's mark in the cache
    outlives a pause by a minute; if the next message is lost, the mark expires and the next beat starts
    again (the work is re-derived from the database).
    """
    key = _chain_key(task, args)
    if not continued and not cache.add(key, "started", timeout=settings.BULK_PAUSE_MAX_SECONDS + 60):
        return 0
    started = time.monotonic()
    try:
        result: SweepResult = work()
    except BaseException:
        cache.delete(key)
        raise
    if not result.more:
        cache.delete(key)
        return result.done
    worked = time.monotonic() - started
    pause = min(worked * (100 - percent) / percent, settings.BULK_PAUSE_MAX_SECONDS)
    cache.set(key, "waiting", timeout=pause + 60)
    try:
        task.apply_async(args=list(args), kwargs={"continued": True}, queue="bulk", countdown=pause)
    except Exception as error:  # the broker is down: the next beat continues the work
        cache.delete(key)
        logger.warning("could not enqueue the next chunk of %s: %s", task.name, type(error).__name__)
    return result.done


@shared_task(name="cases.tasks.visits_overdue_sweep", **settings.TASK_RETRY)
def visits_overdue_sweep(continued: bool = False) -> int:
    """Open follow-up tasks for visits overdue beyond cadence plus grace (bulk queue, paced)."""
    return paced(visits_overdue_sweep, lambda: visits_overdue_open_tasks(batch=settings.BULK_CHUNK_ROWS, time_budget=0),
                 percent=settings.BULK_WORK_PERCENT, continued=continued)


@shared_task(name="cases.tasks.consents_expiring_sweep", **settings.TASK_RETRY)
def consents_expiring_sweep(continued: bool = False) -> int:
    """Open renew_consent tasks for consents ending within 30 days (bulk queue, paced)."""
    return paced(consents_expiring_sweep,
                 lambda: consents_expiring_open_tasks(batch=settings.BULK_CHUNK_ROWS, time_budget=0),
                 percent=settings.BULK_WORK_PERCENT, continued=continued)


# A report is routed within seconds of its answer.
ROUTE = {**settings.TASK_RETRY, "time_limit": 30, "soft_time_limit": 20}


@shared_task(name="cases.tasks.partner_report_route", **ROUTE)
def partner_report_route(report_id: int) -> bool:
    """Match a partner's report to the register and open (or join) its task (urgent queue)."""
    with access_log_context(route="partner_report_route"):
        return partner_reports.partner_report_route(report_id=report_id) is not None


@shared_task(name="cases.tasks.partner_reports_sweep", **settings.TASK_RETRY)
def partner_reports_sweep() -> int:
    """Route every report still unrouted past its due time (urgent queue): nothing waits on the broker."""
    with access_log_context(route="partner_reports_sweep"):
        result = partner_reports.partner_reports_route_due()
    if result.more:
        _again(partner_reports_sweep, "urgent")
    return result.done


@shared_task(name="cases.tasks.disaster_campaign", **settings.TASK_RETRY)
def disaster_campaign(event_id: int, continued: bool = False) -> int:
    """Open the next chunk of an event's campaign (bulk queue), then the rest chunk by chunk, paced at
    DISASTER_CAMPAIGN_WORK_PERCENT, so fresh urgent work gets the worker in between. Returns the chunks opened."""
    def step() -> SweepResult:
        more = disaster.disaster_campaign_step(event_id=event_id)
        return SweepResult(done=int(more), more=more)

    return paced(disaster_campaign, step, percent=settings.DISASTER_CAMPAIGN_WORK_PERCENT, args=(event_id,),
                 continued=continued)


@shared_task(name="cases.tasks.disaster_campaigns_sweep", **settings.TASK_RETRY)
def disaster_campaigns_sweep() -> int:
    """Continue every active event's campaign whose enqueue was lost (bulk queue, every minute); a campaign
    whose chain is under way is left to it."""
    pending = disaster.disaster_campaigns_pending()
    for event_id in pending:
        _again_with(disaster_campaign, event_id)
    return len(pending)


def _again_with(task, *args) -> None:
    try:
        task.apply_async(args=list(args), queue="bulk")
    except Exception as error:  # the broker is down: the next beat tries again
        logger.warning("could not enqueue %s: %s", task.name, type(error).__name__)
