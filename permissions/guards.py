"""Who may act: one guard per decision, called by the service before anything else.

The principle: access is widened only by whoever holds the resident *in their
own right* (the district's commissioners during their term, the organisation
that registered the resident, the lead of an open case: `policy.OWN_RIGHT_BASES`),
only within what they may see themselves, and only through the rules that
grant it (consent taken from the resident, a referral, a legal basis with its
oversight, a support meeting of several organisations). Access received through
a share (consent, referral, legal basis, meeting, team, a safety check) never
lets its holder widen it.

Each guard takes the `Actor` (permissions/actors.py) and the records the caller
already looked up through the read side, and either returns the standing the
actor acts with or raises: `NotFound` when the record is one the actor may not
see (before any other check, so nobody learns that it exists), `NotPermitted`
when they see it but the action is not theirs.
"""

from __future__ import annotations

import datetime
from collections.abc import Iterable
from dataclasses import dataclass

from django.db.models import Q

from cases.errors import NotFound, NotPermitted, RuleViolation
from cases.models import (
    Case,
    CaseTeamMember,
    CouncilArea,
    DisasterEvent,
    District,
    LegalBasis,
    LegalBasisGrant,
    MeetingMember,
    Note,
    Organization,
    PartnerAgreement,
    Referral,
    Resident,
    SupportMeeting,
    Task,
    User,
    Visit,
)
from cases.models.choices import OrganizationKind, Role
from permissions.access import granted_to_groups, own_right_groups, scope, unseen
from permissions.actors import (
    CASEWORK_ROLES,
    LISTING_APPROVER_KINDS,
    LISTING_APPROVER_ROLES,
    LISTING_ROLES,
    ORGANIZATION_ROLES,
    PROFESSIONAL_KINDS,
    RECORD_KEEPING_KINDS,
    Actor,
    Standing,
    actor_for,
)
from permissions.bases import BASES, REQUESTABLE
from permissions.policy import VISIT_CATEGORY

# --- Holding a resident in one's own right -------------------------------------------------------

def own_right_standing(*, actor: Actor, resident: Resident, organization_id: int | None = None) -> Standing | None:
    """The casework standing through which the actor holds the resident in its own right, if any."""
    held = own_right_groups(user=actor.user, resident_id=resident.id)
    for standing in actor.standings:
        if standing.casework and standing.group_ids & held and (
            organization_id is None or standing.organization_id == organization_id
        ):
            return standing
    return None


def _own_right(actor: Actor, resident: Resident, organization_id: int | None = None) -> Standing:
    standing = own_right_standing(actor=actor, resident=resident, organization_id=organization_id)
    if standing is None:
        raise NotPermitted("own_right_required")
    return standing


def categories_unseen(*, actor: Actor, resident: Resident, categories: Iterable[str],
                      case_ids: set[int] | None = None) -> set[str]:
    """The categories of which the resident has records the actor cannot read now (all versions counted).

    With `case_ids`, only the notes and visits of those cases and the notes about the resident that
    belong to no case (what a support meeting shares).
    """
    categories = set(categories)
    notes = Note.objects.filter(resident=resident, category__in=categories)
    visits = Visit.objects.filter(case__resident=resident)
    if case_ids is not None:
        notes = notes.filter(Q(case_id__in=case_ids) | Q(case__isnull=True))
        visits = visits.filter(case_id__in=case_ids)
    hidden = set(unseen(notes, user=actor.user, codename="view_note").values_list("category", flat=True))
    if VISIT_CATEGORY in categories and unseen(visits, user=actor.user, codename="view_visit").exists():
        hidden.add(VISIT_CATEGORY)
    return hidden


# --- Residents and cases -------------------------------------------------------------------------

def authorize_resident_register(*, actor: Actor, district: District, organization_id: int | None = None) -> Standing:
    """Any caseworker registers a resident (becoming the registrar); commissioners only in their districts."""
    standing = actor.casework(organization_id=organization_id)
    if standing.role == Role.COMMISSIONER and district.id not in standing.district_ids:
        raise NotPermitted("district_not_assigned", field="district")
    return standing


