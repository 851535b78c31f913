"""Fact loading: everything the rules need to know about residents, read in a fixed number of queries.

The rules (`rules.py`) never query; they are handed these facts. Two loaders:

- `residents_load(ids)`: all of each resident's cases, teams, notes, visits, consents, legal
  bases, referrals and safety checks — the full derivation (rebuild, check, a source-of-truth change);
- `new_visit_load(visit)`: the same for the visit's resident, but of its records only that one
  visit (no notes, no other visits, only the safety checks the visit raised) — what a visit upload
  needs to derive the new visit's grants, in as many queries whatever the resident's history.

`resident_load_without_records(id)` reads only what sharing depends on (consent, legal bases);
`entry_facts_load(ids)` reads what the evacuation list's rules need (ADR 0017).
"""

from __future__ import annotations

import datetime
from collections import defaultdict
from dataclasses import dataclass, field

from backend.prepared import rows_where_any
from cases.models import (
    Case,
    CaseTeamMember,
    Consent,
    CouncilArea,
    District,
    EvacuationListEntry,
    EvacuationPlan,
    LegalBasis,
    LegalBasisGrant,
    MeetingMember,
    Note,
    Organization,
    Referral,
    ReferralStatus,
    Resident,
    SupportMeeting,
    Task,
    TaskEscalation,
    TaskKind,
    Visit,
)
from cases.models.consent import Purpose

# The referral states in which a referral shares anything (the rules say what, by state).
REFERRAL_DECIDING = frozenset({ReferralStatus.REQUESTED})
REFERRAL_WORKING = frozenset({ReferralStatus.ACCEPTED, ReferralStatus.IN_PROGRESS, ReferralStatus.ON_HOLD})


@dataclass(frozen=True)
class VisitFact:
    """What the policy needs of a visit: its id, its case and the organisation that recorded it."""

    id: int
    case_id: int
    organization: Organization


@dataclass(frozen=True)
class NoteFact:
    """What the policy needs of a note: its id, resident, case (or none), category and author organisation."""

    id: int
    resident_id: int
    case_id: int | None
    category: str
    author_organization: Organization


@dataclass(frozen=True)
class SafetyCheckFact:
    """A safety-check task: who it reached, about which case and visit, and while it was open."""

    id: int
    case_id: int | None
    visit_id: int | None
    opened_at: datetime.datetime
    closed_at: datetime.datetime | None
    organizations: tuple[Organization, ...]


@dataclass
class ResidentFacts:
    """Everything the policy needs to know about one resident (or, for a new visit, about that visit)."""

    resident: Resident
    cases: list[Case]
    team: dict[int, list[Organization]]
    notes: list[NoteFact]
    visits: list[VisitFact]
    consents: list[Consent]
    legal_grants: list[LegalBasisGrant]
    meeting_orgs: dict[int, list[Organization]]
    meeting_cases: dict[int, set[int]] = field(default_factory=dict)  # the cases on each meeting's agenda
    referrals: list[Referral] = field(default_factory=list)
    safety_checks: list[SafetyCheckFact] = field(default_factory=list)


def residents_load(resident_ids: list[int]) -> list[ResidentFacts]:
    """The facts of these residents and all their records."""
    # Visits and notes are the most numerous records (~20 visits per resident): only the fields the rules read.
    return _load(resident_ids, notes=rows_where_any(_notes, "resident_id", resident_ids),
                 visits=rows_where_any(_visits, "case__resident_id", resident_ids),
                 checks=("resident_id", resident_ids))


def new_visit_load(visit: Visit) -> ResidentFacts | None:
    """The facts of a visit's resident with, of its records, that visit only (None if the resident is gone).

    A fixed number of queries: nothing here is read per note or per visit of the resident.
    """
    resident_id = visit.case.resident_id
    loaded = _load([resident_id], notes=[], visits=[(visit.id, visit.case_id, visit.organization_id, resident_id)],
                   checks=("visit_id", [visit.id]))
    return loaded[0] if loaded else None


def resident_load_without_records(resident_id: int) -> ResidentFacts | None:
    """The facts of a resident without their notes, visits or safety checks: enough to ask what consent and the
    legal bases let an organisation receive (a referral being sent)."""
    loaded = _load([resident_id], notes=[], visits=[], checks=None)
    return loaded[0] if loaded else None


# Each query below reads only the columns the rules use. It is built once per process and read through
# `rows_where_any` by an array of keys: on PostgreSQL a prepared statement, so the nine look-ups by key of a
# visit upload's facts cost what PostgreSQL takes to run them, not the ORM's building and compiling of each.

def _residents():
    return Resident.objects.values_list("id", "district_id", "district__group_id", "district__council_area_id",
                                        "district__council_area__council_id", "registered_by_id")


def _cases():
    return Case.objects.values_list("id", "resident_id", "status", "lead_organization_id")


def _team():
    return CaseTeamMember.objects.values_list("case_id", "organization_id")


def _consents():
    return Consent.objects.values_list("id", "resident_id", "decision", "recipient_kinds", "categories", "purposes",
                                       "valid_from", "valid_until", "withdrawn_at", "taken_at")


