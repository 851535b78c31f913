"""Reads. Every list and look-up of a sensitive record goes through the policy here."""

from __future__ import annotations

import dataclasses
import datetime

from django.db.models import Count as models_count
from django.db.models import Exists, F, OuterRef, Prefetch, Q, QuerySet
from django.utils import timezone

from cases.errors import NotFound
from cases.models import (
    Case,
    CaseTeamMember,
    Consent,
    DisasterEvent,
    District,
    DistrictAssignment,
    EscalationStep,
    EvacuationListEntry,
    EvacuationPlan,
    LegalBasisGrant,
    Membership,
    Note,
    Organization,
    PartnerReport,
    PartnerReportCandidate,
    PartnerReportRouting,
    Referral,
    ReferralEvent,
    Resident,
    SupportMeeting,
    Task,
    TaskEscalation,
    User,
    Visit,
)
from cases.models.choices import OrganizationKind
from cases.models.disaster import CheckOutcome, EntryStatus, SafetyCheckReport
from cases.models.escalations import TaskKind
from cases.models.tasks import TaskStatus
from permissions.access import scope
from permissions.actors import (
    actor_for,
    actor_from_rows,
    actor_remember,
    standing_columns,
    standing_join_sql,
    standing_values,
)
from permissions.guards import authorize_disaster_export, disaster_event_parties, legal_basis_grants_overseen


def memberships_active_for(*, user: User) -> QuerySet[Membership]:
    return (
        Membership.objects.active()
        .filter(user=user)
        .select_related("organization")
        .prefetch_related(Prefetch("district_assignments", DistrictAssignment.objects.select_related("district")))
        .order_by("id")
    )


def is_active_member(*, user: User) -> bool:
    """Whether the user holds any membership right now (the gate of every member route).

    The same query resolves the actor (memberships, groups), kept for the rest of the request.
    """
    return actor_for(user=user).member


def rows_with_standings(queryset: QuerySet, *, memberships: str, at=None) -> list:
    """The rows of `queryset`, each with the standing columns of one of its user's active memberships
    (through `memberships`, e.g. "user__memberships"): one query finds a record and who its user is right now.
    A user with no active membership still has one row (its standing columns empty)."""
    relations, columns, ordering = standing_columns(memberships, at=at)
    return list(queryset.annotate(**relations).annotate(**columns).order_by(*ordering))


def standings_of(row) -> tuple:
    """The standing columns of one `rows_with_standings` row, as a tuple (what `standings_sql` returns)."""
    return standing_values(row)


def standings_sql(*, user_column: str) -> tuple[str, str, str]:
    """`rows_with_standings` for a hand-written query: its select list, LEFT JOINs (the moment twice as
    parameters) and ordering, over a row naming a user in `user_column` (permissions.actors)."""
    return standing_join_sql(user_column)


def actor_remember_rows(*, user: User, rows: list, values: bool = False) -> None:
    """Keep, for the rest of this request, the actor read by `rows_with_standings` (or, with `values`, the
    standing columns of `standings_sql` as tuples): the route's membership check and every scoped read then
    ask nothing more about who is asking."""
    actor_remember(actor_from_rows(user, rows if values else (standing_values(row) for row in rows)))


def organizations_directory() -> QuerySet[Organization]:
    """Organisations are a public directory for members: names and kinds, no personal data."""
    return Organization.objects.select_related("ward").order_by("id")


def districts_directory() -> QuerySet[District]:
    return District.objects.select_related("council_area__ward").order_by("id")


def residents_visible_to(*, user: User) -> QuerySet[Resident]:
    # registered_by is on every row of the list: joined here, or each row costs a query.
    return scope(
        Resident.objects.select_related("district", "registered_by"), user=user, codename="view_resident"
    ).order_by("id")


def resident_get_for_user(
    *, user: User, resident_id: int, codename: str = "view_resident", field: str | None = None
) -> Resident:
    """The resident, if the user holds `codename` on them now; else NotFound (naming `field` of a request body)."""
    resident = scope(
        Resident.objects.select_related("district", "registered_by").filter(pk=resident_id),
        user=user,
        codename=codename,
    ).first()
    if resident is None:
        raise NotFound(field=field)
    return resident


def resident_can_change(*, user: User, resident: Resident) -> bool:
    return scope(Resident.objects.filter(pk=resident.pk), user=user, codename="change_resident").exists()


