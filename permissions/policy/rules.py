"""The rules of the access policy: which grants each record should carry, given its resident's facts.

Facts come from `facts.py` (the only module here that queries), windows are computed by
`windows.py`; this module applies the rules below to them. `permissions/grants.py` writes
what it derives and `permissions/access.py` reads it. The rebuild, the check and the live
paths (a full re-derivation of a resident, or of one new visit) all use these same rules.

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
from collections.abc import Iterable
from dataclasses import dataclass, field

from cases.models import LegalBasis, Organization, Referral, Resident, Visit
from cases.models.choices import CaseStatus, OrganizationKind
from cases.models.consent import Category, Purpose
from cases.models.disaster import EntryStatus
from permissions.policy.facts import (
    REFERRAL_DECIDING,
    REFERRAL_WORKING,
    EntryFacts,
    ResidentFacts,
    entry_facts_load,
    new_visit_load,
    resident_load_without_records,
    residents_load,
)
from permissions.policy.windows import FOREVER, Window, always, consent_windows, grant_window, renamed

VISIT_CATEGORY = Category.LIVING_SITUATION
Grant = tuple[int, str, datetime.datetime, datetime.datetime, str]  # group, codename, from, until, basis
# A basis naming consent or a legal ground is a provision to a third party and is logged as such.
THIRD_PARTY_PREFIXES = ("consent:", "APPI27-1-1:", "APPI27-1-2:", "APPI27-1-4:", "SWA106-6:", "referral:",
                        "safety_check:", "DCBA49-11-3:")
# Bases through which an organisation holds a resident in its own right (the only ones granting
# change_resident): the district's commissioners, the registering organisation, the lead of an open case.
OWN_RIGHT_BASES = ("district", "registration", "case_lead")


@dataclass
class ExpectedGrants:
    residents: dict[int, set[Grant]] = field(default_factory=dict)
    cases: dict[int, set[Grant]] = field(default_factory=dict)
    notes: dict[int, set[Grant]] = field(default_factory=dict)
    visits: dict[int, set[Grant]] = field(default_factory=dict)
    entries: dict[int, set[Grant]] = field(default_factory=dict)


def _author_group(organization: Organization, resident: Resident) -> int:
    """Commissioners write as their district; everyone else as their organisation."""
    if organization.kind == OrganizationKind.COMMISSIONER_COUNCIL:
        return resident.district.group_id
    return organization.group_id


class _Builder:
    def __init__(self, facts: ResidentFacts):
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
            window = grant_window(grant)
            if window is None:
                continue
            recipients = (
                facts.meeting_orgs.get(grant.meeting_id, []) if grant.basis == LegalBasis.SUPPORT_MEETING
                else [grant.organization]
            )
            meeting_cases = facts.meeting_cases.get(grant.meeting_id, set()) if grant.meeting_id else None
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
                return renamed(windows, f"referral:{referral.id}")

            basic = cover(Category.BASIC)
            self._add(self.cases[referral.case_id], group_id, "view_case", basic)
            self._add(self.resident, group_id, "view_resident", basic)
            if referral.status in REFERRAL_WORKING:
                self._data(group_id, cover)


def shareable_windows(facts: ResidentFacts, *, organization: Organization, category: str, purpose: str) -> list[Window]:
    """When `organization` may receive `category` for `purpose`: by consent, or by a legal-basis grant it holds.

    Support-meeting grants (SWA106-6) cover sharing inside the meeting only, so they do not count here.
    """
    windows = list(consent_windows(facts.consents, organization=organization, category=category, purpose=purpose))
    for grant in facts.legal_grants:
        if grant.basis == LegalBasis.SUPPORT_MEETING or grant.organization_id != organization.id:
            continue
        window = grant_window(grant)
        if window is not None and category in grant.categories:
            windows.append(window)
    return windows


def referral_categories_covered(
    *, resident_id: int, organization: Organization, categories: Iterable[str], at: datetime.datetime
) -> set[str]:
    """The categories `organization` may receive about the resident at `at` for a referral (checked on sending)."""
    facts = resident_load_without_records(resident_id)
    if facts is None:
        return set()
    return {
        category for category in categories
        if any(start <= at < end for start, end, _ in shareable_windows(
            facts, organization=organization, category=category, purpose=Purpose.REFERRAL))
    }


def expected_for_residents(resident_ids: list[int]) -> ExpectedGrants:
    """Every grant the given residents and their cases, notes, visits and list entries should carry."""
    expected = ExpectedGrants()
    for facts in residents_load(resident_ids):
        builder = _Builder(facts)
        builder.build()
        expected.residents[facts.resident.id] = builder.resident
        expected.cases.update(builder.cases)
        expected.notes.update(builder.notes)
        expected.visits.update(builder.visits)
    expected.entries = expected_entries_for_residents(resident_ids)
    return expected


@dataclass
class NewVisitGrants:
    """What recording one visit changes: the visit's own grants, and on its resident and cases only the
    grants under the bases of the safety checks it raised (`bases`); nothing else depends on a visit."""

    visit_id: int
    resident_id: int
    visit: set[Grant]
    bases: frozenset[str]
    case_ids: list[int]
    residents: dict[int, set[Grant]]
    cases: dict[int, set[Grant]]


def expected_for_new_visit(visit: Visit) -> NewVisitGrants | None:
    """The grants a just-recorded visit brings, by the same rules as `expected_for_residents`.

    The rules give a visit the windows its resident's visit category already has for each group
    (authorship, district and team consent, legal bases, referrals) plus those of the safety checks
    it raised; none of them depends on the resident's other notes or visits, so the facts are loaded
    without them and the cost does not grow with the resident's history.
    """
    facts = new_visit_load(visit)
    visit_id = visit.id
    if facts is None:
        return None
    builder = _Builder(facts)
    builder.build()
    bases = frozenset(f"safety_check:{check.id}" for check in facts.safety_checks)
    return NewVisitGrants(
        visit_id=visit_id,
        resident_id=facts.resident.id,
        visit=builder.visits[visit_id],
        bases=bases,
        case_ids=list(builder.cases),
        residents={facts.resident.id: {g for g in builder.resident if g[4] in bases}},
        cases={case_id: {g for g in grants if g[4] in bases} for case_id, grants in builder.cases.items()
               if any(g[4] in bases for g in grants)},
    )


# --- The evacuation-support list -------------------------------------------------------------------

def expected_entries_for_residents(resident_ids: list[int]) -> dict[int, set[Grant]]:
    """Every grant the evacuation-list entries of these residents should carry (entry and plan)."""
    return {facts.entry.id: _entry_grants(facts) for facts in entry_facts_load(resident_ids)}


def _entry_grants(facts: EntryFacts) -> set[Grant]:
    entry, consents, grants, plan, ward_orgs = facts.entry, facts.consents, facts.grants, facts.plan, facts.ward_orgs
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
        window = grant_window(grant)
        if window is not None:
            _Builder._add(result, _author_group(grant.organization, entry.resident), "view_evacuationlistentry",
                          [window])
    return result