def _consent_recipients():
    return Consent.recipient_organizations.through.objects.values_list("consent_id", "organization_id")


def _legal_grants():
    # A disaster's grants open the evacuation list only: derived from `entry_facts_load`.
    return LegalBasisGrant.objects.exclude(basis=LegalBasis.DISASTER).values_list(
        "id", "resident_id", "organization_id", "basis", "categories", "status", "approved_by_id", "starts_at",
        "ends_at", "revoked_at", "meeting_id", "meeting__ends_at")


def _meeting_cases():
    return SupportMeeting.cases.through.objects.values_list("supportmeeting_id", "case_id")


def _meeting_members():
    return MeetingMember.objects.filter(confidentiality_acknowledged_at__isnull=False).values_list(
        "meeting_id", "organization_id")


def _referrals():
    return Referral.objects.filter(status__in=sorted(REFERRAL_DECIDING | REFERRAL_WORKING)).values_list(
        "id", "case_id", "case__resident_id", "status", "receiver_organization_id", "categories")


def _safety_checks():
    return Task.objects.filter(kind=TaskKind.SAFETY_CHECK).values_list(
        "id", "resident_id", "case_id", "visit_id", "created_at", "closed_at", "assignee_organization_id")


def _escalations():
    return TaskEscalation.objects.filter(target_organization__isnull=False).values_list(
        "task_id", "target_organization_id")


def _organizations():
    return Organization.objects.values_list("id", "kind", "group_id")


def _visits():
    return Visit.objects.values_list("id", "case_id", "organization_id", "case__resident_id")


def _notes():
    return Note.objects.values_list("id", "resident_id", "case_id", "category", "author_organization_id")


def _load(resident_ids: list[int], *, notes: list[tuple], visits: list[tuple],
          checks: tuple[str, list[int]] | None) -> list[ResidentFacts]:
    """The facts of these residents, with the given rows of their notes (`_notes`) and visits (`_visits`), and the
    safety checks whose `checks[0]` is one of `checks[1]` (None: none)."""
    residents = rows_where_any(_residents, "id", resident_ids)
    if not residents:
        return []
    cases = rows_where_any(_cases, "resident_id", resident_ids)
    team_rows = rows_where_any(_team, "case__resident_id", resident_ids)
    consents = rows_where_any(_consents, "resident_id", resident_ids)
    recipients = rows_where_any(_consent_recipients, "consent__resident_id", resident_ids) if consents else []
    legal = rows_where_any(_legal_grants, "resident_id", resident_ids)
    meeting_ids = sorted({row[10] for row in legal if row[10]})
    meeting_cases = rows_where_any(_meeting_cases, "supportmeeting_id", meeting_ids)
    members = rows_where_any(_meeting_members, "meeting_id", meeting_ids)
    referrals = rows_where_any(_referrals, "case__resident_id", resident_ids)
    tasks = rows_where_any(_safety_checks, *checks) if checks else []
    reached = rows_where_any(_escalations, "task_id", [task[0] for task in tasks])

    # Every organisation the rules meet, read once: (id, kind, group) is all they use of one.
    wanted = {row[5] for row in residents} | {row[4] for row in residents if row[4]}
    wanted |= {row[3] for row in cases} | {row[1] for row in team_rows} | {row[2] for row in legal}
    wanted |= {row[1] for row in members} | {row[4] for row in referrals} | {row[6] for row in tasks}
    wanted |= {row[1] for row in reached} | {row[2] for row in visits} | {row[4] for row in notes}
    orgs = {org_id: Organization(id=org_id, kind=kind, group_id=group_id)
            for org_id, kind, group_id in rows_where_any(_organizations, "id", sorted(wanted))}

    by_resident: dict[str, dict[int, list]] = {k: defaultdict(list) for k in ("cases", "notes", "visits", "consents",
                                                                               "legal", "referrals")}
    for case_id, resident_id, status, lead_id in cases:
        by_resident["cases"][resident_id].append(
            Case(id=case_id, resident_id=resident_id, status=status, lead_organization=orgs[lead_id]))
    team: dict[int, list[Organization]] = defaultdict(list)
    for case_id, organization_id in team_rows:
        team[case_id].append(orgs[organization_id])
    for note_id, resident_id, case_id, category, organization_id in notes:
        by_resident["notes"][resident_id].append(NoteFact(note_id, resident_id, case_id, category,
                                                          orgs[organization_id]))
    for visit_id, case_id, organization_id, resident_id in visits:
        by_resident["visits"][resident_id].append(VisitFact(visit_id, case_id, orgs[organization_id]))
    named: dict[int, set[int]] = defaultdict(set)
    for consent_id, organization_id in recipients:
        named[consent_id].add(organization_id)
    for (consent_id, resident_id, decision, recipient_kinds, categories, purposes, valid_from, valid_until,
         withdrawn_at, taken_at) in consents:
        consent = Consent(id=consent_id, resident_id=resident_id, decision=decision, recipient_kinds=recipient_kinds,
                          categories=categories, purposes=purposes, valid_from=valid_from, valid_until=valid_until,
                          withdrawn_at=withdrawn_at, taken_at=taken_at)
        consent.recipient_org_ids = named[consent_id]
        by_resident["consents"][resident_id].append(consent)
    for (grant_id, resident_id, organization_id, basis, categories, status, approved_by_id, starts_at, ends_at,
         revoked_at, meeting_id, meeting_ends_at) in legal:
        by_resident["legal"][resident_id].append(LegalBasisGrant(
            id=grant_id, resident_id=resident_id, organization=orgs[organization_id], basis=basis,
            categories=categories, status=status, approved_by_id=approved_by_id, starts_at=starts_at,
            ends_at=ends_at, revoked_at=revoked_at,
            meeting=SupportMeeting(id=meeting_id, ends_at=meeting_ends_at) if meeting_id else None))
    cases_of_meeting: dict[int, set[int]] = defaultdict(set)
    for meeting_id, case_id in meeting_cases:
        cases_of_meeting[meeting_id].add(case_id)
    meeting_orgs: dict[int, list[Organization]] = defaultdict(list)
    for meeting_id, organization_id in members:
        if orgs[organization_id] not in meeting_orgs[meeting_id]:
            meeting_orgs[meeting_id].append(orgs[organization_id])
    for referral_id, case_id, resident_id, status, receiver_id, categories in referrals:
        by_resident["referrals"][resident_id].append(Referral(
            id=referral_id, case_id=case_id, status=status, receiver_organization=orgs[receiver_id],
            categories=categories))
    reached_by: dict[int, set[int]] = defaultdict(set)
    for task_id, organization_id in reached:
        reached_by[task_id].add(organization_id)
    safety_checks: dict[int, list[SafetyCheckFact]] = defaultdict(list)
    for task_id, resident_id, case_id, visit_id, opened_at, closed_at, assignee_id in tasks:
        organizations = tuple(orgs[o] for o in sorted({assignee_id} | reached_by[task_id]))
        safety_checks[resident_id].append(SafetyCheckFact(task_id, case_id, visit_id, opened_at, closed_at,
                                                          organizations))
    return [
        ResidentFacts(
            resident=Resident(id=resident_id, registered_by=orgs[registered_by_id], district=District(
                id=district_id, group_id=district_group_id, council_area=CouncilArea(
                    id=council_area_id, council=orgs.get(council_id)))),
            cases=by_resident["cases"][resident_id],
            team=team,
            notes=by_resident["notes"][resident_id],
            visits=by_resident["visits"][resident_id],
            consents=by_resident["consents"][resident_id],
            legal_grants=by_resident["legal"][resident_id],
            meeting_orgs=meeting_orgs,
            meeting_cases=cases_of_meeting,
            referrals=by_resident["referrals"][resident_id],
            safety_checks=safety_checks[resident_id],
        )
        for resident_id, district_id, district_group_id, council_area_id, council_id, registered_by_id in residents
    ]


