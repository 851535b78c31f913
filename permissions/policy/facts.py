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

from django.db.models import F, Prefetch

from cases.models import (
    Case,
    CaseTeamMember,
    Consent,
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
    referrals: list[Referral] = field(default_factory=list)
    safety_checks: list[SafetyCheckFact] = field(default_factory=list)


def residents_load(resident_ids: list[int]) -> list[ResidentFacts]:
    """The facts of these residents and all their records."""
    # Visits and notes are the most numerous records (~20 visits per resident): only the fields the rules read.
    visits = list(Visit.objects.filter(case__resident_id__in=resident_ids)
                  .values_list("id", "case_id", "organization_id", "case__resident_id"))
    notes = list(Note.objects.filter(resident_id__in=resident_ids)
                 .values_list("id", "resident_id", "case_id", "category", "author_organization_id"))
    orgs = Organization.objects.in_bulk({row[2] for row in visits} | {row[4] for row in notes})
    facts = [(resident_id, VisitFact(visit_id, case_id, orgs[organization_id]))
             for visit_id, case_id, organization_id, resident_id in visits]
    note_facts = [NoteFact(note_id, resident_id, case_id, category, orgs[organization_id])
                  for note_id, resident_id, case_id, category, organization_id in notes]
    return _load(resident_ids, notes=note_facts, visits=facts,
                 tasks=Task.objects.filter(resident_id__in=resident_ids, kind=TaskKind.SAFETY_CHECK))


def new_visit_load(visit: Visit) -> ResidentFacts | None:
    """The facts of a visit's resident with, of its records, that visit only (None if the resident is gone).

    A fixed number of queries: nothing here is read per note or per visit of the resident.
    """
    organization = Organization.objects.get(pk=visit.organization_id)
    resident_id = visit.case.resident_id
    loaded = _load([resident_id], notes=[], visits=[(resident_id, VisitFact(visit.id, visit.case_id, organization))],
                   tasks=Task.objects.filter(visit_id=visit.id, kind=TaskKind.SAFETY_CHECK))
    return loaded[0] if loaded else None


def resident_load_without_records(resident_id: int) -> ResidentFacts | None:
    """The facts of a resident without their notes, visits or safety checks: enough to ask what consent and the
    legal bases let an organisation receive (a referral being sent)."""
    loaded = _load([resident_id], notes=[], visits=[], tasks=Task.objects.none())
    return loaded[0] if loaded else None


def _load(resident_ids: list[int], *, notes: list[NoteFact], visits: list[tuple[int, VisitFact]], tasks) -> list[
        ResidentFacts]:
    # Only the fields the rules read: a batch of 2,000 residents builds ~30,000 of these objects.
    residents = Resident.objects.filter(id__in=resident_ids).select_related(
        "district__council_area__council", "registered_by"
    ).only("id", "district__group_id", "district__council_area__council__id",
           "district__council_area__council__kind", "district__council_area__council__group_id",
           "registered_by__id", "registered_by__kind", "registered_by__group_id")
    cases = Case.objects.filter(resident_id__in=resident_ids).select_related("lead_organization").only(
        "id", "resident_id", "status", "lead_organization__id", "lead_organization__kind",
        "lead_organization__group_id")
    team_rows = CaseTeamMember.objects.filter(case__resident_id__in=resident_ids).select_related("organization").only(
        "case_id", "organization__id", "organization__kind", "organization__group_id")
    consents = list(Consent.objects.filter(resident_id__in=resident_ids).only(
        "id", "resident_id", "decision", "recipient_kinds", "categories", "purposes", "valid_from", "valid_until",
        "withdrawn_at", "taken_at"))
    recipients: dict[int, set[int]] = defaultdict(set)
    if consents:
        for consent_id, organization_id in Consent.recipient_organizations.through.objects.filter(
                consent_id__in=[c.id for c in consents]).values_list("consent_id", "organization_id"):
            recipients[consent_id].add(organization_id)
    legal = list(
        # A disaster's grants open the evacuation list only: derived from `entry_facts_load`.
        LegalBasisGrant.objects.filter(resident_id__in=resident_ids).exclude(basis=LegalBasis.DISASTER)
        .select_related("organization", "meeting")
        .prefetch_related(Prefetch("meeting__cases", queryset=Case.objects.only("id")))
    )
    meeting_ids = {g.meeting_id for g in legal if g.meeting_id}
    meeting_orgs: dict[int, list[Organization]] = defaultdict(list)
    if meeting_ids:
        for member in MeetingMember.objects.filter(
            meeting_id__in=meeting_ids, confidentiality_acknowledged_at__isnull=False
        ).select_related("organization"):
            if member.organization not in meeting_orgs[member.meeting_id]:
                meeting_orgs[member.meeting_id].append(member.organization)

    by_resident: dict[str, dict[int, list]] = {k: defaultdict(list) for k in ("cases", "notes", "visits", "consents",
                                                                               "legal")}
    for case in cases:
        by_resident["cases"][case.resident_id].append(case)
    team: dict[int, list[Organization]] = defaultdict(list)
    for row in team_rows:
        team[row.case_id].append(row.organization)
    for note in notes:
        by_resident["notes"][note.resident_id].append(note)
    for resident_id, visit in visits:
        by_resident["visits"][resident_id].append(visit)
    for consent in consents:
        consent.recipient_org_ids = recipients[consent.id]
        by_resident["consents"][consent.resident_id].append(consent)
    for grant in legal:
        by_resident["legal"][grant.resident_id].append(grant)
    referrals: dict[int, list[Referral]] = defaultdict(list)
    for referral in Referral.objects.filter(
        case__resident_id__in=resident_ids, status__in=REFERRAL_DECIDING | REFERRAL_WORKING
    ).select_related("receiver_organization").annotate(case_resident_id=F("case__resident_id")):
        referrals[referral.case_resident_id].append(referral)
    checks = _safety_checks(tasks)
    return [
        ResidentFacts(
            resident=r,
            cases=by_resident["cases"][r.id],
            team=team,
            notes=by_resident["notes"][r.id],
            visits=by_resident["visits"][r.id],
            consents=by_resident["consents"][r.id],
            legal_grants=by_resident["legal"][r.id],
            meeting_orgs=meeting_orgs,
            referrals=referrals[r.id],
            safety_checks=checks[r.id],
        )
        for r in residents
    ]


def _safety_checks(tasks) -> dict[int, list[SafetyCheckFact]]:
    """Safety-check tasks (a queryset) with every organisation they reached, by resident."""
    rows = list(tasks.values_list("id", "resident_id", "case_id", "visit_id", "created_at", "closed_at",
                                  "assignee_organization_id"))
    checks: dict[int, list[SafetyCheckFact]] = defaultdict(list)
    if not rows:
        return checks
    reached: dict[int, set[int]] = defaultdict(set)
    for task_id, organization_id in TaskEscalation.objects.filter(
        task_id__in=[t[0] for t in rows], target_organization__isnull=False
    ).values_list("task_id", "target_organization_id"):
        reached[task_id].add(organization_id)
    orgs = Organization.objects.in_bulk({t[6] for t in rows} | {o for ids in reached.values() for o in ids})
    for task_id, resident_id, case_id, visit_id, opened_at, closed_at, assignee_id in rows:
        organizations = tuple(orgs[o] for o in sorted({assignee_id} | reached[task_id]))
        checks[resident_id].append(SafetyCheckFact(task_id, case_id, visit_id, opened_at, closed_at, organizations))
    return checks


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