def case_rows() -> QuerySet[Case]:
    """Cases with what the API shows of them (resident, district, lead, team), not yet scoped to a reader."""
    return Case.objects.select_related("resident__district", "lead_organization", "lead_worker").prefetch_related(
        Prefetch("team_members", queryset=CaseTeamMember.objects.select_related("organization").order_by("id"))
    )


def cases_visible_to(*, user: User) -> QuerySet[Case]:
    """The caller's caseload, soonest visit first (cases with no visit due last)."""
    return (
        scope(case_rows(), user=user, codename="view_case").order_by("due_order", "id")
    )


# What a caseload row shows, as values of one query (the resident, district, lead and lead worker joined).
CASELOAD_VALUES = (
    "id", "resident_id", "resident__name_kanji", "resident__name_kana", "resident__district_id",
    "resident__district__code", "resident__district__name", "resident__do_not_contact", "concern", "status",
    "risk_level", "lead_organization_id", "lead_organization__kind", "lead_organization__name", "lead_worker_id",
    "lead_worker__display_name", "visit_cadence_days", "next_visit_due", "due_order", "opened_at", "closed_at",
    "updated_at", "version",
)


def caseload_values(cases: QuerySet[Case]) -> QuerySet:
    """The caller's (already scoped and filtered) cases as rows of `CASELOAD_VALUES`, for a list page."""
    return cases.values(*CASELOAD_VALUES)


def case_teams(*, case_ids: list[int]) -> dict[int, list[dict]]:
    """Each case's team organisations (id, kind, name) in the order they joined, in one query."""
    teams: dict[int, list[dict]] = {case_id: [] for case_id in case_ids}
    rows = CaseTeamMember.objects.filter(case_id__in=case_ids).order_by("id").values_list(
        "case_id", "organization_id", "organization__kind", "organization__name")
    for case_id, organization_id, kind, name in rows:
        teams[case_id].append({"id": organization_id, "kind": kind, "name": name})
    return teams


def case_get_for_user(*, user: User, case_id: int, codename: str = "view_case", field: str | None = None) -> Case:
    """The case, if the user holds `codename` on it now; else NotFound (naming `field` of a request body)."""
    case = scope(case_rows().filter(pk=case_id), user=user, codename=codename).first()
    if case is None:
        raise NotFound(field=field)
    return case


def case_can_change(*, user: User, case: Case) -> bool:
    return scope(Case.objects.filter(pk=case.pk), user=user, codename="change_case").exists()


def today() -> datetime.date:
    return timezone.localdate()


def visit_overdue(*, next_visit_due: datetime.date | None, today: datetime.date | None) -> bool:
    """A case's visit is overdue once the day it was due has passed (the `overdue` filter says the same in SQL)."""
    return bool(next_visit_due and today and next_visit_due < today)


def visits_visible_to(*, user: User) -> QuerySet[Visit]:
    """Visits of the cases the user may see, newest first."""
    return scope(
        Visit.objects.select_related("recorded_by", "organization"), user=user, codename="view_visit"
    ).order_by("-occurred_at", "-id")


def visit_get_for_user(*, user: User, visit_id: int) -> Visit:
    visit = visits_visible_to(user=user).filter(pk=visit_id).first()
    if visit is None:
        raise NotFound()
    return visit


def note_rows() -> QuerySet[Note]:
    """Notes with their authors and successor, not yet scoped to a reader."""
    return Note.objects.select_related("author", "author_organization", "superseded_by")


def notes_visible_to(*, user: User) -> QuerySet[Note]:
    """The current version of every note the user may read, newest first."""
    return (
        scope(
            note_rows(),
            user=user, codename="view_note",
        )
        .filter(superseded_by__isnull=True)
        .order_by("-created_at", "-id")
    )


# What a note row shows, as values of one query (author, organisation and successor joined).
NOTE_VALUES = (
    "id", "resident_id", "case_id", "category", "body", "author_id", "author__display_name",
    "author_organization_id", "author_organization__kind", "author_organization__name", "supersedes_id",
    "superseded_by__id", "created_at",
)


def note_values(notes: QuerySet[Note]) -> QuerySet:
    """The caller's (already scoped and filtered) notes as rows of `NOTE_VALUES`, for a list page."""
    return notes.values(*NOTE_VALUES)


def note_get_for_user(*, user: User, note_id: int) -> Note:
    note = scope(
        note_rows().filter(pk=note_id), user=user,
        codename="view_note",
    ).first()
    if note is None:
        raise NotFound()
    return note


