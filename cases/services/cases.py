"""Opening and changing cases and their teams."""

from __future__ import annotations

import datetime
from typing import Any

from django.db import transaction
from django.utils import timezone

from audit.changes import changes_record
from cases.errors import Conflict
from cases.models import Case, CaseTeamMember, Organization, Resident, User
from cases.models.choices import CaseStatus, RiskLevel
from cases.services.conditional import conditional_update
from permissions.actors import actor_for
from permissions.grants import grants_sync_residents
from permissions.guards import authorize_case_change, authorize_case_open, authorize_lead_worker
from permissions.memberships import memberships_sync_user


def contact_schedule_check(*, resident: Resident, visit_cadence_days: int | None) -> None:
    """Refuse to schedule contact with a do-not-contact household (e.g. domestic-violence risk).

    A visit cadence means someone will knock or call; for these residents the
    network watches through neighbours and partner signals instead. Recording
    a contact that already happened is never refused: nothing is lost.
    """
    if visit_cadence_days and resident.do_not_contact:
        raise Conflict("do_not_contact", field="visit_cadence_days")


def case_open(
    *,
    actor: User,
    resident: Resident,
    concern: str,
    risk_level: str = RiskLevel.MEDIUM,
    organization: Organization | None = None,
    lead_worker: User | None = None,
    visit_cadence_days: int | None = None,
    next_visit_due: datetime.date | None = None,
    team: list[Organization] | None = None,
) -> Case:
    """Open a case led by the actor's organisation, which must hold the resident in its own right; the team
    sees it from this commit on."""
    standing = authorize_case_open(actor=actor_for(user=actor), resident=resident,
                                   organization_id=organization.id if organization else None)
    contact_schedule_check(resident=resident, visit_cadence_days=visit_cadence_days)
    lead = Organization.objects.get(pk=standing.organization_id)
    if lead_worker is None:
        lead_worker = actor
    authorize_lead_worker(worker=lead_worker, organization=lead, district=resident.district)
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
        changes_record(model=Case, obj=case, old={"team": []}, new={"team": sorted(members)}, action="create")
        CaseTeamMember.objects.bulk_create(
            [CaseTeamMember(case=case, organization=org, added_at=now) for org in members.values()]
        )
        grants_sync_residents(resident_ids=[resident.id])
    return case


def case_update(
    *, actor: User, case: Case, expected_version: int, team: list[Organization] | None = None, **changes: Any
) -> Case:
    """Change a case. Only its lead organisation (or district, for commissioner-led cases) may."""
    authorize_case_change(actor=actor_for(user=actor), case=case)
    if changes.get("visit_cadence_days"):
        contact_schedule_check(resident=case.resident, visit_cadence_days=changes["visit_cadence_days"])
    if "lead_worker" in changes:
        if changes["lead_worker"] is not None:
            authorize_lead_worker(worker=changes["lead_worker"], organization=case.lead_organization,
                                  district=case.resident.district)
    if "status" in changes:
        if changes["status"] == CaseStatus.CLOSED and case.status != CaseStatus.CLOSED:
            changes["closed_at"] = timezone.now()
        elif changes["status"] != CaseStatus.CLOSED:
            changes["closed_at"] = None
    with transaction.atomic():
        conditional_update(Case, case, expected_version=expected_version, changes=changes)
        if team is not None:
            wanted = {case.lead_organization_id} | {org.id for org in team}
            before = sorted(m.organization_id for m in case.team_members.all())
            changes_record(model=Case, obj=case, old={"team": before}, new={"team": sorted(wanted)})
            CaseTeamMember.objects.filter(case=case).exclude(organization_id__in=wanted).delete()
            CaseTeamMember.objects.bulk_create(
                [CaseTeamMember(case=case, organization_id=org_id) for org_id in wanted], ignore_conflicts=True
            )
        if team is not None or "status" in changes:
            grants_sync_residents(resident_ids=[case.resident_id])
    return Case.objects.get(pk=case.pk)


def membership_changed(*, user: User) -> None:
    """Called after any membership or district assignment change (admin, seeding)."""
    memberships_sync_user(user=user)
