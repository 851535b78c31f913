"""Writes. Every decision about registering and changing residents and cases is made here.

Each function runs in one transaction and re-derives the affected grants
before it commits, so no reader ever sees a half-applied change.
"""

from __future__ import annotations

import datetime
import uuid
from dataclasses import dataclass
from typing import Any

from django.db import IntegrityError, transaction
from django.db.models import F, Q
from django.utils import timezone

from cases.errors import Conflict, DomainError, NotPermitted, PreconditionFailed, RuleViolation
from cases.kana import kana_normalize
from cases.models import Case, CaseTeamMember, District, Membership, Organization, Resident, User, Visit
from cases.models.choices import CaseStatus, OrganizationKind, Role
from cases.models.visits import Outcome
from cases.selectors import case_can_change, resident_can_change
from permissions.grants import grants_sync_residents

# Organisations whose members may hold and register residents' records.
RECORD_KEEPING_KINDS = {
    OrganizationKind.COMMISSIONER_COUNCIL,
    OrganizationKind.CARE_CENTRE,
    OrganizationKind.WARD_SECTION,
    OrganizationKind.SOCIAL_WELFARE_COUNCIL,
    OrganizationKind.NPO,
}
CASEWORK_ROLES = {Role.COMMISSIONER, Role.WORKER, Role.SUPERVISOR}


def _acting_membership(*, actor: User, organization: Organization | None) -> Membership:
    """The active membership the actor works through; required when they have several."""
    memberships = [
        m
        for m in Membership.objects.active().filter(user=actor).select_related("organization")
        if m.role in CASEWORK_ROLES and m.organization.kind in RECORD_KEEPING_KINDS
    ]
    if organization is not None:
        memberships = [m for m in memberships if m.organization_id == organization.id]
    if not memberships:
        raise NotPermitted("no_casework_role")
    if len({m.organization_id for m in memberships}) > 1:
        raise RuleViolation("organization_required", field="organization")
    return memberships[0]


def _check_district(membership: Membership, district: District) -> None:
    if membership.role == Role.COMMISSIONER and not membership.district_assignments.filter(
        district=district
    ).exists():
        raise NotPermitted("district_not_assigned", field="district")


def resident_register(*, actor: User, organization: Organization | None = None, **fields: Any) -> Resident:
    """Register a resident. Commissioners register only in their own districts."""
    membership = _acting_membership(actor=actor, organization=organization)
    _check_district(membership, fields["district"])
    now = timezone.now()
    with transaction.atomic():
        resident = Resident.objects.create(
            **fields,
            name_kana_key=kana_normalize(fields["name_kana"]),
            registered_by=membership.organization,
            created_at=now,
            updated_at=now,
        )
        grants_sync_residents(resident_ids=[resident.id])
    return resident


def _conditional_update(model, obj, *, expected_version: int, changes: dict[str, Any]) -> None:
    """Write `changes` only if nobody changed the row since `expected_version` (else 412)."""
    changes = {**changes, "updated_at": timezone.now(), "version": F("version") + 1}
    updated = model.objects.filter(pk=obj.pk, version=expected_version).update(**changes)
    if updated != 1:
        raise PreconditionFailed()


def resident_update(*, actor: User, resident: Resident, expected_version: int, **changes: Any) -> Resident:
    if not resident_can_change(user=actor, resident=resident):
        raise NotPermitted()
    if "district" in changes:
        membership = _acting_membership(actor=actor, organization=None) if _is_commissioner(actor) else None
        if membership is not None:
            _check_district(membership, changes["district"])
    if "name_kana" in changes:
        changes["name_kana_key"] = kana_normalize(changes["name_kana"])
    with transaction.atomic():
        _conditional_update(Resident, resident, expected_version=expected_version, changes=changes)
        if "district" in changes:
            grants_sync_residents(resident_ids=[resident.id])
    resident.refresh_from_db()
    return resident


def _is_commissioner(user: User) -> bool:
    return Membership.objects.active().filter(user=user, role=Role.COMMISSIONER).exists()