def authorize_resident_correct(*, actor: Actor, resident: Resident, district: District | None = None) -> Standing:
    """Correct a resident's record: only in one's own right. Moving them to another district hands all
    that the district's commissioners see to the new district's, so the mover must see all of it too."""
    standing = _own_right(actor, resident)
    if district is None or district.id == resident.district_id:
        return standing
    if standing.role == Role.COMMISSIONER and district.id not in standing.district_ids:
        raise NotPermitted("district_not_assigned", field="district")
    district_group = [resident.district.group_id]
    for rows, codename in (
        (Note.objects.filter(resident=resident), "view_note"),
        (Visit.objects.filter(case__resident=resident), "view_visit"),
    ):
        handed_over = granted_to_groups(rows, group_ids=district_group, codename=codename)
        if unseen(handed_over, user=actor.user, codename=codename).exists():
            raise NotPermitted("move_beyond_own_access", field="district")
    return standing


def authorize_case_open(*, actor: Actor, resident: Resident, organization_id: int | None = None) -> Standing:
    """Opening a case makes its organisation the lead, who holds the resident in its own right: so only an
    organisation that already does may open one."""
    actor.casework(organization_id=organization_id)
    return _own_right(actor, resident, organization_id)


def authorize_case_change(*, actor: Actor, case: Case) -> None:
    """The lead organisation (or the district, for a case a commissioner council leads) changes a case,
    its team included."""
    if not scope(Case.objects.filter(pk=case.pk), user=actor.user, codename="change_case").exists():
        raise NotPermitted()


def authorize_lead_worker(*, worker: User, organization: Organization, district: District) -> None:
    """A case's lead worker does casework for its lead organisation (a commissioner: in the district)."""
    standings = actor_for(user=worker).with_roles(CASEWORK_ROLES, organization_id=organization.id)
    if not any(s.role != Role.COMMISSIONER or district.id in s.district_ids for s in standings):
        raise RuleViolation("lead_worker_not_member", field="lead_worker")


def recording_organization(*, actor: Actor, case: Case) -> int:
    """Visits and notes are recorded for the district's council by its commissioners, or for an
    organisation of the case team by its workers."""
    team = {member.organization_id for member in case.team_members.all()}
    for standing in actor.standings:
        if standing.role == Role.COMMISSIONER and case.resident.district_id in standing.district_ids:
            return standing.organization_id
    for standing in actor.standings:
        if standing.casework and standing.role != Role.COMMISSIONER and standing.organization_id in team:
            return standing.organization_id
    raise NotPermitted("not_permitted")


# --- Consent ---------------------------------------------------------------------------------------

def authorize_consent_take(*, actor: Actor, resident: Resident, organization_id: int | None = None) -> Standing:
    """Consent is taken from the resident by those who hold them in their own right, never by a recipient."""
    actor.casework(organization_id=organization_id)
    return _own_right(actor, resident, organization_id)


def authorize_consent_register(*, actor: Actor, resident: Resident) -> Standing:
    """The consent register (list, withdraw) is kept by those who hold the resident in their own right; to
    everyone else it does not exist (404): it names proxies, evidence and the other recipients."""
    standing = own_right_standing(actor=actor, resident=resident)
    if standing is None:
        raise NotFound()
    return standing


def authorize_consent_withdraw(*, actor: Actor, resident: Resident) -> None:
    """A withdrawal is recorded by a keeper of the register, or by the ward's privacy officer applying the
    resident's request to stop the use of their data (cessation); to anyone else the consent does not exist."""
    if resident.district.council_area.ward_id in actor.privacy_officer_ward_ids:
        return
    authorize_consent_register(actor=actor, resident=resident)


# --- Referrals -------------------------------------------------------------------------------------

