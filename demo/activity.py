"""The demo ward's first morning: work waiting for the personas from the first minute.

Everything here goes through the services, as the people would do it through the API, so the
tasks, the referral, their events, grants, change entries and outbox messages are exactly what the
running service would have written:
1. Sato records Mr Tanaka's consent to be referred to the ward's elderly section (basic data and
   living situation).
2. Sato records this morning's visit: no answer and mail piling up. That opens the urgent safety
   check for the care centre (care_worker, care_supervisor).
3. The care worker refers Mr Tanaka to the ward's elderly section: the ward caseworker's inbox,
   and an answer task for the section.
4. The care worker asks the salon NPO for a follow-up visit (npo_worker).
5. Last week Sato referred another resident of his district, whose case he leads, to the care
   centre; the care supervisor accepted (Sato has the acceptance unread), and the care worker now
   asks Sato to visit with them (Sato's open task).
6. The sweeps that beat runs every 15 minutes and every hour run once now (overdue visits,
   consents close to their end), so overdue cases already have their follow-up tasks.
Then `activity_deliver` delivers the outbox at once, so the in-app notifications are there unread
before any worker runs.
"""

from __future__ import annotations

import datetime
import uuid
from dataclasses import dataclass

from django.utils import timezone

from cases import services
from cases.models import Case
from cases.models.choices import CaseStatus, Urgency
from cases.models.consent import Category, Decision, Grantor, Method, Purpose
from cases.models.escalations import TaskKind
from cases.models.visits import Channel, Outcome, WarningSign
from cases.services.visit_consent_sweeps import consents_expiring_open_tasks, visits_overdue_open_tasks
from demo.ward import CARE_NOBORITO, ELDERLY_SECTION, SALON_NPO, World
from notifications.delivery import outbox_deliver_due

# Fixed, so a reset demo has the same visit (a replay of this id would be recognised, not doubled).
TANAKA_VISIT_ID = uuid.UUID("6d1d6a1e-2f4b-4c55-9a53-1a2b3c4d5e6f")
REFERRAL_CATEGORIES = [Category.BASIC, Category.LIVING_SITUATION]
SATO_REFERRAL_REASON = "物忘れが増え、服薬の管理ができていない様子です。センターでの評価をお願いします。"
REFERRAL_REASON = ("外出が減り、ひとり暮らしの継続に不安があります。"
                   "介護保険の申請と見守りの強化について相談させてください。")


@dataclass
class Activity:
    safety_checks: int = 0
    referrals: int = 0
    requested_tasks: int = 0
    overdue_tasks: int = 0
    renewal_tasks: int = 0


def activity_seed(*, world: World, tanaka_case: Case, now: datetime.datetime | None = None) -> Activity:
    """Steps 1-5 of the module docstring, inside the caller's transaction."""
    now = now or timezone.now()
    accounts, orgs = world.accounts, world.orgs
    sato, care_worker = accounts["sato"], accounts["care_worker"]
    activity = Activity()

    services.consent_record(
        actor=sato, resident=tanaka_case.resident, decision=Decision.GRANTED, grantor=Grantor.SELF,
        recipient_organizations=[orgs[ELDERLY_SECTION]], categories=REFERRAL_CATEGORIES,
        purposes=[Purpose.REFERRAL], valid_from=now - datetime.timedelta(days=1), method=Method.ORAL,
    )
    recorded = services.visit_record(
        actor=sato, case=tanaka_case, client_id=TANAKA_VISIT_ID, occurred_at=now - datetime.timedelta(hours=2),
        channel=Channel.HOME_VISIT, outcome=Outcome.NO_ANSWER, warning_signs=[WarningSign.MAIL_PILING],
    )
    activity.safety_checks = int(recorded.visit.tasks.filter(kind=TaskKind.SAFETY_CHECK).exists())
    services.referral_create(
        actor=care_worker, case=tanaka_case, receiver_organization=orgs[ELDERLY_SECTION],
        reason=REFERRAL_REASON, categories=REFERRAL_CATEGORIES, urgency=Urgency.ROUTINE,
    )
    activity.referrals = 1
    services.task_request(
        actor=care_worker, case=tanaka_case, kind=TaskKind.FOLLOW_UP_VISIT, organization=orgs[SALON_NPO],
        due_at=now + datetime.timedelta(days=3),
    )
    activity.requested_tasks = 1
    activity.referrals += _sato_referral(world=world, tanaka_case=tanaka_case, now=now)
    activity.requested_tasks += activity.referrals - 1
    activity.overdue_tasks = visits_overdue_open_tasks().done
    activity.renewal_tasks = consents_expiring_open_tasks().done
    return activity


def _sato_referral(*, world: World, tanaka_case: Case, now: datetime.datetime) -> int:
    """Step 5; 0 when Sato leads no other case (the population is drawn from a fixed seed, so he does)."""
    accounts, orgs = world.accounts, world.orgs
    sato, care_centre = accounts["sato"], orgs[CARE_NOBORITO]
    case = (Case.objects.filter(lead_worker=sato, resident__do_not_contact=False).exclude(pk=tanaka_case.pk)
            .exclude(status=CaseStatus.CLOSED).select_related("resident", "lead_organization").order_by("id").first())
    if case is None:
        return 0
    categories = [Category.BASIC, Category.HEALTH, Category.LIVING_SITUATION]
    services.consent_record(
        actor=sato, resident=case.resident, decision=Decision.GRANTED, grantor=Grantor.SELF,
        recipient_organizations=[care_centre], categories=categories, purposes=[Purpose.REFERRAL],
        valid_from=now - datetime.timedelta(days=7), method=Method.ORAL,
    )
    referral = services.referral_create(
        actor=sato, case=case, receiver_organization=care_centre, reason=SATO_REFERRAL_REASON,
        categories=categories, urgency=Urgency.ROUTINE,
    )
    services.referral_transition(actor=accounts["care_supervisor"], referral_id=referral.id, action="accept")
    services.task_request(
        actor=accounts["care_worker"], case=case, kind=TaskKind.FOLLOW_UP_VISIT, organization=case.lead_organization,
        user=sato, due_at=now + datetime.timedelta(days=2),
    )
    return 1


def activity_deliver() -> int:
    """Deliver every outbox message now (what the after-commit task and the sweep do); returns how many."""
    return outbox_deliver_due().delivered
