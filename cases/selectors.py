"""Reads. Every list and look-up of a sensitive record goes through the policy here."""

from __future__ import annotations

import datetime

from django.db.models import Prefetch, QuerySet, Value
from django.db.models.functions import Coalesce
from django.utils import timezone

from cases.errors import NotFound
from cases.models import Case, CaseTeamMember, District, Membership, Organization, Resident, User, Visit
from permissions.access import scope, scope_through

FAR_FUTURE = datetime.date(9999, 12, 31)


def memberships_active_for(*, user: User) -> QuerySet[Membership]:
    return (
        Membership.objects.active()
        .filter(user=user)
        .select_related("organization")
        .prefetch_related("district_assignments__district")
        .order_by("id")
    )


def organizations_directory() -> QuerySet[Organization]:
    """Organisations are a public directory for members: names and kinds, no personal data."""
    return Organization.objects.select_related("ward").order_by("id")


def districts_directory() -> QuerySet[District]:
    return District.objects.select_related("council_area__ward").order_by("id")


def residents_visible_to(*, user: User) -> QuerySet[Resident]:
    return scope(Resident.objects.select_related("district"), user=user, codename="view_resident").order_by("id")


def resident_get_for_user(*, user: User, resident_id: int, codename: str = "view_resident") -> Resident:
    resident = scope(
        Resident.objects.select_related("district", "registered_by").filter(pk=resident_id),
        user=user,
        codename=codename,
    ).first()
    if resident is None:
        raise NotFound()
    return resident


def resident_can_change(*, user: User, resident: Resident) -> bool:
    return scope(Resident.objects.filter(pk=resident.pk), user=user, codename="change_resident").exists()


def _case_base() -> QuerySet[Case]:
    return Case.objects.select_related("resident__district", "lead_organization", "lead_worker").prefetch_related(
        Prefetch("team_members", queryset=CaseTeamMember.objects.select_related("organization").order_by("id"))
    )


def cases_visible_to(*, user: User) -> QuerySet[Case]:
    """The caller's caseload, soonest visit first (cases with no visit due last)."""
    return (
        scope(_case_base(), user=user, codename="view_case")
        .annotate(visit_due_order=Coalesce("next_visit_due", Value(FAR_FUTURE)))
        .order_by("visit_due_order", "id")
    )


def case_get_for_user(*, user: User, case_id: int, codename: str = "view_case") -> Case:
    case = scope(_case_base().filter(pk=case_id), user=user, codename=codename).first()
    if case is None:
        raise NotFound()
    return case


def case_can_change(*, user: User, case: Case) -> bool:
    return scope(Case.objects.filter(pk=case.pk), user=user, codename="change_case").exists()


def today() -> datetime.date:
    return timezone.localdate()


def visits_visible_to(*, user: User) -> QuerySet[Visit]:
    """Visits of the cases the user may see, newest first."""
    return scope_through(
        Visit.objects.select_related("recorded_by", "organization"),
        field="case_id", model=Case, user=user, codename="view_case",
    ).order_by("-occurred_at", "-id")


def visit_get_for_user(*, user: User, visit_id: int) -> Visit:
    visit = visits_visible_to(user=user).filter(pk=visit_id).first()
    if visit is None:
        raise NotFound()
    return visit