def authorize_referral_send(*, actor: Actor, case: Case, categories: Iterable[str],
                            organization_id: int | None = None) -> Standing:
    """A referral is sent by an organisation holding the resident in its own right, within what it sees."""
    actor.casework(organization_id=organization_id)
    standing = _own_right(actor, case.resident, organization_id)
    if categories_unseen(actor=actor, resident=case.resident, categories=categories):
        raise NotPermitted("share_beyond_own_access", field="categories")
    return standing


def referral_receiver_check(*, receiver: Organization, receiver_user: User | None) -> None:
    """A named receiver worker does casework in the receiving organisation."""
    if receiver_user is not None and not actor_for(user=receiver_user).with_roles(
        CASEWORK_ROLES, organization_id=receiver.id
    ):
        raise RuleViolation("referral_receiver_invalid", field="receiver_user")


def referral_sides(*, actor: Actor, referral: Referral) -> tuple[bool, bool]:
    """(acts for the sender, acts for the receiver). A named receiver worker narrows the receiving side to
    that worker and the receiving organisation's supervisors."""
    district_id = referral.case.resident.district_id
    sender = actor.acts_for(organization_id=referral.sender_organization_id, district_id=district_id)
    receiver = actor.acts_for(organization_id=referral.receiver_organization_id, district_id=district_id) and (
        referral.receiver_user_id in (None, actor.user.id)
        or actor.supervises(organization_id=referral.receiver_organization_id)
    )
    return sender, receiver


# --- Legal bases -----------------------------------------------------------------------------------

def authorize_basis_request(*, actor: Actor, basis: str, resident_id: int,
                            organization_id: int | None = None) -> tuple[Standing, Resident]:
    """A supervisor of a body that may ask for this basis, about a resident of its own ward.

    Anyone else, and any resident outside that ward, gets the answer a missing resident gets.
    """
    rule = BASES.get(basis) if basis in REQUESTABLE else None
    if rule is None:
        raise RuleViolation("legal_basis_invalid", field="basis")
    for standing in actor.with_roles([Role.SUPERVISOR], kinds=rule.requested_by, organization_id=organization_id):
        resident = Resident.objects.select_related("district__council_area").filter(
            pk=resident_id, district__council_area__ward_id=standing.ward_id).first()
        if resident is not None:
            return standing, resident
    raise NotFound(field="resident")


def _oversees(actor: Actor, grant: LegalBasisGrant) -> bool:
    """A supervisor of the grant's organisation, or a privacy officer of the resident's ward."""
    return actor.supervises(organization_id=grant.organization_id) or (
        grant.resident.district.council_area.ward_id in actor.privacy_officer_ward_ids)


def legal_basis_grants_overseen(*, actor: Actor) -> Q:
    """The grants an actor oversees (sees, approves, revokes, reviews), as a filter."""
    supervised = [s.organization_id for s in actor.with_roles([Role.SUPERVISOR])]
    return Q(organization_id__in=supervised) | Q(
        resident__district__council_area__ward_id__in=sorted(actor.privacy_officer_ward_ids))


def authorize_basis_oversight(*, actor: Actor, grant: LegalBasisGrant, four_eyes: bool) -> None:
    """Approve, review (four eyes: never the requester) or revoke a grant one oversees; else 404."""
    if not _oversees(actor, grant):
        raise NotFound()
    if four_eyes and grant.requested_by_id == actor.user.id:
        raise NotPermitted("four_eyes_required")


# --- Support meetings ------------------------------------------------------------------------------

