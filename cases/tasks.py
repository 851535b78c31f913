"""Celery tasks: thin, id-based, safe to run twice. They call services; they decide nothing.

The sweeps find their work in the database (deadlines live there), so a lost,
duplicated or late message changes nothing: the next beat finds the same work.
A sweep that ran out of its time budget enqueues one more run at once; if that
enqueue fails (broker down), the next beat picks up where it stopped.
"""

import logging
import time

from celery import shared_task
from django.db import DatabaseError

from audit.access_log import access_log_context
from cases.services.disaster import disaster_campaign_step, disaster_campaigns_pending
from cases.services.escalations import (
    consents_expiring_open_tasks,
    escalations_fire_due,
    visits_overdue_open_tasks,
)
from cases.services.partner_reports import partner_report_route as route_partner_report
from cases.services.partner_reports import partner_reports_route_due
from permissions.memberships import memberships_sync_all

logger = logging.getLogger("cases.tasks")

SWEEP = {"max_retries": 3, "autoretry_for": (DatabaseError,), "retry_backoff": 2, "retry_backoff_max": 30,
         "acks_late": True, "reject_on_worker_lost": True}


@shared_task(name="cases.tasks.memberships_sync")
def memberships_sync() -> int:
    """Align Django groups with memberships whose term started or ended since the last run."""
    return memberships_sync_all()


def _again(task, queue: str) -> None:
    try:
        task.apply_async(queue=queue)
    except Exception as error:  # the broker is down: the next beat continues the sweep
        logger.warning("could not re-enqueue %s: %s", task.name, type(error).__name__)


@shared_task(name="cases.tasks.escalations_sweep", **SWEEP)
def escalations_sweep() -> int:
    """Fire every escalation step that is due (urgent queue)."""
    result = escalations_fire_due()
    if result.more:
        _again(escalations_sweep, "urgent")
    return result.done


@shared_task(name="cases.tasks.visits_overdue_sweep", **SWEEP)
def visits_overdue_sweep() -> int:
    """Open follow-up tasks for visits overdue beyond cadence plus grace (bulk queue)."""
    result = visits_overdue_open_tasks()
    if result.more:
        _again(visits_overdue_sweep, "bulk")
    return result.done


@shared_task(name="cases.tasks.consents_expiring_sweep", **SWEEP)
def consents_expiring_sweep() -> int:
    """Open renew_consent tasks for consents ending within 30 days (bulk queue)."""
    result = consents_expiring_open_tasks()
    if result.more:
        _again(consents_expiring_sweep, "bulk")
    return result.done


# A report is routed within seconds of its answer: late ack so a killed worker's message comes back.
ROUTE = {"max_retries": 5, "autoretry_for": (DatabaseError,), "retry_backoff": 2, "retry_backoff_max": 30,
         "acks_late": True, "reject_on_worker_lost": True, "time_limit": 30, "soft_time_limit": 20}


@shared_task(name="cases.tasks.partner_report_route", **ROUTE)
def partner_report_route(report_id: int) -> bool:
    """Match a partner's report to the register and open (or join) its task (urgent queue)."""
    with access_log_context(route="partner_report_route"):
        return route_partner_report(report_id=report_id) is not None


@shared_task(name="cases.tasks.partner_reports_sweep", **SWEEP)
def partner_reports_sweep() -> int:
    """Route every report still unrouted past its due time (urgent queue): nothing waits on the broker."""
    with access_log_context(route="partner_reports_sweep"):
        result = partner_reports_route_due()
    if result.more:
        _again(partner_reports_sweep, "urgent")
    return result.done
CAMPAIGN_BUDGET_SECONDS = 15.0


@shared_task(name="cases.tasks.disaster_campaign", **SWEEP)
def disaster_campaign(event_id: int) -> int:
    """Open an event's campaign chunk by chunk (bulk queue) for at most 15 s, then hand the rest to a fresh
    message, so fresh urgent work gets the worker in between. Returns the chunks opened."""
    started, chunks = time.monotonic(), 0
    while disaster_campaign_step(event_id=event_id):
        chunks += 1
        if time.monotonic() - started > CAMPAIGN_BUDGET_SECONDS:
            try:
                disaster_campaign.apply_async(args=[event_id], queue="bulk")
            except Exception as error:  # the broker is down: the sweep continues it
                logger.warning("could not re-enqueue campaign %s: %s", event_id, type(error).__name__)
            break
    return chunks


@shared_task(name="cases.tasks.disaster_campaigns_sweep", **SWEEP)
def disaster_campaigns_sweep() -> int:
    """Continue every active event's campaign whose enqueue was lost (bulk queue, every minute)."""
    pending = disaster_campaigns_pending()
    for event_id in pending:
        _again_with(disaster_campaign, event_id)
    return len(pending)


def _again_with(task, *args) -> None:
    try:
        task.apply_async(args=list(args), queue="bulk")
    except Exception as error:  # the broker is down: the next beat tries again
        logger.warning("could not enqueue %s: %s", task.name, type(error).__name__)
