"""Partner signals: a report is received at once and routed afterwards, so the answer says nothing.

`partner_report_receive` is all a partner's request does: check the agreement (the guard), store
the report once per (agreement, reference) and ask a worker to route it after the commit. Its work
and its answer are the same whoever lives at the address, because nothing about residents is read
until the answer has gone. `partner_report_route` then matches the address (cases/addresses.py)
against the register and opens the task:

- one resident → an urgent safety check for the resident's care centre (the ward section when the
  resident is under 65, and for a do-not-contact household, marked `do_not_contact`), opening the
  resident to whoever it reaches under `safety_check:<task>` and escalating like every safety check;
- several → a triage task for the ward section listing the candidates (shown only to readers who see
  them);
- none → a ward-section task carrying the address as written: the people no register knows are the
  most isolated.

A report at the same dwelling within `JOIN_WINDOW` of another that is still open joins that task and
raises its urgency instead of opening another. Routing claims the report with a conditional update,
so the fresh task and the sweep (`partner_reports_route_due`, which finds any report still unrouted
after `ROUTE_GRACE` — the broker may have been down) never route one twice.
"""

from __future__ import annotations

import datetime
import hashlib
import json
import logging
import time
from dataclasses import dataclass

from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils import timezone

from audit.access_log import access_log_reads
from audit.changes import changes_create, changes_update
from cases.addresses import Address, address_parse, municipality_normalize
from cases.errors import Conflict, RuleViolation
from cases.models import (
    Case,
    CaseTeamMember,
    Organization,
    PartnerAgreement,
    PartnerReport,
    PartnerReportCandidate,
    PartnerReportRouting,
    PartnerReportState,
    Resident,
    RoutingOutcome,
    Task,
    TaskKind,
    User,
)
from cases.models.choices import CaseStatus, OrganizationKind, Urgency
from cases.services.tasks import OPEN_STATUSES, queue_recipients, task_notify, task_open, ward_section_for
from notifications.outbox import OrganizationNotice, outbox_announce
from permissions.actors import actor_for
from permissions.grants import grants_sync_residents
from permissions.guards import authorize_partner_report

logger = logging.getLogger("cases.partner_reports")

JOIN_WINDOW = datetime.timedelta(days=3)
ROUTE_GRACE = datetime.timedelta(seconds=15)
CARE_CENTRE_AGE = 65
SWEEP_BATCH = 200
SWEEP_SECONDS = 20.0
RAISED = {Urgency.ROUTINE: Urgency.URGENT, Urgency.URGENT: Urgency.EMERGENCY, Urgency.EMERGENCY: Urgency.EMERGENCY}
BROKER_BACKOFF_SECONDS = 10.0
_broker_down_until = 0.0


def _fingerprint(**content) -> str:
    return hashlib.sha256(json.dumps(content, sort_keys=True, ensure_ascii=False, default=str).encode()).hexdigest()


def _area(agreement: PartnerAgreement) -> str:
    return municipality_normalize(agreement.municipality)


def _in_area(address: Address, agreement: PartnerAgreement) -> bool:
    if address.municipality and address.municipality != _area(agreement):
        return False
    return not agreement.towns or address.town in agreement.towns


@dataclass(frozen=True)
class Received:
    report: PartnerReport
    created: bool


def partner_report_receive(
    *,
    actor: User,
    agreement_code: str,
    reference: str,
    observed_at: datetime.datetime,
    address: str,
    signals: list[str],
    remarks: str = "",
    emergency_services_called: bool = False,
) -> Received:
    """Store a partner's report once per (agreement, reference) and have it routed after the commit.

    The same reference with the same content is the same report (a retry); with other content it is
    refused (409 `partner_reference_reused`). Reads nothing about residents.
    """
    now = timezone.now()
    agreement = PartnerAgreement.objects.filter(code=agreement_code).first()
    authorize_partner_report(actor=actor_for(user=actor), agreement=agreement, signals=signals, at=now)
    if observed_at > now + datetime.timedelta(minutes=10):
        raise RuleViolation("partner_observed_in_future", field="observed_at")
    if not _in_area(address_parse(address, default_municipality=_area(agreement)), agreement):
        raise RuleViolation("partner_address_outside_area", field="address")
    signals = sorted(set(signals))
    fingerprint = _fingerprint(observed_at=observed_at.isoformat(), address=address, signals=signals,
                               remarks=remarks, emergency=emergency_services_called)
    existing = PartnerReport.objects.filter(agreement=agreement, reference=reference).first()
    if existing is not None:
        return _repeated(existing, fingerprint)
    try:
        with transaction.atomic():
            report = PartnerReport.objects.create(
                agreement=agreement, reference=reference, fingerprint=fingerprint, observed_at=observed_at,
                address_text=address, signals=signals, remarks=remarks,
                emergency_services_called=emergency_services_called, received_at=now, route_due_at=now,
            )
            transaction.on_commit(lambda: enqueue_route(report.id))
    except IntegrityError:
        # The same report arriving twice at once: the first insert won.
        return _repeated(PartnerReport.objects.get(agreement=agreement, reference=reference), fingerprint)
    return Received(report, True)


