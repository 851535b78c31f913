"""The access policy: who may see and change what, derived from the sources of truth.

This module only *computes* the grants a resident's records should carry;
`grants.py` writes them and `access.py` reads them. The rebuild, the check and
the live path all use this one derivation.

The rules:
- Commissioners act through their *district* group: they see the residents of
  the districts they are assigned to and those residents' cases, while their
  term lasts (the term is checked at read time, see access.py). They see the
  notes and visits commissioners wrote, and other notes by consent naming the
  commissioner council (by organisation or kind).
- Every other caseworker acts through their *organisation* group.
  - The lead organisation of a case sees and changes it and sees its resident.
  - Another organisation on a case's team sees the case and the resident only
    while the resident's consent covers it for `basic` data and the watch-over
    purpose, and each note category only while consent covers that category.
  - An organisation always sees the notes and visits it wrote.
  - The organisation that registered a resident sees and may correct them.
- A legal-basis grant (break-glass APPI27-1-2, APPI27-1-1, APPI27-1-4) gives its
  organisation the resident, their cases and the named categories for the
  grant's period; a support-meeting grant (SWA106-6) gives the same to every
  member organisation that acknowledged confidentiality, until the meeting ends,
  but only for the cases on the meeting's agenda (their notes and visits, and the
  notes about the resident that belong to no case).
- A referral (cases/models/referrals.py) shares with its receiving organisation
  (commissioners: the resident's district), each category only within consent for
  the `referral` purpose naming that organisation or an active APPI27-1-x grant it
  holds, under the basis `referral:<id>`: while requested, the case and the
  resident (basic) so the receiver can decide; while accepted, in progress or on
  hold, also the notes and visits of exactly the referral's categories. In any
  other state it shares nothing. Accepting puts the receiver on the case team,
  which by itself adds only what watch-over consent already covers.
- An urgent safety check (a task raised by a visit) lets every organisation it
  reaches — its assignee, then each organisation an escalation reached — open
  what the check needs while the task is open, under the basis
  `safety_check:<task id>`: the resident's record (basic and contact details),
  the case and the visit that raised it. Nothing more; it ends when the task
  closes, and a review follows.
- Visits count as `living_situation` data.
- The evacuation-support list (cases/models/disaster.py): the ward section of the
  entry's ward keeps it (basis `list_keeper`: every entry and its plan). A listed
  entry (its fields only, never the resident's record) goes to an organisation
  while the resident's consent for `basic` data and the purpose
  `disaster_evacuation` names it (commissioners: the resident's district, by
  consent naming the council), and the plan to the organisations the plan names
  as supporters, within that same consent. While a declared disaster event lasts,
  each of its DCBA49-11-3 grants opens the entry — and only the entry — to its
  organisation without consent, until the event closes. An exercise has no grants.

Every grant carries a window (valid_from, valid_until); withdrawal ends a
consent's window at the moment of withdrawal. The derivation does not depend
on the current time, so a check never disagrees with a sync because a clock
moved.
"""

from __future__ import annotations

import datetime
from collections import defaultdict
from collections.abc import Iterable
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
from cases.models.choices import CaseStatus, OrganizationKind
from cases.models.consent import Category, Decision, GrantStatus, Purpose
from cases.models.disaster import EntryStatus
from permissions.models import ALWAYS_FROM, FOREVER

VISIT_CATEGORY = Category.LIVING_SITUATION
# What a referral shares, by state: the basics to decide, then the categories to work.
REFERRAL_DECIDING = frozenset({ReferralStatus.REQUESTED})
REFERRAL_WORKING = frozenset({ReferralStatus.ACCEPTED, ReferralStatus.IN_PROGRESS, ReferralStatus.ON_HOLD})

# (from, until, basis): every grant names why it exists, e.g. "district", "case_lead",
# "consent:12", "APPI27-1-2:7". A basis naming consent or a legal ground is a provision
# to a third party and is logged as such.
Window = tuple[datetime.datetime, datetime.datetime, str]
Grant = tuple[int, str, datetime.datetime, datetime.datetime, str]  # group, codename, from, until, basis
THIRD_PARTY_PREFIXES = ("consent:", "APPI27-1-1:", "APPI27-1-2:", "APPI27-1-4:", "SWA106-6:", "referral:",
                        "safety_check:", "DCBA49-11-3:")
# Bases through which an organisation holds a resident in its own right (the only ones granting
# change_resident): the district's commissioners, the registering organisation, the lead of an open case.
OWN_RIGHT_BASES = ("district", "registration", "case_lead")