# --- The evacuation-support list -------------------------------------------------------------------

@dataclass
class EntryFacts:
    """What the list's rules need of one entry: its resident's consents for evacuation support, the
    disaster grants on the resident, the entry's current plan and the organisations of its ward."""

    entry: EvacuationListEntry
    consents: list[Consent]
    grants: list[LegalBasisGrant]
    plan: EvacuationPlan | None
    ward_orgs: list[Organization]


def entry_facts_load(resident_ids: list[int]) -> list[EntryFacts]:
    """The facts of every evacuation-list entry of these residents."""
    entries = list(EvacuationListEntry.objects.filter(resident_id__in=resident_ids).select_related(
        "resident__district__council_area__council"))
    if not entries:
        return []
    ids = [entry.resident_id for entry in entries]
    consents: dict[int, list[Consent]] = defaultdict(list)
    for consent in Consent.objects.filter(resident_id__in=ids).prefetch_related("recipient_organizations"):
        if Purpose.DISASTER_EVACUATION in consent.purposes:
            consent.recipient_org_ids = {org.id for org in consent.recipient_organizations.all()}
            consents[consent.resident_id].append(consent)
    grants: dict[int, list[LegalBasisGrant]] = defaultdict(list)
    for grant in LegalBasisGrant.objects.filter(resident_id__in=ids, basis=LegalBasis.DISASTER).select_related(
            "organization"):
        grants[grant.resident_id].append(grant)
    plans: dict[int, EvacuationPlan] = {}
    for plan in EvacuationPlan.objects.filter(entry__in=entries, superseded_by__isnull=True):
        plans[plan.entry_id] = plan
    ward_orgs: dict[int, list[Organization]] = defaultdict(list)
    for org in Organization.objects.filter(ward_id__in={entry.ward_id for entry in entries}).order_by("id"):
        ward_orgs[org.ward_id].append(org)
    return [EntryFacts(entry, consents[entry.resident_id], grants[entry.resident_id], plans.get(entry.id),
                       ward_orgs[entry.ward_id]) for entry in entries]