def _check_lead_worker(lead_worker: User | None, organization: Organization, district: District) -> None:
    if lead_worker is None:
        return
    memberships = Membership.objects.active().filter(user=lead_worker, organization=organization)
    if organization.kind == OrganizationKind.COMMISSIONER_COUNCIL:
        memberships = memberships.filter(district_assignments__district=district)
    if not memberships.filter(role__in=CASEWORK_ROLES).exists():
        raise RuleViolation("lead_worker_not_member", field="lead_worker")


def case_open(
    *,
    actor: User,
    resident: Resident,
    concern: str,
    risk_level: str,
    organization: Organization | None = None,
    lead_worker: User | None = None,
    visit_cadence_days: int | None = None,
    next_visit_due: datetime.date | None = None,
    team: list[Organization] | None = None,
) -> Case:
    """Open a case led by the actor's organisation; the team sees it from this commit on."""
    membership = _acting_membership(actor=actor, organization=organization)
    lead = membership.organization
    if lead_worker is None and membership.role in CASEWORK_ROLES:
        lead_worker = actor
    _check_lead_worker(lead_worker, lead, resident.district)
    if next_visit_due is None and visit_cadence_days:
        next_visit_due = timezone.localdate() + datetime.timedelta(days=visit_cadence_days)
    now = timezone.now()
    with transaction.atomic():
        case = Case.objects.create(
            resident=resident,
            concern=concern,
            risk_level=risk_level,
            lead_organization=lead,
            lead_worker=lead_worker,
            visit_cadence_days=visit_cadence_days,
            next_visit_due=next_visit_due,
            opened_at=now,
            updated_at=now,
        )
        members = {lead.id: lead, **{org.id: org for org in team or []}}
        CaseTeamMember.objects.bulk_create(
            [CaseTeamMember(case=case, organization=org, added_at=now) for org in members.values()]
        )
        grants_sync_residents(resident_ids=[resident.id])
    return case


def case_update(
    *, actor: User, case: Case, expected_version: int, team: list[Organization] | None = None, **changes: Any
) -> Case:
    """Change a case. Only its lead organisation (or district, for commissioner-led cases) may."""
    if not case_can_change(user=actor, case=case):
        raise NotPermitted()
    if "lead_worker" in changes:
        _check_lead_worker(changes["lead_worker"], case.lead_organization, case.resident.district)
    if "status" in changes:
        if changes["status"] == CaseStatus.CLOSED and case.status != CaseStatus.CLOSED:
            changes["closed_at"] = timezone.now()
        elif changes["status"] != CaseStatus.CLOSED:
            changes["closed_at"] = None
    with transaction.atomic():
        _conditional_update(Case, case, expected_version=expected_version, changes=changes)
        if team is not None:
            wanted = {case.lead_organization_id} | {org.id for org in team}
            CaseTeamMember.objects.filter(case=case).exclude(organization_id__in=wanted).delete()
            CaseTeamMember.objects.bulk_create(
                [CaseTeamMember(case=case, organization_id=org_id) for org_id in wanted], ignore_conflicts=True
            )
        if team is not None or "status" in changes:
            grants_sync_residents(resident_ids=[case.resident_id])
    return Case.objects.get(pk=case.pk)


def membership_changed(*, user: User) -> None:
    """Called after any membership or district assignment change (admin, seeding)."""
    from permissions.grants import memberships_sync_user

    memberships_sync_user(user=user)


# --- Visits -----------------------------------------------------------------
# A phone makes a `client_id` for each visit when it is recorded, offline, and
# retries the upload until it gets an answer. The same (recorder, client_id) is
# stored once, however often and however concurrently it arrives; a retry gets
# the stored visit back.

CLOCK_SKEW = datetime.timedelta(minutes=10)
OLDEST_UPLOAD = datetime.timedelta(days=365)
BATCH_LIMIT = 200
# After these outcomes nobody is there to visit on the old cadence.
NO_NEXT_VISIT = {Outcome.MOVED, Outcome.DECEASED}


def _recording_organization(*, actor: User, case: Case) -> int:
    """The organisation the actor records for: their district's council, or their org on the case team."""
    memberships = Membership.objects.active().filter(user=actor)
    commissioner = memberships.filter(
        role=Role.COMMISSIONER,
        organization__kind=OrganizationKind.COMMISSIONER_COUNCIL,
        district_assignments__district_id=case.resident.district_id,
    ).values_list("organization_id", flat=True)
    team = {member.organization_id for member in case.team_members.all()}
    worker = memberships.filter(role__in=[Role.WORKER, Role.SUPERVISOR], organization_id__in=team).values_list(
        "organization_id", flat=True
    )
    for organization_id in [*commissioner, *worker]:
        return organization_id
    raise NotPermitted("not_permitted")