def _repeated(existing: PartnerReport, fingerprint: str) -> Received:
    if existing.fingerprint != fingerprint:
        raise Conflict("partner_reference_reused", field="reference")
    return Received(existing, False)


def enqueue_route(report_id: int) -> bool:
    """Ask a worker to route the report now (urgent queue). Never raises: the sweep is the safety net."""
    global _broker_down_until
    if time.monotonic() < _broker_down_until:
        return False
    try:
        from cases.tasks import partner_report_route as route_task

        route_task.apply_async(
            args=[report_id], queue="urgent", retry=True,
            retry_policy={"max_retries": 1, "interval_start": 0, "interval_step": 0.2, "interval_max": 0.2})
        return True
    except Exception as error:  # the broker is down: the sweep routes it within ROUTE_GRACE plus a beat
        _broker_down_until = time.monotonic() + BROKER_BACKOFF_SECONDS
        logger.warning("partner report %s waits for the sweep (%s)", report_id, type(error).__name__)
        return False


# --- Routing (a worker, after the answer) ---------------------------------------------------------

def residents_at(*, address: Address) -> list[Resident]:
    """Residents registered at the dwelling: same house key, and no room on both sides that differs."""
    if address.key is None:
        return []
    rows = Resident.objects.filter(address_key=address.key).select_related("district__council_area")
    if address.room:
        rows = rows.filter(Q(room_key="") | Q(room_key=address.room))
    return list(rows.order_by("id"))


def _age(resident: Resident, today: datetime.date) -> int:
    born = resident.date_of_birth
    return today.year - born.year - ((today.month, today.day) < (born.month, born.day))


def _open_case(resident: Resident) -> Case | None:
    return Case.objects.filter(resident=resident).exclude(status=CaseStatus.CLOSED).order_by("-id").first()


def _care_centre(resident: Resident, case: Case | None) -> Organization | None:
    """The care centre on the resident's open case, else a care centre of the resident's ward."""
    if case is not None:
        member = (CaseTeamMember.objects.filter(case=case, organization__kind=OrganizationKind.CARE_CENTRE)
                  .select_related("organization").order_by("organization_id").first())
        if member is not None:
            return member.organization
        if case.lead_organization.kind == OrganizationKind.CARE_CENTRE:
            return case.lead_organization
    return Organization.objects.filter(kind=OrganizationKind.CARE_CENTRE,
                                       ward_id=resident.district.council_area.ward_id).order_by("id").first()


def _joinable(report: PartnerReport, address: Address, resident: Resident | None, now) -> Task | None:
    """A task still open at the same dwelling from a report of the last few days (or a safety check already
    open for the resident), which this report joins instead of opening another."""
    since = now - JOIN_WINDOW
    if resident is not None:
        check = Task.objects.filter(resident=resident, kind=TaskKind.SAFETY_CHECK, status__in=OPEN_STATUSES,
                                    created_at__gte=since).order_by("-id").first()
        if check is not None:
            return check
    if address.key is None:
        return None
    routing = (PartnerReportRouting.objects
               .filter(report__address_key=address.key, routed_at__gte=since, task__status__in=OPEN_STATUSES)
               .exclude(report=report).select_related("task", "report").order_by("-routed_at").first())
    if routing is None:
        return None
    if address.room and routing.report.room_key and routing.report.room_key != address.room:
        return None
    return routing.task


def _raise_urgency(task: Task, report: PartnerReport) -> Task:
    """Another report about the same door: more urgent, and its assignees are told (ids only)."""
    raised = RAISED[task.urgency]
    if raised != task.urgency and changes_update(
            Task.objects.filter(status__in=OPEN_STATUSES, urgency=task.urgency), {"urgency": raised}, obj=task):
        task.urgency = raised
    recipients = [task.assignee_user] if task.assignee_user_id else queue_recipients(task.assignee_organization)
    task_notify(task, users=recipients, event="task_report_joined",
                reason=f"task:{task.id}:partner_report:{report.id}")
    return task