def authorize_meeting_convene(*, actor: Actor, members: list[User],
                              organization_id: int | None = None) -> tuple[Standing, list[tuple[User, int]]]:
    """A supervisor of a professional body convenes a meeting of several organisations' caseworkers."""
    supervising = actor.with_roles([Role.SUPERVISOR], kinds=PROFESSIONAL_KINDS, organization_id=organization_id)
    if not supervising:
        raise NotPermitted("supervisor_required")
    convener = supervising[0]
    roster: list[tuple[User, int]] = [(actor.user, convener.organization_id)]
    for user in {u.id: u for u in members if u.id != actor.user.id}.values():
        standings = [s for s in actor_for(user=user).standings if s.casework]
        if not standings:
            raise RuleViolation("meeting_member_inactive", field="members")
        roster.append((user, standings[0].organization_id))
    if len({organization for _, organization in roster}) < 2:
        raise RuleViolation("meeting_needs_several_organizations", field="members")
    return convener, roster


def authorize_meeting_share(*, actor: Actor, meeting: SupportMeeting, resident: Resident,
                            categories: Iterable[str]) -> Standing:
    """A member who acknowledged confidentiality shares, in its own right, what it sees itself."""
    member = MeetingMember.objects.filter(meeting=meeting, user=actor.user).first()
    if member is None:
        raise NotFound()
    if member.confidentiality_acknowledged_at is None:
        raise NotPermitted("confidentiality_not_acknowledged")
    standing = _own_right(actor, resident, member.organization_id)
    case_ids = set(meeting.cases.filter(resident=resident).values_list("id", flat=True))
    if not case_ids:
        raise RuleViolation("meeting_case_required", field="resident")
    if categories_unseen(actor=actor, resident=resident, categories=categories, case_ids=case_ids):
        raise NotPermitted("share_beyond_own_access", field="categories")
    if MeetingMember.objects.filter(meeting=meeting).exclude(organization_id=standing.organization_id).count() == 0:
        raise RuleViolation("meeting_needs_several_organizations", field="meeting")
    return standing


# --- Tasks -----------------------------------------------------------------------------------------

def authorize_task_request(*, actor: Actor, case: Case, organization: Organization, user: User | None) -> None:
    """Ask for a check or a visit on a case one works: its team's caseworkers or the district's commissioners;
    assigned to an organisation of the team (and, if named, one of its caseworkers)."""
    team = set(CaseTeamMember.objects.filter(case=case).values_list("organization_id", flat=True))
    district_id = case.resident.district_id
    if not any(actor.acts_for(organization_id=org_id, district_id=district_id) for org_id in team) and (
        district_id not in actor.commissioner_district_ids
    ):
        raise NotPermitted("not_permitted")
    if organization.id not in team:
        raise RuleViolation("task_assignee_invalid", field="assignee_organization")
    if user is not None and not actor_for(user=user).with_roles(CASEWORK_ROLES, organization_id=organization.id):
        raise RuleViolation("task_assignee_invalid", field="assignee_user")


def works_task(*, actor: Actor, task: Task, reached: set[int]) -> bool:
    """Its assignee, a caseworker of its organisation, or of an organisation an escalation reached."""
    return task.assignee_user_id == actor.user.id or bool(
        actor.queue_organization_ids & ({task.assignee_organization_id} | reached))


def authorize_task_work(*, actor: Actor, task: Task, reached: set[int]) -> None:
    """Acknowledge or complete: those who work the task. Its reporter sees it but does not act on it."""
    if not works_task(actor=actor, task=task, reached=reached):
        raise NotPermitted("not_permitted")


def authorize_task_cancel(*, actor: Actor, task: Task) -> None:
    """Cancelled by its assignee or a caseworker of the assignee organisation."""
    if not (task.assignee_user_id == actor.user.id or task.assignee_organization_id in actor.queue_organization_ids):
        raise NotPermitted()



def authorize_integration_manage(*, actor: Actor, organization_id: int) -> None:
    """Manage an organisation's API clients and webhook endpoints: its org admins, nobody else."""
    if not actor.administers(organization_id=organization_id):
        raise NotPermitted("org_admin_required")


def authorize_client_scopes(*, actor: Actor, organization: Organization, record_scopes: bool) -> None:
    """A client acts as a worker of its organisation, never wider: scopes that read or write residents'
    records only for an organisation that holds records (a partner business reports, it never reads)."""
    authorize_integration_manage(actor=actor, organization_id=organization.id)
    if record_scopes and organization.kind not in RECORD_KEEPING_KINDS:
        raise NotPermitted("client_beyond_organization")