def always(basis: str) -> list[Window]:
    return [(ALWAYS_FROM, FOREVER, basis)]


@dataclass
class ExpectedGrants:
    residents: dict[int, set[Grant]] = field(default_factory=dict)
    cases: dict[int, set[Grant]] = field(default_factory=dict)
    notes: dict[int, set[Grant]] = field(default_factory=dict)
    visits: dict[int, set[Grant]] = field(default_factory=dict)
    entries: dict[int, set[Grant]] = field(default_factory=dict)


def _merge(windows: Iterable[Window]) -> list[Window]:
    """Join touching windows of the same basis."""
    result: list[Window] = []
    for start, end, basis in sorted(windows, key=lambda w: (w[2], w[0], w[1])):
        if result and result[-1][2] == basis and start <= result[-1][1]:
            result[-1] = (result[-1][0], max(result[-1][1], end), basis)
        else:
            result.append((start, end, basis))
    return result


def _consent_period(consent: Consent) -> tuple[datetime.datetime, datetime.datetime] | None:
    start = consent.valid_from
    end = consent.valid_until or FOREVER
    if consent.withdrawn_at is not None:
        end = min(end, consent.withdrawn_at)
    return (start, end) if end > start else None


def consent_windows(
    consents: list[Consent], *, organization: Organization, category: str, purpose: str
) -> list[Window]:
    """When `organization` may receive `category` for `purpose`: latest decision wins at every instant."""
    relevant = []
    for consent in consents:
        names_org = organization.id in consent.recipient_org_ids or organization.kind in consent.recipient_kinds
        if names_org and category in consent.categories and purpose in consent.purposes:
            period = _consent_period(consent)
            if period:
                relevant.append((consent, period))
    if not relevant:
        return []
    bounds = sorted({t for _, (start, end) in relevant for t in (start, end)})
    granted: list[Window] = []
    for start, end in zip(bounds, bounds[1:], strict=False):
        covering = [(c.taken_at, c.id, c) for c, (s, e) in relevant if s <= start < e]
        if covering:
            latest = max(covering, key=lambda item: item[:2])[2]
            if latest.decision == Decision.GRANTED:
                granted.append((start, end, f"consent:{latest.id}"))
    return _merge(granted)


@dataclass(frozen=True)
class VisitFact:
    """What the policy needs of a visit: its id and the organisation that recorded it."""

    id: int
    case_id: int
    organization: Organization


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
class _Facts:
    """Everything the policy needs to know about one resident."""

    resident: Resident
    cases: list[Case]
    team: dict[int, list[Organization]]
    notes: list[Note]
    visits: list[VisitFact]
    consents: list[Consent]
    legal_grants: list[LegalBasisGrant]
    meeting_orgs: dict[int, list[Organization]]
    referrals: list[Referral] = field(default_factory=list)
    safety_checks: list[SafetyCheckFact] = field(default_factory=list)


def _author_group(organization: Organization, resident: Resident) -> int:
    """Commissioners write as their district; everyone else as their organisation."""
    if organization.kind == OrganizationKind.COMMISSIONER_COUNCIL:
        return resident.district.group_id
    return organization.group_id


