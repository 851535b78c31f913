"""Reads of partner reports: the partner's own, and the ones routed to a task its workers see."""

from __future__ import annotations

import dataclasses

from django.db.models import QuerySet

from cases.errors import NotFound
from cases.models import (
    PartnerReport,
    PartnerReportCandidate,
    PartnerReportRouting,
    User,
)
from cases.selectors.residents import resident_ids_visible_to
from cases.selectors.tasks import task_get_for_user
from permissions.actors import actor_for


# Partner reports: a partner business sees its own reports and their state, nothing else; those who see a
# task see the reports routed to it, and of their candidates only the residents they see themselves.
def partner_reports_of(*, user: User) -> QuerySet[PartnerReport]:
    organizations = actor_for(user=user).reporting_organization_ids
    return (PartnerReport.objects.filter(agreement__organization_id__in=organizations)
            .select_related("agreement").order_by("id"))


def partner_report_get_for_partner(*, user: User, report_id: int) -> PartnerReport:
    report = partner_reports_of(user=user).filter(pk=report_id).first()
    if report is None:
        raise NotFound()
    return report


@dataclasses.dataclass(frozen=True)
class TaskSignal:
    """A partner's report as those who work its task read it: candidates cut to the residents they see."""

    report: PartnerReport
    outcome: str
    joined: bool
    candidate_ids: list[int]


def partner_reports_for_task(*, user: User, task_id: int) -> list[TaskSignal]:
    task = task_get_for_user(user=user, task_id=task_id)
    routings = list(PartnerReportRouting.objects.filter(task=task)
                    .select_related("report__agreement__organization").order_by("report_id"))
    candidates: dict[int, list[int]] = {}
    for report_id, resident_id in PartnerReportCandidate.objects.filter(
            report_id__in=[r.report_id for r in routings]).order_by("resident_id").values_list(
            "report_id", "resident_id"):
        candidates.setdefault(report_id, []).append(resident_id)
    visible = resident_ids_visible_to(user=user, resident_ids=sorted({i for ids in candidates.values() for i in ids}))
    return [TaskSignal(r.report, r.outcome, r.joined, [i for i in candidates.get(r.report_id, []) if i in visible])
            for r in routings]