def note_history_for_user(*, user: User, note: Note) -> QuerySet[Note]:
    """Every version of a note, oldest first, as far as the user may read them (a queryset: the API pages it)."""
    ids = [note.id]
    cursor = note
    while cursor.supersedes_id:
        ids.append(cursor.supersedes_id)
        cursor = Note.objects.only("id", "supersedes_id").get(pk=cursor.supersedes_id)
    later = Note.objects.filter(supersedes_id=note.id).values_list("id", flat=True).first()
    while later:
        ids.append(later)
        later = Note.objects.filter(supersedes_id=later).values_list("id", flat=True).first()
    return scope(note_rows().filter(id__in=ids), user=user, codename="view_note").order_by("created_at", "id")


def consents_of_resident(*, resident: Resident) -> QuerySet[Consent]:
    """Consent records of a resident the caller already may see (look it up with resident_get_for_user)."""
    return (
        Consent.objects.filter(resident=resident)
        .select_related("taken_by", "taken_by_organization", "withdrawn_by")
        .prefetch_related("recipient_organizations")
        .order_by("-taken_at", "-id")
    )


def legal_basis_grants_for(*, user: User) -> QuerySet[LegalBasisGrant]:
    """Grants the user oversees (held by an organisation they supervise, or about a resident of the ward they
    are privacy officer of: they approve, revoke and review them) or asked for themselves."""
    if not user.is_authenticated:
        return LegalBasisGrant.objects.none()
    return (
        LegalBasisGrant.objects.filter(legal_basis_grants_overseen(actor=actor_for(user=user)) | Q(requested_by=user))
        .select_related("organization", "requested_by", "approved_by", "reviewed_by")
        .order_by("-created_at", "-id")
    )


def legal_basis_grant_get_for_user(*, user: User, grant_id: int) -> LegalBasisGrant:
    grant = legal_basis_grants_for(user=user).filter(pk=grant_id).first()
    if grant is None:
        raise NotFound()
    return grant


def meetings_of(*, user: User) -> QuerySet[SupportMeeting]:
    if not user.is_authenticated:
        return SupportMeeting.objects.none()
    return (
        SupportMeeting.objects.filter(members__user=user)
        .select_related("convened_by")
        .prefetch_related("members__user", "members__organization", "cases")
        .order_by("-held_at", "-id")
        .distinct()
    )


def meeting_get_for_user(*, user: User, meeting_id: int) -> SupportMeeting:
    meeting = meetings_of(user=user).filter(pk=meeting_id).first()
    if meeting is None:
        raise NotFound()
    return meeting


# Referrals: visible to the parties only. The sender's organisation sees what it sent (drafts too);
# the receiving organisation sees a referral once it was sent. Commissioners act for their council
# only about residents of their districts. What a referral lets the receiver read about the resident
# is the policy's business (cases_visible_to and friends), not this list's.
def _referral_side(user: User, field: str) -> Q:
    actor = actor_for(user=user)
    return Q(**{f"{field}_id__in": sorted(actor.queue_organization_ids)}) | Q(
        **{f"{field}_id__in": sorted(actor.commissioner_council_ids),
           "case__resident__district_id__in": sorted(actor.commissioner_district_ids)}
    )


def organizations_acted_for(*, user: User) -> set[int]:
    """The organisations the user works for right now (their referrals' free text is theirs to read)."""
    return {standing.organization_id for standing in actor_for(user=user).standings}


def _referral_base() -> QuerySet[Referral]:
    return Referral.objects.select_related(
        "case__resident", "sender_organization", "receiver_organization", "sender_user", "receiver_user",
        "answered_by", "service",
    )


def referrals_visible_to(*, user: User) -> QuerySet[Referral]:
    if not user.is_authenticated:
        return Referral.objects.none()
    sent = _referral_side(user, "sender_organization")
    received = _referral_side(user, "receiver_organization") & Q(requested_at__isnull=False)
    return _referral_base().filter(sent | received).order_by("-created_at", "-id")


def referral_get_for_user(*, user: User, referral_id: int) -> Referral:
    referral = referrals_visible_to(user=user).filter(pk=referral_id).first()
    if referral is None:
        raise NotFound()
    return referral


def referrals_inbox_for(*, user: User) -> QuerySet[Referral]:
    """Referrals sent to my organisation (or my districts' council), soonest response deadline first."""
    if not user.is_authenticated:
        return Referral.objects.none()
    return (
        _referral_base()
        .filter(_referral_side(user, "receiver_organization"), requested_at__isnull=False)
        .order_by("response_due_at", "id")
    )