class _Builder:
    def __init__(self, facts: _Facts):
        self.facts = facts
        self.resident: set[Grant] = set()
        self.cases: dict[int, set[Grant]] = {case.id: set() for case in facts.cases}
        self.notes: dict[int, set[Grant]] = {note.id: set() for note in facts.notes}
        self.visits: dict[int, set[Grant]] = {visit.id: set() for visit in facts.visits}

    @staticmethod
    def _add(target: set[Grant], group_id: int, codename: str, windows: Iterable[Window]) -> None:
        for start, end, basis in windows:
            target.add((group_id, codename, start, end, basis))

    def _data(self, group_id: int, category_windows, *, cases: set[int] | None = None) -> None:
        """Notes and visits this group may read, given windows per category (each computed once).

        With `cases`, only the visits and notes of those cases, and the notes about the resident
        that belong to no case.
        """
        windows: dict[str, list[Window]] = {}
        for note in self.facts.notes:
            if cases is not None and note.case_id is not None and note.case_id not in cases:
                continue
            if note.category not in windows:
                windows[note.category] = list(category_windows(note.category))
            self._add(self.notes[note.id], group_id, "view_note", windows[note.category])
        if self.facts.visits:
            visit_windows = windows.get(VISIT_CATEGORY)
            if visit_windows is None:
                visit_windows = list(category_windows(VISIT_CATEGORY))
            for visit in self.facts.visits:
                if cases is None or visit.case_id in cases:
                    self._add(self.visits[visit.id], group_id, "view_visit", visit_windows)

    def build(self) -> None:
        facts, resident = self.facts, self.facts.resident
        district = resident.district.group_id

        # Registration and district: the resident's own record.
        for group_id, basis in ((district, "district"), (resident.registered_by.group_id, "registration")):
            self._add(self.resident, group_id, "view_resident", always(basis))
            self._add(self.resident, group_id, "change_resident", always(basis))

        # Authors always see what they wrote.
        for note in facts.notes:
            self._add(self.notes[note.id], _author_group(note.author_organization, resident), "view_note",
                      always("author"))
        for visit in facts.visits:
            self._add(self.visits[visit.id], _author_group(visit.organization, resident), "view_visit",
                      always("author"))

        # The district's commissioners: every case; others' notes by consent naming the council.
        council = resident.district.council_area.council
        recipient = council or Organization(id=-1, kind=OrganizationKind.COMMISSIONER_COUNCIL)
        for case in facts.cases:
            self._add(self.cases[case.id], district, "view_case", always("district"))
            if case.lead_organization.kind == OrganizationKind.COMMISSIONER_COUNCIL:
                self._add(self.cases[case.id], district, "change_case", always("district"))
        self._data(district, lambda category: consent_windows(
            facts.consents, organization=recipient, category=category, purpose=Purpose.WATCH_OVER))

        # Case teams.
        team_orgs: dict[int, Organization] = {}
        for case in facts.cases:
            lead = case.lead_organization
            self._add(self.cases[case.id], lead.group_id, "view_case", always("case_lead"))
            self._add(self.cases[case.id], lead.group_id, "change_case", always("case_lead"))
            self._add(self.resident, lead.group_id, "view_resident", always("case_lead"))
            if case.status != CaseStatus.CLOSED:
                self._add(self.resident, lead.group_id, "change_resident", always("case_lead"))
            for org in facts.team.get(case.id, []):
                team_orgs[org.id] = org
                if org.id == lead.id:
                    continue
                basic = consent_windows(
                    facts.consents, organization=org, category=Category.BASIC, purpose=Purpose.WATCH_OVER
                )
                self._add(self.cases[case.id], org.group_id, "view_case", basic)
                self._add(self.resident, org.group_id, "view_resident", basic)
        for org in team_orgs.values():
            self._data(org.group_id, lambda category, org=org: consent_windows(
                facts.consents, organization=org, category=category, purpose=Purpose.WATCH_OVER))

        # Legal bases other than consent.
        for grant in facts.legal_grants:
            window = _grant_window(grant)
            if window is None:
                continue
            recipients = (
                facts.meeting_orgs.get(grant.meeting_id, []) if grant.basis == LegalBasis.SUPPORT_MEETING
                else [grant.organization]
            )
            meeting_cases = {c.id for c in grant.meeting.cases.all()} if grant.meeting_id else None
            for org in recipients:
                self._add(self.resident, org.group_id, "view_resident", [window])
                for case in facts.cases:
                    if meeting_cases is None or case.id in meeting_cases:
                        self._add(self.cases[case.id], org.group_id, "view_case", [window])
                self._data(org.group_id, lambda category, g=grant, w=window: [w] if category in g.categories else [],
                           cases=meeting_cases)

        self._referrals()
        self._safety_checks()

    def _safety_checks(self) -> None:
        """Whoever a safety check reached opens the resident, the case and the visit while it is open."""
        for check in self.facts.safety_checks:
            window = [(check.opened_at, check.closed_at or FOREVER, f"safety_check:{check.id}")]
            if window[0][1] <= window[0][0]:
                continue
            for org in check.organizations:
                group_id = _author_group(org, self.facts.resident)
                self._add(self.resident, group_id, "view_resident", window)
                if check.case_id in self.cases:
                    self._add(self.cases[check.case_id], group_id, "view_case", window)
                if check.visit_id in self.visits:
                    self._add(self.visits[check.visit_id], group_id, "view_visit", window)

    def _referrals(self) -> None:
        """Referrals: the receiver's windows are consent's (purpose referral) or a legal basis's, renamed."""
        facts = self.facts
        for referral in facts.referrals:
            if referral.status not in REFERRAL_DECIDING | REFERRAL_WORKING:
                continue
            receiver = referral.receiver_organization
            group_id = _author_group(receiver, facts.resident)

            def cover(category: str, referral: Referral = referral, receiver: Organization = receiver) -> list[Window]:
                if category not in referral.categories:
                    return []
                windows = shareable_windows(facts, organization=receiver, category=category, purpose=Purpose.REFERRAL)
                return _merge((start, end, f"referral:{referral.id}") for start, end, _ in windows)

            basic = cover(Category.BASIC)
            self._add(self.cases[referral.case_id], group_id, "view_case", basic)
            self._add(self.resident, group_id, "view_resident", basic)
            if referral.status in REFERRAL_WORKING:
                self._data(group_id, cover)


