"""Reads of cases (the caseload), through the policy, and the clock the caseload's dates are read against."""

from __future__ import annotations

import datetime

from django.db import connection
from django.db.models import Prefetch, QuerySet
from django.utils import timezone

from backend.prepared import by_key, prepared_cursor
from cases.errors import NotFound
from cases.models import (
    Case,
    CaseTeamMember,
    District,
    Organization,
    User,
)
from cases.selectors.names import name_of, rows_by_id, rows_template
from permissions.access import HELD_THROUGH, scope


def case_rows() -> QuerySet[Case]:
    """Cases with what the API shows of them (resident, district, lead, team), not yet scoped to a reader."""
    return Case.objects.select_related("resident__district", "lead_organization", "lead_worker").prefetch_related(
        Prefetch("team_members", queryset=CaseTeamMember.objects.select_related("organization").order_by("id"))
    )


def cases_visible_to(*, user: User, keys: bool = False) -> QuerySet[Case]:
    """The caller's caseload, soonest visit first (cases with no visit due last).

    With `keys`, as its ordering keys only (`id`, `due_order`) and the bases each case is seen through (`HELD_THROUGH`),
    for a list page to filter and page: PostgreSQL finds a page of keys in the `(due_order, id)` index without
    reading the cases it passes over, where a page of whole rows reads each of them (about 2,000 for a care
    centre) to test the reader's grants on it. The page's rows are then read by key (`caseload_rows`)."""
    if keys:
        return scope(Case.objects.values("id", "due_order"), user=user, codename="view_case",
                     walk=True, bases=True).order_by("due_order", "id")
    return scope(case_rows(), user=user, codename="view_case").order_by("due_order", "id")


def caseload_rows(*, keys: list[dict]) -> list[dict]:
    """The rows of `CASELOAD_VALUES` of a caseload page, in the order of its keys, in one query, each with the
    bases its key was found through: the keys found by `cases_visible_to(keys=True)` in this request (a case
    gone since is left out).

    It checks no access itself: the keys must be those the reader's scope gave in the same request."""
    rows = rows_by_id(_caseload_rows, [key["id"] for key in keys])
    held = {key["id"]: key[HELD_THROUGH] for key in keys}
    for row in rows:
        row[HELD_THROUGH] = held[row["id"]]
    return rows


# What a caseload row shows, as values of one query: the resident joined, the names of its district, lead and
# lead worker by sub-select (cases/selectors/names.py).
CASELOAD_VALUES = (
    "id", "resident_id", "resident__name_kanji", "resident__name_kana", "resident__district_id",
    "resident__district__code", "resident__district__name", "resident__do_not_contact", "concern", "status",
    "risk_level", "lead_organization_id", "lead_organization__kind", "lead_organization__name", "lead_worker_id",
    "lead_worker__display_name", "visit_cadence_days", "next_visit_due", "due_order", "opened_at", "closed_at",
    "updated_at", "version",
)
# Each shown name as its sub-select, built once (a query resolves its own copy).
_CASELOAD_NAMES = {
    "resident__district__code": name_of(District, "code", "resident__district_id"),
    "resident__district__name": name_of(District, "name", "resident__district_id"),
    "lead_organization__kind": name_of(Organization, "kind", "lead_organization_id"),
    "lead_organization__name": name_of(Organization, "name", "lead_organization_id"),
    "lead_worker__display_name": name_of(User, "display_name", "lead_worker_id"),
}


def caseload_values(cases: QuerySet[Case]) -> QuerySet:
    """The caller's (already scoped and filtered) cases as rows of `CASELOAD_VALUES`, for a list page."""
    return cases.values(*(field for field in CASELOAD_VALUES if field not in _CASELOAD_NAMES), **_CASELOAD_NAMES)


@rows_template
def _caseload_rows() -> QuerySet:
    return caseload_values(Case.objects.all())


def case_row_get_for_user(*, user: User, case_id: int) -> dict:
    """One case as a row of `CASELOAD_VALUES`, if the user may see it now; else NotFound (a case read is
    written from rows like a caseload page: no model instances, no per-field serializer)."""
    row = by_key(scope(_caseload_rows().filter(pk=case_id), user=user, codename="view_case", bases=True)).first()
    if row is None:
        raise NotFound()
    return row


def case_teams(*, case_ids: list[int]) -> dict[int, list[dict]]:
    """Each case's team organisations (id, kind, name) in the order they joined, in one query.

    Written by hand: the ORM's building of this two-table look-up cost a caseload page more Python (0.55 ms)
    than PostgreSQL took to answer it."""
    teams: dict[int, list[dict]] = {case_id: [] for case_id in case_ids}
    if not case_ids:
        return teams
    quote = connection.ops.quote_name
    sql = (f"SELECT t.case_id, t.organization_id, o.kind, o.name FROM {quote(CaseTeamMember._meta.db_table)} t "
           f"JOIN {quote(Organization._meta.db_table)} o ON o.id = t.organization_id WHERE t.case_id ")
    if connection.vendor == "postgresql":  # one array parameter: the same text every page, prepared
        with prepared_cursor() as cursor:
            cursor.execute(f"{sql}= ANY(%s) ORDER BY t.id", [list(case_ids)])
            rows = cursor.fetchall()
    else:
        with connection.cursor() as cursor:
            cursor.execute(f"{sql}IN ({', '.join(['%s'] * len(case_ids))}) ORDER BY t.id", list(case_ids))
            rows = cursor.fetchall()
    for case_id, organization_id, kind, name in rows:
        teams[case_id].append({"id": organization_id, "kind": kind, "name": name})
    return teams


def case_get_for_user(*, user: User, case_id: int, codename: str = "view_case", field: str | None = None) -> Case:
    """The case, if the user holds `codename` on it now; else NotFound (naming `field` of a request body).

    With its resident and team, what the services that act on a case read (a visit's recorder, a safety check's
    household); its lead and district load only where a rule asks for them. Every table joined here is one more
    for each write's look-up to plan (the answers are written from rows: `case_row_get_for_user`)."""
    records = Case.objects.select_related("resident").prefetch_related(
        Prefetch("team_members", queryset=CaseTeamMember.objects.select_related("organization").order_by("id")))
    case = scope(records.filter(pk=case_id), user=user, codename=codename).first()
    if case is None:
        raise NotFound(field=field)
    return case


def case_can_change(*, user: User, case: Case) -> bool:
    return scope(Case.objects.filter(pk=case.pk), user=user, codename="change_case").exists()


def today() -> datetime.date:
    return timezone.localdate()


def visit_overdue(*, next_visit_due: datetime.date | None, today: datetime.date | None) -> bool:
    """A case's visit is overdue once the day it was due has passed (the `overdue` filter says the same in SQL)."""
    return Case.visit_is_overdue(next_visit_due=next_visit_due, today=today)


def case_ids_visible_to(*, user: User, case_ids: list[int]) -> set[int]:
    """Which of these cases the user may see right now (one query): free text about them shows only then."""
    if not case_ids:
        return set()
    return set(scope(Case.objects.filter(id__in=case_ids), user=user, codename="view_case")
               .values_list("id", flat=True))