def referrals_sent_by(*, user: User) -> QuerySet[Referral]:
    """Referrals my organisation sent (drafts included), newest first."""
    if not user.is_authenticated:
        return Referral.objects.none()
    return _referral_base().filter(_referral_side(user, "sender_organization")).order_by("-created_at", "-id")


def referral_events_of(*, referral: Referral) -> QuerySet[ReferralEvent]:
    return referral.events.select_related("actor", "organization").order_by("at", "id")


def case_ids_visible_to(*, user: User, case_ids: list[int]) -> set[int]:
    """Which of these cases the user may see right now (one query): free text about them shows only then."""
    if not case_ids:
        return set()
    return set(scope(Case.objects.filter(id__in=case_ids), user=user, codename="view_case")
               .values_list("id", flat=True))


def resident_ids_visible_to(*, user: User, resident_ids: list[int]) -> set[int]:
    if not resident_ids:
        return set()
    return set(scope(Resident.objects.filter(id__in=resident_ids), user=user, codename="view_resident")
               .values_list("id", flat=True))


# Tasks: the assignee user, the caseworkers of the assignee organisation, the organisations an escalation
# reached, and whoever raised it (to see its status and outcome). Review tasks are also the privacy
# officers' of the resident's ward. A task holds ids only; its subject is read through the policy.
def _task_base() -> QuerySet[Task]:
    return Task.objects.select_related("assignee_organization", "assignee_user", "acknowledged_by", "closed_by") \
        .annotate(resident_ward_id=F("resident__district__council_area__ward_id"))


def _queue(actor) -> Q:
    organizations = sorted(actor.queue_organization_ids)
    escalated = TaskEscalation.objects.filter(task=OuterRef("pk"), target_organization_id__in=organizations)
    reviews = Q(kind=TaskKind.REVIEW_GRANT, resident__district__council_area__ward_id__in=sorted(
        actor.privacy_officer_ward_ids))
    return Q(assignee_organization_id__in=organizations) | Exists(escalated) | reviews


def tasks_visible_to(*, user: User) -> QuerySet[Task]:
    if not user.is_authenticated:
        return Task.objects.none()
    actor = actor_for(user=user)
    return _task_base().filter(Q(assignee_user=user) | Q(created_by=user) | _queue(actor)).order_by("due_at", "id")


def tasks_mine(*, user: User) -> QuerySet[Task]:
    """Tasks assigned to me by name, soonest due first."""
    if not user.is_authenticated:
        return Task.objects.none()
    return _task_base().filter(assignee_user=user).order_by("due_at", "id")


def tasks_queue(*, user: User) -> QuerySet[Task]:
    """My organisations' queue: tasks assigned to them, and tasks escalated to them, soonest due first (and,
    for a privacy officer, the reviews of their ward)."""
    if not user.is_authenticated:
        return Task.objects.none()
    return _task_base().filter(_queue(actor_for(user=user))).order_by("due_at", "id")


def task_reached_organizations(*, task: Task) -> set[int]:
    """The organisations an escalation of this task reached."""
    return set(TaskEscalation.objects.filter(task=task, target_organization__isnull=False)
               .values_list("target_organization_id", flat=True))


def task_get_for_user(*, user: User, task_id: int) -> Task:
    task = tasks_visible_to(user=user).filter(pk=task_id).first()
    if task is None:
        raise NotFound()
    return task


@dataclasses.dataclass(frozen=True)
class EscalationPlanStep:
    """One step of a task's escalation: what its policy plans, and what happened when it fired."""

    level: int
    target: str
    planned_at: datetime.datetime
    state: str  # fired | pending (fires if the task is still open then) | not_needed (the task left `open`)
    target_organization: Organization | None  # the policy's fixed organisation, or the one the step reached
    fired_at: datetime.datetime | None
    recipients: int | None