def shareable_windows(facts: _Facts, *, organization: Organization, category: str, purpose: str) -> list[Window]:
    """When `organization` may receive `category` for `purpose`: by consent, or by a legal-basis grant it holds.

    Support-meeting grants (SWA106-6) cover sharing inside the meeting only, so they do not count here.
    """
    windows = list(consent_windows(facts.consents, organization=organization, category=category, purpose=purpose))
    for grant in facts.legal_grants:
        if grant.basis == LegalBasis.SUPPORT_MEETING or grant.organization_id != organization.id:
            continue
        window = _grant_window(grant)
        if window is not None and category in grant.categories:
            windows.append(window)
    return windows


def referral_categories_covered(
    *, resident_id: int, organization: Organization, categories: Iterable[str], at: datetime.datetime
) -> set[str]:
    """The categories `organization` may receive about the resident at `at` for a referral (checked on sending)."""
    loaded = _load([resident_id])
    if not loaded:
        return set()
    return {
        category for category in categories
        if any(start <= at < end for start, end, _ in shareable_windows(
            loaded[0], organization=organization, category=category, purpose=Purpose.REFERRAL))
    }


def _grant_window(grant: LegalBasisGrant) -> Window | None:
    """The grant's period as a window whose basis names the legal ground and the grant."""
    if grant.status == GrantStatus.PENDING or grant.approved_by_id is None:
        # Never approved (still pending, or revoked while pending): it never gave access.
        return None
    end = grant.ends_at
    if grant.revoked_at is not None:
        end = min(end, grant.revoked_at)
    if grant.meeting_id:
        end = min(end, grant.meeting.ends_at)
    return (grant.starts_at, end, f"{grant.basis}:{grant.id}") if end > grant.starts_at else None