# --- Partner signals -------------------------------------------------------------------------------

def authorize_partner_report(*, actor: Actor, agreement: PartnerAgreement | None, signals: Iterable[str],
                             at: datetime.datetime) -> int:
    """A partner business reports only under its own agreement, while it is in force, and only the signals it
    covers; nobody else reports at all. Another partner's agreement answers as a missing one does. Returns
    the reporting organisation."""
    reporting = actor.reporting_organization_ids
    if not reporting:
        raise NotPermitted("partner_only")
    if agreement is None or agreement.organization_id not in reporting:
        raise NotFound(field="agreement")
    if agreement.valid_from > at or (agreement.valid_until is not None and agreement.valid_until <= at):
        raise NotPermitted("partner_agreement_inactive", field="agreement")
    if set(signals) - set(agreement.signals):
        raise RuleViolation("partner_signal_not_covered", field="signals")
    return agreement.organization_id


# --- Disaster mode: the evacuation-support list, events, safety checks ------------------------------

def authorize_evacuation_list_keep(*, actor: Actor, ward_id: int | None = None) -> Standing:
    """The list and its plans are kept by the ward section's caseworkers (workers and supervisors) of the ward."""
    for standing in actor.with_roles([Role.WORKER, Role.SUPERVISOR], kinds=[OrganizationKind.WARD_SECTION]):
        if ward_id is None or standing.ward_id == ward_id:
            return standing
    raise NotPermitted("ward_section_required")


def authorize_disaster_declare(*, actor: Actor, ward_id: int | None = None) -> Standing:
    """A disaster (or an exercise) is declared, and closed, by a supervisor of a body the DCBA49-11-3 row of
    permissions/bases.py names (the ward section), for its own ward."""
    rule = BASES[LegalBasis.DISASTER]
    for standing in actor.with_roles([Role.SUPERVISOR], kinds=rule.requested_by):
        if ward_id is None or standing.ward_id == ward_id:
            return standing
    raise NotPermitted("disaster_declarer_required")


def disaster_event_parties(*, actor: Actor, event: DisasterEvent, supporter_ids: set[int]) -> tuple[bool, bool]:
    """(keeps the list of the event's ward, acts for one of its supporter organisations)."""
    keeper = any(s.ward_id == event.ward_id and s.organization_kind == OrganizationKind.WARD_SECTION
                 for s in actor.standings)
    supporter = any(s.organization_id in supporter_ids and s.role in CASEWORK_ROLES for s in actor.standings)
    return keeper, supporter


def authorize_disaster_export(*, actor: Actor, event: DisasterEvent, supporter_ids: set[int]) -> Standing:
    """The printable list goes to the event's supporter organisations' workers and supervisors and to the ward
    section; a welfare commissioner never takes a bulk export (their duty is to their district, by visits)."""
    for standing in actor.standings:
        if standing.role not in ORGANIZATION_ROLES:
            continue
        if standing.organization_id in supporter_ids or (
                standing.organization_kind == OrganizationKind.WARD_SECTION and standing.ward_id == event.ward_id):
            return standing
    raise NotPermitted("bulk_export_not_permitted")


# --- Statistics for the ward plan ----------------------------------------------------------------

@dataclass(frozen=True)
class StatisticsScope:
    """Which areas of a ward's published statistics the actor may read: all, or some council areas."""

    ward_id: int
    council_area_ids: frozenset[int] | None  # None: every area of the ward

    def sees(self, *, level: str, council_area_id: int | None) -> bool:
        if self.council_area_ids is None:
            return True
        return level != "ward" and council_area_id in self.council_area_ids