def task_escalation_plan(*, task: Task) -> list[EscalationPlanStep]:
    """Every step of the task's policy in firing order, planned at due time + the step's offset, merged with the
    steps that fired (a fired step shows whom it reached: the ward section when the last step reached nobody).
    A step after one that reached nobody fires at once, so before its planned time."""
    planned = list(EscalationStep.objects.filter(policy_id=task.escalation_policy_id)
                   .select_related("target_organization").order_by("position")) if task.escalation_policy_id else []
    fired = {row.level: row for row in task.escalations.select_related("target_organization")}
    still_open = task.status == TaskStatus.OPEN
    plan = []
    for level in sorted({*range(1, len(planned) + 1), *fired}):
        step = planned[level - 1] if level <= len(planned) else None
        row = fired.get(level)
        if row is not None:
            plan.append(EscalationPlanStep(
                level=level, target=row.target, target_organization=row.target_organization, state="fired",
                planned_at=task.due_at + step.after if step is not None else row.fired_at,
                fired_at=row.fired_at, recipients=row.recipients,
            ))
        else:
            plan.append(EscalationPlanStep(
                level=level, target=step.target, target_organization=step.target_organization,
                planned_at=task.due_at + step.after, state="pending" if still_open else "not_needed",
                fired_at=None, recipients=None,
            ))
    return plan


# Partner reports: a partner business sees its own reports and their state, nothing else; those who see a
# task see the reports routed to it, and of their candidates only the residents they see themselves.
def partner_reports_of(*, user: User) -> QuerySet[PartnerReport]:
    organizations = actor_for(user=user).reporting_organization_ids
    return (PartnerReport.objects.filter(agreement__organization_id__in=organizations)
            .select_related("agreement").order_by("id"))


def partner_report_get_for_partner(*, user: User, report_id: int) -> PartnerReport:
    report = partner_reports_of(user=user).filter(pk=report_id).first()
    if report is None:
        raise NotFound()
    return report


@dataclasses.dataclass(frozen=True)
class TaskSignal:
    """A partner's report as those who work its task read it: candidates cut to the residents they see."""

    report: PartnerReport
    outcome: str
    joined: bool
    candidate_ids: list[int]


def partner_reports_for_task(*, user: User, task_id: int) -> list[TaskSignal]:
    task = task_get_for_user(user=user, task_id=task_id)
    routings = list(PartnerReportRouting.objects.filter(task=task)
                    .select_related("report__agreement__organization").order_by("report_id"))
    candidates: dict[int, list[int]] = {}
    for report_id, resident_id in PartnerReportCandidate.objects.filter(
            report_id__in=[r.report_id for r in routings]).order_by("resident_id").values_list(
            "report_id", "resident_id"):
        candidates.setdefault(report_id, []).append(resident_id)
    visible = resident_ids_visible_to(user=user, resident_ids=sorted({i for ids in candidates.values() for i in ids}))
    return [TaskSignal(r.report, r.outcome, r.joined, [i for i in candidates.get(r.report_id, []) if i in visible])
            for r in routings]
# --- Disaster mode ------------------------------------------------------------------------------------
# The list's entries are read through their own grants (permissions/policy.py): the ward section keeps them;
# a supporter sees an entry by the resident's consent, or by a DCBA49-11-3 grant while an event lasts.

def evacuation_entries_visible_to(*, user: User) -> QuerySet[EvacuationListEntry]:
    rows = EvacuationListEntry.objects.select_related("resident__district").order_by(
        "resident__district__code", "resident__name_kana_key", "id")
    return scope(rows, user=user, codename="view_evacuationlistentry")


def evacuation_entry_get_for_user(*, user: User, entry_id: int, field: str | None = None) -> EvacuationListEntry:
    entry = evacuation_entries_visible_to(user=user).filter(pk=entry_id).first()
    if entry is None:
        raise NotFound(field=field)
    return entry


def evacuation_plans_for_user(*, user: User, entry: EvacuationListEntry) -> QuerySet[EvacuationPlan]:
    """Every version of the entry's plan, oldest first, for those the plan is shared with (else 404)."""
    if not scope(EvacuationListEntry.objects.filter(pk=entry.pk), user=user,
                 codename="view_evacuation_plan").exists():
        raise NotFound()
    return EvacuationPlan.objects.filter(entry=entry).select_related("entry").order_by("created_at", "id")


def evacuation_plan_current(*, entry: EvacuationListEntry) -> EvacuationPlan | None:
    return EvacuationPlan.objects.filter(entry=entry, superseded_by__isnull=True).first()


def _event_supporters(event: DisasterEvent) -> set[int]:
    return set(event.supporter_organizations.values_list("id", flat=True))