def _safety_check(report: PartnerReport, resident: Resident, now) -> Task | None:
    case = _open_case(resident)
    if resident.do_not_contact:
        organization, instruction = ward_section_for(resident), "do_not_contact"
    elif _age(resident, timezone.localdate(now)) >= CARE_CENTRE_AGE:
        organization, instruction = _care_centre(resident, case) or ward_section_for(resident), ""
    else:
        organization, instruction = ward_section_for(resident), ""
    if organization is None:
        return None
    task, _ = task_open(
        kind=TaskKind.SAFETY_CHECK, organization=organization, urgency=Urgency.URGENT, due_at=now,
        dedupe_key=f"partner_report:{report.id}:safety_check", resident=resident, case=case,
        instruction_code=instruction)
    return task


def _ward_task(report: PartnerReport, instruction: str, now, candidates: list[Resident]) -> Task:
    section = (ward_section_for(candidates[0]) if candidates else None) or ward_section_for(
        None, fallback=report.agreement.organization)
    if section is None:
        raise RuleViolation("partner_no_ward_section")
    task, _ = task_open(
        kind=TaskKind.PARTNER_SIGNAL, organization=section, urgency=Urgency.URGENT, due_at=now,
        dedupe_key=f"partner_report:{report.id}:{instruction}", instruction_code=instruction)
    return task


def partner_report_route(*, report_id: int) -> PartnerReportRouting | None:
    """Match and route one received report (None when it was routed already or is being routed)."""
    now = timezone.now()
    with transaction.atomic():
        report = (PartnerReport.objects.select_for_update(skip_locked=True)
                  .filter(pk=report_id, state=PartnerReportState.RECEIVED)
                  .select_related("agreement__organization").first())
        if report is None:
            return None
        address = address_parse(report.address_text, default_municipality=_area(report.agreement))
        candidates = residents_at(address=address)
        outcome = (RoutingOutcome.NONE if not candidates else
                   RoutingOutcome.MATCHED if len(candidates) == 1 else RoutingOutcome.SEVERAL)
        task = _joinable(report, address, candidates[0] if outcome == RoutingOutcome.MATCHED else None, now)
        joined = task is not None
        if joined:
            _raise_urgency(task, report)
        elif outcome == RoutingOutcome.MATCHED:
            task = _safety_check(report, candidates[0], now) or _ward_task(report, "no_match", now, [])
        else:
            instruction = "several_candidates" if outcome == RoutingOutcome.SEVERAL else "no_match"
            task = _ward_task(report, instruction, now, candidates)
        routing = PartnerReportRouting.objects.create(report=report, outcome=outcome, task=task, joined=joined,
                                                      routed_at=now)
        changes_create(PartnerReportCandidate,
                       [PartnerReportCandidate(report=report, resident=resident) for resident in candidates])
        PartnerReport.objects.filter(pk=report.pk).update(
            state=PartnerReportState.ROUTED, routed_at=now, address_key=address.key or "",
            room_key=address.room[:20])
        if candidates:
            # The register was read for this report: who lives at the address is in the log like any read.
            access_log_reads(kind="partner_report_match", resident_ids=[r.id for r in candidates],
                             categories=["basic"], basis=f"partner_report:{report.id}", object_ids=[report.id],
                             route="partner_report_route")
        if task.kind == TaskKind.SAFETY_CHECK and task.resident_id:
            # What the check opens to the organisation it reaches is a provision, logged as such.
            grants_sync_residents(resident_ids=[task.resident_id])
        # The reporting partner learns that its report was routed — the report's id, never the outcome.
        outbox_announce([OrganizationNotice(
            reason=f"partner_report:{report.id}:routed", organization_ids=(report.agreement.organization_id,),
            event="partner_report_routed", subject_type="partner_report", subject_id=report.id)])
    return routing


@dataclass(frozen=True)
class SweepResult:
    done: int
    more: bool


def partner_reports_route_due(*, batch: int = SWEEP_BATCH, seconds: float = SWEEP_SECONDS) -> SweepResult:
    """Route every report still unrouted past its due time plus the grace (the broker lost or never had it)."""
    started = time.monotonic()
    due = list(PartnerReport.objects.filter(state=PartnerReportState.RECEIVED,
                                            route_due_at__lte=timezone.now() - ROUTE_GRACE)
               .order_by("route_due_at", "id").values_list("id", flat=True)[:batch])
    done = 0
    for report_id in due:
        if partner_report_route(report_id=report_id) is not None:
            done += 1
        if time.monotonic() - started > seconds:
            return SweepResult(done, True)
    return SweepResult(done, len(due) == batch)