def authorize_statistics_read(*, actor: Actor, ward_id: int) -> StatisticsScope:
    """The ward section's workers and supervisors and the ward's privacy officers read every area of their
    ward; a district council's chair (a supervisor of the commissioner council that a council area names as
    its council) reads that council area and its districts. Anyone else: the release does not exist (404)."""
    if ward_id in actor.privacy_officer_ward_ids or any(
            s.ward_id == ward_id for s in actor.with_roles(ORGANIZATION_ROLES, kinds=[OrganizationKind.WARD_SECTION])):
        return StatisticsScope(ward_id, None)
    councils = {s.organization_id for s in actor.with_roles([Role.SUPERVISOR],
                                                            kinds=[OrganizationKind.COMMISSIONER_COUNCIL])}
    areas = frozenset(CouncilArea.objects.filter(ward_id=ward_id, council_id__in=councils).values_list("id", flat=True)
                      ) if councils else frozenset()
    if not areas:
        raise NotFound()
    return StatisticsScope(ward_id, areas)


def authorize_statistics_release(*, actor: Actor, ward_id: int) -> None:
    """Releasing (which freezes the figures for good) is for the ward section's supervisors; other readers
    of the ward see the releases but may not make one (403); anyone else: 404."""
    authorize_statistics_read(actor=actor, ward_id=ward_id)
    if not any(s.ward_id == ward_id for s in actor.with_roles([Role.SUPERVISOR],
                                                                kinds=[OrganizationKind.WARD_SECTION])):
        raise NotPermitted("statistics_release_supervisors_only")
# --- The directory's listings ----------------------------------------------------------------------
# A listing is a `service_directory.Service`; its organisation is a directory organisation that may be
# linked to one of ours (`organization`). The guards read only ids, so `permissions` needs no directory
# import.

def _listing_organizations(actor: Actor) -> set[int]:
    return {s.organization_id for s in actor.with_roles(LISTING_ROLES)}


def _approver_wards(actor: Actor) -> set[int]:
    return {s.ward_id for s in actor.with_roles(LISTING_APPROVER_ROLES, kinds=LISTING_APPROVER_KINDS)}


def listing_managed_by(*, actor: Actor) -> Q:
    """The listings an actor may see on the members' side: those of their own organisations, and every
    listing of their ward when they approve listings there. Everyone else: none."""
    visible = Q(organization__organization_id__in=_listing_organizations(actor))
    wards = _approver_wards(actor)
    if wards:
        visible |= Q(organization__ward_id__in=wards)
    return visible


def listing_organization_for(*, actor: Actor, organization_id: int | None) -> int:
    """The organisation a member proposes a listing for: one they keep listings for (which one must be
    said when they have several)."""
    mine = _listing_organizations(actor)
    if organization_id is None:
        if len(mine) > 1:
            raise RuleViolation("organization_required", field="organization")
        if not mine:
            raise NotPermitted("listing_not_yours")
        return next(iter(mine))
    if organization_id not in mine:
        raise NotPermitted("listing_not_yours")
    return organization_id


def authorize_listing_edit(*, actor: Actor, organization_id: int | None, ward_id: int) -> None:
    """Edit, re-verify or set the capacity of a listing: members of the organisation that runs it. A
    listing the actor may not see is missing; a ward approver sees it but does not edit it."""
    mine = organization_id is not None and organization_id in _listing_organizations(actor)
    if not mine and ward_id not in _approver_wards(actor):
        raise NotFound(field="id")
    if not mine:
        raise NotPermitted("listing_not_yours")


def authorize_listing_approve(*, actor: Actor, organization_id: int | None, ward_id: int) -> int:
    """Approve or reject a new listing: a supervisor of the ward section of the listing's ward. Returns the
    approving organisation."""
    for standing in actor.with_roles(LISTING_APPROVER_ROLES, kinds=LISTING_APPROVER_KINDS):
        if standing.ward_id == ward_id:
            return standing.organization_id
    if organization_id is not None and organization_id in _listing_organizations(actor):
        raise NotPermitted("listing_approver_required")
    raise NotFound(field="id")