def disaster_events_visible_to(*, user: User) -> QuerySet[DisasterEvent]:
    """Events of the wards whose section the user works in, and events naming the user's organisation."""
    actor = actor_for(user=user)
    wards = sorted({s.ward_id for s in actor.standings if s.organization_kind == OrganizationKind.WARD_SECTION})
    organizations = sorted({s.organization_id for s in actor.standings if s.casework})
    if not wards and not organizations:
        return DisasterEvent.objects.none()
    return DisasterEvent.objects.filter(
        Q(ward_id__in=wards) | Q(supporter_organizations__in=organizations)).distinct().order_by("-declared_at", "-id")


def disaster_event_get_for_user(*, user: User, event_id: int) -> DisasterEvent:
    event = disaster_events_visible_to(user=user).filter(pk=event_id).first()
    if event is None:
        raise NotFound()
    return event


@dataclasses.dataclass(frozen=True)
class DistrictProgress:
    """A district's safety checks, as counts only: the progress view never names anyone."""

    district_id: int
    district_code: str
    total: int
    open: int
    escalated: int
    outcomes: dict[str, int]


def disaster_event_progress(*, user: User, event: DisasterEvent) -> list[DistrictProgress]:
    """Counts by district and outcome (one grouped query over the event's checks)."""
    keeper, supporter = disaster_event_parties(actor=actor_for(user=user), event=event,
                                               supporter_ids=_event_supporters(event))
    if not (keeper or supporter):
        raise NotFound()
    rows = (Task.objects.filter(disaster_event=event, kind=TaskKind.DISASTER_CHECK).order_by()
            .values("resident__district_id", "resident__district__code", "status", "outcome")
            .annotate(n=models_count("id"), escalated=models_count("id", filter=Q(escalation_level__gt=0))))
    by_district: dict[int, dict] = {}
    for row in rows:
        entry = by_district.setdefault(row["resident__district_id"], {
            "code": row["resident__district__code"], "total": 0, "open": 0, "escalated": 0,
            "outcomes": dict.fromkeys(CheckOutcome.values, 0)})
        entry["total"] += row["n"]
        if row["status"] in (TaskStatus.OPEN, TaskStatus.ACKNOWLEDGED):
            entry["open"] += row["n"]
            entry["escalated"] += row["escalated"]
        if row["outcome"] in entry["outcomes"]:
            entry["outcomes"][row["outcome"]] += row["n"]
    return [DistrictProgress(district_id, e["code"], e["total"], e["open"], e["escalated"], e["outcomes"])
            for district_id, e in sorted(by_district.items(), key=lambda item: item[1]["code"])]


@dataclasses.dataclass(frozen=True)
class ExportRow:
    entry: EvacuationListEntry
    outcome: str
    evacuated_to: str
    task_status: str


@dataclasses.dataclass(frozen=True)
class DisasterExport:
    rows: list[ExportRow]
    organization: str  # the exporting organisation's name, printed in the heading
    generated_at: datetime.datetime


def disaster_export_for(*, user: User, event: DisasterEvent, district_id: int | None = None) -> DisasterExport:
    """The list of the event's area as the user may see it now, with each resident's latest check outcome."""
    actor = actor_for(user=user)
    standing = authorize_disaster_export(actor=actor, event=event, supporter_ids=_event_supporters(event))
    districts = set(event.districts.values_list("id", flat=True))
    if district_id is not None:
        districts &= {district_id}
    entries = list(evacuation_entries_visible_to(user=user).filter(
        status=EntryStatus.LISTED, resident__district_id__in=districts).select_related("resident__district"))
    resident_ids = [entry.resident_id for entry in entries]
    tasks = {t.resident_id: t for t in Task.objects.filter(disaster_event=event, kind=TaskKind.DISASTER_CHECK,
                                                           resident_id__in=resident_ids).only(
        "resident_id", "status", "outcome")}
    places: dict[int, str] = {}
    for resident_id, place in SafetyCheckReport.objects.filter(
            event=event, resident_id__in=resident_ids, outcome="evacuated").order_by(
            "observed_at", "id").values_list("resident_id", "evacuated_to"):
        places[resident_id] = place
    rows = []
    for entry in entries:
        task = tasks.get(entry.resident_id)
        outcome = task.outcome if task else ""
        rows.append(ExportRow(entry, outcome, places.get(entry.resident_id, "") if outcome == "evacuated" else "",
                              task.status if task else ""))
    organization = Organization.objects.filter(pk=standing.organization_id).values_list("name", flat=True).first()
    return DisasterExport(rows, organization or "", timezone.now())