def _load(resident_ids: list[int]) -> list[_Facts]:
    residents = Resident.objects.filter(id__in=resident_ids).select_related(
        "district__council_area__council", "registered_by"
    )
    cases = Case.objects.filter(resident_id__in=resident_ids).select_related("lead_organization")
    team_rows = CaseTeamMember.objects.filter(case__resident_id__in=resident_ids).select_related("organization")
    notes = Note.objects.filter(resident_id__in=resident_ids).select_related("author_organization")
    # Visits are the most numerous records (~20 per resident): only their ids, organisations and residents.
    visits = list(Visit.objects.filter(case__resident_id__in=resident_ids)
                  .values_list("id", "case_id", "organization_id", "case__resident_id"))
    visit_orgs = Organization.objects.in_bulk({organization_id for _, _, organization_id, _ in visits})
    consents = Consent.objects.filter(resident_id__in=resident_ids).prefetch_related("recipient_organizations")
    legal = (
        # A disaster's grants open the evacuation list only: derived by `expected_entries_for_residents`.
        LegalBasisGrant.objects.filter(resident_id__in=resident_ids).exclude(basis=LegalBasis.DISASTER)
        .select_related("organization", "meeting")
        .prefetch_related(Prefetch("meeting__cases", queryset=Case.objects.only("id")))
    )
    meeting_ids = {g.meeting_id for g in legal if g.meeting_id}
    meeting_orgs: dict[int, list[Organization]] = defaultdict(list)
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
    for visit_id, case_id, organization_id, resident_id in visits:
        by_resident["visits"][resident_id].append(VisitFact(visit_id, case_id, visit_orgs[organization_id]))
    for consent in consents:
        consent.recipient_org_ids = {org.id for org in consent.recipient_organizations.all()}
        by_resident["consents"][consent.resident_id].append(consent)
    for grant in legal:
        by_resident["legal"][grant.resident_id].append(grant)
    referrals: dict[int, list[Referral]] = defaultdict(list)
    for referral in Referral.objects.filter(
        case__resident_id__in=resident_ids, status__in=REFERRAL_DECIDING | REFERRAL_WORKING
    ).select_related("receiver_organization").annotate(case_resident_id=F("case__resident_id")):
        referrals[referral.case_resident_id].append(referral)
    checks = _safety_checks(resident_ids)
    return [
        _Facts(
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


def _safety_checks(resident_ids: list[int]) -> dict[int, list[SafetyCheckFact]]:
    tasks = list(Task.objects.filter(resident_id__in=resident_ids, kind=TaskKind.SAFETY_CHECK).values_list(
        "id", "resident_id", "case_id", "visit_id", "created_at", "closed_at", "assignee_organization_id"))
    reached: dict[int, set[int]] = defaultdict(set)
    for task_id, organization_id in TaskEscalation.objects.filter(
        task_id__in=[t[0] for t in tasks], target_organization__isnull=False
    ).values_list("task_id", "target_organization_id"):
        reached[task_id].add(organization_id)
    orgs = Organization.objects.in_bulk({t[6] for t in tasks} | {o for ids in reached.values() for o in ids})
    checks: dict[int, list[SafetyCheckFact]] = defaultdict(list)
    for task_id, resident_id, case_id, visit_id, opened_at, closed_at, assignee_id in tasks:
        organizations = tuple(orgs[o] for o in sorted({assignee_id} | reached[task_id]))
        checks[resident_id].append(SafetyCheckFact(task_id, case_id, visit_id, opened_at, closed_at, organizations))
    return checks


def expected_for_residents(resident_ids: list[int]) -> ExpectedGrants:
    """Every grant the given residents and their cases, notes and visits should carry."""
    expected = ExpectedGrants()
    for facts in _load(resident_ids):
        builder = _Builder(facts)
        builder.build()
        expected.residents[facts.resident.id] = builder.resident
        expected.cases.update(builder.cases)
        expected.notes.update(builder.notes)
        expected.visits.update(builder.visits)
    expected.entries = expected_entries_for_residents(resident_ids)
    return expected


# --- The evacuation-support list -------------------------------------------------------------------

def expected_entries_for_residents(resident_ids: list[int]) -> dict[int, set[Grant]]:
    """Every grant the evacuation-list entries of these residents should carry (entry and plan)."""
    entries = list(EvacuationListEntry.objects.filter(resident_id__in=resident_ids).select_related(
        "resident__district__council_area__council"))
    if not entries:
        return {}
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
    ward_ids = {entry.ward_id for entry in entries}
    ward_orgs: dict[int, list[Organization]] = defaultdict(list)
    for org in Organization.objects.filter(ward_id__in=ward_ids).order_by("id"):
        ward_orgs[org.ward_id].append(org)
    return {entry.id: _entry_grants(entry, consents[entry.resident_id], grants[entry.resident_id],
                                    plans.get(entry.id), ward_orgs[entry.ward_id]) for entry in entries}


def _entry_grants(entry: EvacuationListEntry, consents: list[Consent], grants: list[LegalBasisGrant],
                  plan: EvacuationPlan | None, ward_orgs: list[Organization]) -> set[Grant]:
    result: set[Grant] = set()
    for org in ward_orgs:
        if org.kind == OrganizationKind.WARD_SECTION:
            _Builder._add(result, org.group_id, "view_evacuationlistentry", always("list_keeper"))
            _Builder._add(result, org.group_id, "view_evacuation_plan", always("list_keeper"))
    if entry.status != EntryStatus.LISTED:
        return result
    named = {org_id for consent in consents for org_id in consent.recipient_org_ids}
    kinds = {kind for consent in consents for kind in consent.recipient_kinds}
    planned = plan.supporter_organization_ids if plan is not None else set()
    for org in ward_orgs:
        if org.kind == OrganizationKind.WARD_SECTION or (org.id not in named and org.kind not in kinds):
            continue
        windows = consent_windows(consents, organization=org, category=Category.BASIC,
                                  purpose=Purpose.DISASTER_EVACUATION)
        group_id = _author_group(org, entry.resident)
        _Builder._add(result, group_id, "view_evacuationlistentry", windows)
        if org.id in planned:
            _Builder._add(result, group_id, "view_evacuation_plan", windows)
    for grant in grants:
        window = _grant_window(grant)
        if window is not None:
            _Builder._add(result, _author_group(grant.organization, entry.resident), "view_evacuationlistentry",
                          [window])
    return result