def _next_due(case: Case, occurred_at: datetime.datetime, outcome: str) -> datetime.date | None:
    if not case.visit_cadence_days or outcome in NO_NEXT_VISIT:
        return None
    return timezone.localtime(occurred_at).date() + datetime.timedelta(days=case.visit_cadence_days)


@dataclass
class Recorded:
    visit: Visit
    created: bool


def visit_record(
    *,
    actor: User,
    case: Case,
    client_id: uuid.UUID,
    occurred_at: datetime.datetime,
    channel: str,
    outcome: str,
    warning_signs: list[str] | None = None,
    note: str = "",
) -> Recorded:
    """Store a visit once per (actor, client_id) and move the case's next visit due by its cadence."""
    existing = Visit.objects.filter(recorded_by=actor, client_id=client_id).first()
    if existing is not None:
        return _replayed(existing, case)
    now = timezone.now()
    if occurred_at > now + CLOCK_SKEW:
        raise RuleViolation("visit_in_future", field="occurred_at")
    if occurred_at < now - OLDEST_UPLOAD:
        raise RuleViolation("visit_too_old", field="occurred_at")
    organization_id = _recording_organization(actor=actor, case=case)
    try:
        with transaction.atomic():
            visit = Visit.objects.create(
                case=case,
                recorded_by=actor,
                organization_id=organization_id,
                client_id=client_id,
                occurred_at=occurred_at,
                uploaded_at=now,
                channel=channel,
                outcome=outcome,
                warning_signs=sorted(set(warning_signs or [])),
                note=note,
            )
            due = _next_due(case, occurred_at, outcome)
            if due is not None:
                # Only ever move forward: an older visit uploaded late must not pull the date back.
                behind = Q(next_visit_due__isnull=True) | Q(next_visit_due__lt=due)
                Case.objects.filter(behind, pk=case.pk).update(
                    next_visit_due=due, updated_at=now, version=F("version") + 1
                )
    except IntegrityError:
        # A concurrent upload of the same visit won the insert: hand back what it stored.
        existing = Visit.objects.filter(recorded_by=actor, client_id=client_id).first()
        if existing is None:
            raise
        return _replayed(existing, case)
    return Recorded(visit=visit, created=True)


def _replayed(existing: Visit, case: Case) -> Recorded:
    if existing.case_id != case.pk:
        raise Conflict("visit_client_id_reused", field="client_id")
    return Recorded(visit=existing, created=False)


@dataclass
class BatchItemResult:
    index: int
    client_id: str | None
    status: int
    visit: Visit | None = None
    error: DomainError | Exception | None = None


def visits_record_batch(*, actor: User, items: list, resolve_case, validate) -> list[BatchItemResult]:
    """Record a day's offline visits; each item succeeds or fails on its own.

    `validate(item)` checks an item's shape and returns its fields (raising the
    API's validation error); `resolve_case(case_id)` looks the case up through
    the policy (raising NotFound). Both are passed in so this function makes
    every decision without knowing about HTTP.
    """
    if not 1 <= len(items) <= BATCH_LIMIT:
        raise RuleViolation("batch_size", field="items")
    results = []
    for index, item in enumerate(items):
        client_id = item.get("client_id") if isinstance(item, dict) else None
        try:
            fields = validate(item)
            case = resolve_case(fields.pop("case"))
            recorded = visit_record(actor=actor, case=case, **fields)
            results.append(BatchItemResult(index, str(recorded.visit.client_id), 201 if recorded.created else 200,
                                           visit=recorded.visit))
        except DomainError as error:
            results.append(BatchItemResult(index, _text(client_id), error.status, error=error))
        except Exception as error:  # the API's validation error: reported per item, never fails the batch
            status = getattr(error, "status_code", None)
            if status is None:
                raise
            results.append(BatchItemResult(index, _text(client_id), status, error=error))
    return results


def _text(value) -> str | None:
    return value if isinstance(value, str) and len(value) <= 64 else None

