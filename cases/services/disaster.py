"""Disaster mode: keeping the evacuation-support list and its plans, declaring and closing events, and the
safety-check campaign of an event.

- The list is derived from the register by the ward's criteria (settings `EVACUATION_LIST_*`), plus manual
  additions and removals with a reason; a manual removal sticks. Who receives an entry is the policy's
  (consent for `disaster_evacuation` in peacetime, DCBA49-11-3 during an event): services only change the
  sources of truth and re-derive.
- Declaring an event writes the event and enqueues its campaign; the campaign opens, in bounded chunks of
  residents on the bulk queue, the DCBA49-11-3 grants (one per supporter organisation and resident; never for
  an exercise) and one safety-check task per listed resident in the area (an exercise: only residents whose
  consent already shares their entry with a supporter). Each chunk is one transaction of set-wise inserts
  that skip what exists (unique per event, organisation and resident; a task's dedupe key), and moves the
  event's cursor: a retried declaration, a repeated chunk or two workers at once create nothing twice.
- Closing an event ends every grant of the event at that moment (and the grant rows that carried it) and
  opens a review task per grant for the ward section and the ward's privacy officers.
- Outcomes come from phones offline-first, like visits: each report once per (recorder, client_id).
"""

from __future__ import annotations

import datetime
import logging
import uuid
from dataclasses import dataclass

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import CharField, F, Value
from django.db.models.functions import Cast, Concat
from django.utils import timezone

from audit.changes import changes_create, changes_update
from cases.errors import Conflict, DomainError, NotFound, RuleViolation
from cases.models import (
    DisasterEvent,
    District,
    DistrictAssignment,
    EvacuationListEntry,
    EvacuationPlan,
    LegalBasis,
    LegalBasisGrant,
    Membership,
    Organization,
    Resident,
    SafetyCheckReport,
    Task,
    TaskKind,
    TaskStatus,
    User,
)
from cases.models.choices import OrganizationKind, Role, Urgency
from cases.models.consent import GrantStatus
from cases.models.disaster import CheckOutcome, EntrySource, EntryStatus, EventStatus, HelpNeed, ListReason
from cases.selectors import task_reached_organizations
from cases.services.tasks import escalation_policy_for, queue_recipients
from cases.services.visits import BATCH_LIMIT
from notifications.outbox import Message, outbox_write
from permissions.actors import EVACUATION_SUPPORTER_KINDS, actor_for, members_of, privacy_officers_of
from permissions.bases import basis_rule
from permissions.grants import grants_sync_entries
from permissions.guards import (
    authorize_disaster_declare,
    authorize_evacuation_list_keep,
    authorize_task_work,
)
from permissions.models import EvacuationEntryGroupObjectPermission

logger = logging.getLogger("cases.disaster")

CHUNK = 500  # residents per campaign chunk: one transaction of a few set-wise inserts
SYNC_BATCH = 2000
REVIEW_WITHIN = datetime.timedelta(days=7)
CHECK_CLOCK_SKEW = datetime.timedelta(minutes=10)
# Prioritised by need: how soon a check is due after the event starts.
DUE_AFTER = {Urgency.EMERGENCY: datetime.timedelta(hours=1), Urgency.URGENT: datetime.timedelta(hours=3),
             Urgency.ROUTINE: datetime.timedelta(hours=6)}
MEDICAL_NEEDS = frozenset({HelpNeed.OXYGEN, HelpNeed.DIALYSIS, HelpNeed.OTHER_MEDICAL_DEVICE})
REASON_MAX = 200


# --- The list ----------------------------------------------------------------------------------------

def _age(born: datetime.date, on: datetime.date) -> int:
    return on.year - born.year - ((on.month, on.day) < (born.month, born.day))


def list_reasons(*, date_of_birth: datetime.date, household_type: str, special_care: list[str],
                 on: datetime.date) -> list[str]:
    """Why the ward's criteria list a resident (empty: they do not)."""
    reasons: list[str] = []
    matched = sorted(set(special_care or []) & set(settings.EVACUATION_LIST_SPECIAL_CARE))
    if matched:
        reasons += [ListReason.SPECIAL_CARE, *matched]
    if (_age(date_of_birth, on) >= settings.EVACUATION_LIST_MIN_AGE
            and household_type in settings.EVACUATION_LIST_HOUSEHOLD_TYPES):
        reasons += [ListReason.AGE, ListReason.HOUSEHOLD]
    return reasons


@dataclass
class RefreshReport:
    """The list after a refresh: the same answer however often it runs on the same register."""

    listed: int = 0
    removed: int = 0


def _sync_entries(resident_ids: list[int]) -> None:
    for start in range(0, len(resident_ids), SYNC_BATCH):
        grants_sync_entries(resident_ids=resident_ids[start:start + SYNC_BATCH])


def evacuation_list_refresh(*, actor: User) -> RefreshReport:
    """Derive the actor's ward's list from the register: add whoever the criteria now list, update the reasons,
    and take off entries the criteria listed that they no longer do. Manual additions and removals stay."""
    standing = authorize_evacuation_list_keep(actor=actor_for(user=actor))
    today = timezone.localdate()
    wanted: dict[int, list[str]] = {}
    for resident_id, born, household, care in Resident.objects.filter(
            district__council_area__ward_id=standing.ward_id).values_list(
            "id", "date_of_birth", "household_type", "special_care").iterator(chunk_size=5000):
        reasons = list_reasons(date_of_birth=born, household_type=household, special_care=care, on=today)
        if reasons:
            wanted[resident_id] = reasons
    now = timezone.now()
    with transaction.atomic():
        existing = {entry.resident_id: entry for entry in EvacuationListEntry.objects.select_for_update().filter(
            ward_id=standing.ward_id)}
        new = [EvacuationListEntry(resident_id=rid, ward_id=standing.ward_id, reasons=reasons,
                                   source=EntrySource.CRITERIA, created_at=now, updated_at=now)
               for rid, reasons in wanted.items() if rid not in existing]
        changes_create(EvacuationListEntry, new, key=("resident_id",), batch_size=CHUNK, ignore_conflicts=True)
        changed = [entry.resident_id for entry in new]
        for rid, entry in existing.items():
            if entry.source != EntrySource.CRITERIA or entry.status != EntryStatus.LISTED:
                continue
            if rid not in wanted:
                changes_update(EvacuationListEntry.objects.all(), {
                    "status": EntryStatus.REMOVED, "change_reason": "基準に該当しなくなった", "changed_by": actor,
                    "updated_at": now}, obj=entry)
                changed.append(rid)
            elif wanted[rid] != entry.reasons:
                changes_update(EvacuationListEntry.objects.all(), {"reasons": wanted[rid], "updated_at": now},
                               obj=entry)
        _sync_entries(sorted(changed))
        entries = EvacuationListEntry.objects.filter(ward_id=standing.ward_id)
        return RefreshReport(listed=entries.filter(status=EntryStatus.LISTED).count(),
                             removed=entries.filter(status=EntryStatus.REMOVED).count())


def _reason(text: str) -> str:
    text = (text or "").strip()
    if len(text) < 2 or len(text) > REASON_MAX:
        raise RuleViolation("evacuation_reason_required", field="reason")
    return text


def evacuation_entry_add(*, actor: User, resident_id: int, sex: str, reason: str) -> EvacuationListEntry:
    """Put a resident of the keeper's ward on the list by hand (or back on it), saying why."""
    standing = authorize_evacuation_list_keep(actor=actor_for(user=actor))
    text = _reason(reason)
    resident = Resident.objects.filter(pk=resident_id, district__council_area__ward_id=standing.ward_id).first()
    if resident is None:
        raise NotFound(field="resident")
    now = timezone.now()
    with transaction.atomic():
        entry = EvacuationListEntry.objects.select_for_update().filter(resident=resident).first()
        if entry is not None and entry.status == EntryStatus.LISTED:
            raise Conflict("evacuation_entry_exists", field="resident")
        if entry is None:
            entry = EvacuationListEntry(resident=resident, ward_id=standing.ward_id, created_at=now)
        entry.sex, entry.reasons, entry.source, entry.status = sex, [ListReason.MANUAL], EntrySource.MANUAL, \
            EntryStatus.LISTED
        entry.ward_id = standing.ward_id  # a resident who moved here is listed by their new ward
        entry.change_reason, entry.changed_by, entry.updated_at = text, actor, now
        entry.save()
        grants_sync_entries(resident_ids=[resident.id])
    return entry


def evacuation_entry_remove(*, actor: User, entry: EvacuationListEntry, reason: str) -> EvacuationListEntry:
    """Take an entry off the list by hand, saying why (moved away, in a facility, declined ...). It stays off."""
    authorize_evacuation_list_keep(actor=actor_for(user=actor), ward_id=entry.ward_id)
    text = _reason(reason)
    changes = {"status": EntryStatus.REMOVED, "change_reason": text, "changed_by": actor,
               "updated_at": timezone.now()}
    with transaction.atomic():
        if changes_update(EvacuationListEntry.objects.filter(status=EntryStatus.LISTED), changes, obj=entry) != 1:
            raise Conflict("evacuation_entry_not_listed")
        grants_sync_entries(resident_ids=[entry.resident_id])
    entry.refresh_from_db()
    return entry


def evacuation_plan_write(
    *, actor: User, entry: EvacuationListEntry, supporters: list[dict], destination: str, needs: list[str],
    needs_note: str = "", contact: str = "", supersedes: EvacuationPlan | None = None,
) -> EvacuationPlan:
    """Write the entry's plan: the first version, or a new version of the current one (never edited in place).

    Supporter organisations must be of the ward; the plan reaches them only within the resident's consent.
    """
    standing = authorize_evacuation_list_keep(actor=actor_for(user=actor), ward_id=entry.ward_id)
    current = EvacuationPlan.objects.filter(entry=entry, superseded_by__isnull=True).first()
    if (current.id if current else None) != (supersedes.id if supersedes else None):
        raise Conflict("evacuation_plan_superseded", field="supersedes")
    org_ids = {s["organization"] for s in supporters if s.get("organization")}
    if org_ids and Organization.objects.filter(
            id__in=org_ids, ward_id=entry.ward_id, kind__in=EVACUATION_SUPPORTER_KINDS).count() != len(org_ids):
        raise RuleViolation("evacuation_supporter_invalid", field="supporters")
    try:
        with transaction.atomic():
            plan = EvacuationPlan.objects.create(
                entry=entry, supporters=supporters, destination=destination.strip(), needs=sorted(set(needs)),
                needs_note=needs_note.strip(), contact=contact.strip(), author=actor,
                author_organization_id=standing.organization_id, supersedes=current, created_at=timezone.now())
            grants_sync_entries(resident_ids=[entry.resident_id])
    except IntegrityError:
        raise Conflict("evacuation_plan_superseded", field="supersedes") from None
    return plan


# --- Events --------------------------------------------------------------------------------------------

def _event_notify(event: DisasterEvent, users, *, what: str, reason: str, urgent: bool = True) -> None:
    """Ids and a link only; an exercise's events are their own codes, whose texts carry 【訓練】."""
    outbox_write(
        Message(reason=reason, recipient_id=user.id, recipient_email=user.email,
                event=f"{'exercise' if event.exercise else 'disaster'}_{what}", subject_type="disaster_event",
                subject_id=event.id, link=f"/api/v1/disaster-events/{event.id}", urgent=urgent)
        for user in {u.id: u for u in users}.values()
    )


def disaster_event_declare(
    *, actor: User, client_id: uuid.UUID, kind: str, district_ids: list[int], supporter_organization_ids: list[int],
    exercise: bool, starts_at: datetime.datetime | None = None,
) -> tuple[DisasterEvent, bool]:
    """Declare a disaster (or an exercise) over districts of the declarer's ward; returns (event, created).

    A retry with the same client_id returns the event it declared. It may have started earlier (declared late),
    never later: sharing without consent needs a disaster that occurs or threatens now. The campaign starts after
    commit.
    """
    existing = DisasterEvent.objects.filter(client_id=client_id).first()
    standing = authorize_disaster_declare(actor=actor_for(user=actor))
    if existing is not None:
        if existing.ward_id != standing.ward_id:
            raise Conflict("disaster_client_id_reused", field="client_id")
        return existing, False
    now = timezone.now()
    starts_at = starts_at or now
    if starts_at > now or starts_at < now - basis_rule(LegalBasis.DISASTER).max_duration:
        raise RuleViolation("disaster_start_invalid", field="starts_at")
    districts = set(district_ids)
    if not districts or District.objects.filter(
            id__in=districts, council_area__ward_id=standing.ward_id).count() != len(districts):
        raise RuleViolation("disaster_districts_invalid", field="districts")
    supporters = set(supporter_organization_ids)
    if not supporters or Organization.objects.filter(id__in=supporters, ward_id=standing.ward_id,
                                                     kind__in=EVACUATION_SUPPORTER_KINDS).count() != len(supporters):
        raise RuleViolation("evacuation_supporter_invalid", field="supporter_organizations")
    try:
        with transaction.atomic():
            event = DisasterEvent.objects.create(
                ward_id=standing.ward_id, client_id=client_id, kind=kind, exercise=exercise, starts_at=starts_at,
                declared_by=actor, declared_by_organization_id=standing.organization_id, declared_at=now)
            event.districts.set(sorted(districts))
            event.supporter_organizations.set(sorted(supporters))
            users = [u for org in Organization.objects.filter(id__in=supporters) for u in queue_recipients(org)]
            _event_notify(event, users, what="declared", reason=f"disaster_event:{event.id}:declared")
            transaction.on_commit(lambda: _enqueue_campaign(event.id))
    except IntegrityError:
        # A concurrent retry of the same declaration committed first.
        return DisasterEvent.objects.get(client_id=client_id), False
    return event, True


def _enqueue_campaign(event_id: int) -> None:
    """Start the campaign on the bulk queue. Never raises: if the broker is down, the campaign sweep
    (`cases.tasks.disaster_campaigns_sweep`) finds the event by its missing `checks_opened_at`."""
    from cases.tasks import disaster_campaign

    try:
        disaster_campaign.apply_async(args=[event_id], queue="bulk", retry=True, retry_policy={
            "max_retries": 1, "interval_start": 0, "interval_step": 0.2, "interval_max": 0.2})
    except Exception as error:  # the broker is down or unreachable
        logger.warning("disaster campaign %s not enqueued (%s): the sweep starts it", event_id, type(error).__name__)


def _supporter_groups(event: DisasterEvent, supporters: list[Organization]) -> list[int]:
    """The groups the supporters read the list through (a commissioner council: the event's districts)."""
    groups = {org.group_id for org in supporters if org.kind != OrganizationKind.COMMISSIONER_COUNCIL}
    if any(org.kind == OrganizationKind.COMMISSIONER_COUNCIL for org in supporters):
        groups |= set(event.districts.values_list("group_id", flat=True))
    return sorted(groups)


def _consented(event: DisasterEvent, supporters: list[Organization], resident_ids: list[int]) -> set[int]:
    """Residents whose entry a supporter receives right now by consent (what an exercise may use)."""
    now = timezone.now()
    return set(EvacuationEntryGroupObjectPermission.objects.filter(
        content_object__resident_id__in=resident_ids, group_id__in=_supporter_groups(event, supporters),
        permission__codename="view_evacuationlistentry", basis__startswith="consent:", valid_from__lte=now,
        valid_until__gt=now).values_list("content_object__resident_id", flat=True))


def _urgency(special_care: list[str], household: str, needs: set[str]) -> str:
    if needs & MEDICAL_NEEDS or "bedridden" in (special_care or []):
        return Urgency.EMERGENCY
    if HelpNeed.MOBILITY in needs or HelpNeed.INTERPRETER in needs or household == "lives_alone":
        return Urgency.URGENT
    return Urgency.ROUTINE


def _commissioners(district_ids: set[int]) -> dict[int, int]:
    """District → its commissioner now (the first by membership), for naming the check's assignee."""
    found: dict[int, int] = {}
    for district_id, user_id in DistrictAssignment.objects.filter(
            district_id__in=district_ids, membership__in=Membership.objects.active().filter(
                role=Role.COMMISSIONER)).order_by("membership_id").values_list("district_id", "membership__user_id"):
        found.setdefault(district_id, user_id)
    return found


def disaster_campaign_step(*, event_id: int) -> bool:
    """Open the next chunk of the event's campaign; returns True while there is more to open.

    One transaction: the event row is locked, so concurrent runs of one campaign queue behind each other,
    and every insert skips what exists, so a repeated run opens nothing twice.
    """
    with transaction.atomic():
        event = DisasterEvent.objects.select_for_update().filter(pk=event_id).first()
        if event is None or event.status != EventStatus.ACTIVE or event.checks_opened_at is not None:
            return False
        rows = list(EvacuationListEntry.objects.filter(
            ward_id=event.ward_id, status=EntryStatus.LISTED, resident__district__in=event.districts.all(),
            resident_id__gt=event.checks_cursor).order_by("resident_id").values_list(
            "id", "resident_id", "resident__district_id", "resident__district__council_area__council_id",
            "resident__special_care", "resident__household_type", "resident__do_not_contact")[:CHUNK])
        now = timezone.now()
        if not rows:
            DisasterEvent.objects.filter(pk=event.pk).update(checks_opened_at=now)
            return False
        supporters = list(event.supporter_organizations.all())
        resident_ids = [row[1] for row in rows]
        if event.exercise:
            consented = _consented(event, supporters, resident_ids)
            rows = [row for row in rows if row[1] in consented]
        else:
            _provide(event, supporters, [(row[1], row[3]) for row in rows], now)
        tasks = _checks(event, rows, supporters, now)
        changes_create(Task, tasks, key=("dedupe_key",), batch_size=CHUNK, ignore_conflicts=True)
        _announce_chunk(event, tasks, cursor=resident_ids[-1])
        DisasterEvent.objects.filter(pk=event.pk).update(checks_cursor=resident_ids[-1])
    return True


def _provide(event: DisasterEvent, supporters: list[Organization], residents: list[tuple[int, int | None]],
             now: datetime.datetime) -> None:
    """DCBA49-11-3: one grant per supporter organisation and resident, open until the event closes. A commissioner
    council receives its own area's residents only (its commissioners read them through their districts)."""
    rule = basis_rule(LegalBasis.DISASTER)
    starts = max(event.starts_at, event.declared_at)
    ends = starts + rule.max_duration
    changes_create(LegalBasisGrant, [
        LegalBasisGrant(
            resident_id=resident_id, organization=org, basis=LegalBasis.DISASTER, categories=["basic"],
            justification=f"災害対策基本法第49条の11第3項：災害イベント{event.id}（{event.get_kind_display()}）",
            disaster_event=event, status=GrantStatus.ACTIVE, requested_by_id=event.declared_by_id,
            approved_by_id=event.declared_by_id, starts_at=starts, ends_at=ends, review_due_at=ends, created_at=now)
        for resident_id, council_id in residents for org in supporters
        if org.kind != OrganizationKind.COMMISSIONER_COUNCIL or org.id == council_id
    ], key=("resident_id", "organization_id", "disaster_event_id"), batch_size=CHUNK * 4, ignore_conflicts=True)
    grants_sync_entries(resident_ids=[resident_id for resident_id, _ in residents])


def _checks(event: DisasterEvent, rows: list[tuple], supporters: list[Organization],
            now: datetime.datetime) -> list[Task]:
    """One check per resident: the plan's supporter among the event's, else the district's commissioner (when
    the council supports the event), else the first supporter; a do-not-contact household: the ward section."""
    supporter_ids = {org.id for org in supporters}
    plans = {plan.entry_id: plan for plan in EvacuationPlan.objects.filter(
        entry_id__in=[row[0] for row in rows], superseded_by__isnull=True)}
    commissioners = _commissioners({row[2] for row in rows})
    fallback = min(supporter_ids)
    policies: dict[tuple[str, str], object] = {}
    kinds = dict(Organization.objects.filter(
        id__in=supporter_ids | {event.declared_by_organization_id}).values_list("id", "kind"))
    tasks = []
    for entry_id, resident_id, district_id, council_id, care, household, do_not_contact in rows:
        plan = plans.get(entry_id)
        needs = set(plan.needs) if plan else set()
        urgency = _urgency(care, household, needs)
        user_id, instruction = None, ""
        named = sorted((plan.supporter_organization_ids if plan else set()) & supporter_ids)
        if do_not_contact:
            organization_id, instruction = event.declared_by_organization_id, "do_not_contact"
        elif named and kinds[named[0]] != OrganizationKind.COMMISSIONER_COUNCIL:
            organization_id = named[0]
        elif council_id in supporter_ids:
            organization_id, user_id = council_id, commissioners.get(district_id)
        else:
            organization_id = named[0] if named else fallback
        kind = kinds.get(organization_id, OrganizationKind.WARD_SECTION)
        if (kind, urgency) not in policies:
            policies[(kind, urgency)] = escalation_policy_for(kind=TaskKind.DISASTER_CHECK, organization_kind=kind,
                                                              urgency=urgency)
        policy = policies[(kind, urgency)]
        due = max(event.starts_at, event.declared_at) + DUE_AFTER[urgency]
        first = policy.steps.order_by("position").first() if policy else None
        tasks.append(Task(
            kind=TaskKind.DISASTER_CHECK, urgency=urgency, assignee_organization_id=organization_id,
            assignee_user_id=user_id, instruction_code=instruction, due_at=due, resident_id=resident_id,
            disaster_event=event, escalation_policy=policy, next_escalation_at=due + first.after if first else None,
            dedupe_key=f"disaster:{event.id}:resident:{resident_id}", created_by_id=event.declared_by_id,
            created_at=now))
    return tasks


def _announce_chunk(event: DisasterEvent, tasks: list[Task], *, cursor: int) -> None:
    """One message per assignee for the chunk (its checks are in their queue), never one per resident."""
    users: dict[int, User] = {}
    named = User.objects.in_bulk({t.assignee_user_id for t in tasks if t.assignee_user_id})
    for user in named.values():
        users[user.id] = user
    queues = {t.assignee_organization_id for t in tasks if not t.assignee_user_id}
    for org in Organization.objects.filter(id__in=queues):
        users.update({u.id: u for u in queue_recipients(org)})
    _event_notify(event, users.values(), what="checks_assigned", reason=f"disaster_event:{event.id}:checks:{cursor}")


def disaster_event_close(*, actor: User, event: DisasterEvent) -> DisasterEvent:
    """Close the event: every grant of it ends now, each gets a review task, open checks stay to be finished."""
    authorize_disaster_declare(actor=actor_for(user=actor), ward_id=event.ward_id)
    now = timezone.now()
    with transaction.atomic():
        if DisasterEvent.objects.filter(pk=event.pk, status=EventStatus.ACTIVE).update(
                status=EventStatus.CLOSED, closed_at=now, closed_by=actor) != 1:
            raise Conflict("disaster_event_closed")
        grants = LegalBasisGrant.objects.filter(disaster_event=event, ends_at__gt=now)
        _end_grant_rows(event, now)
        changes_update(grants, {"ends_at": now})
        _review_tasks(event, now)
        reviewers = members_of(event.declared_by_organization, roles=[Role.SUPERVISOR]) + privacy_officers_of(
            ward_id=event.ward_id)
        _event_notify(event, [u for u in reviewers if u.id != actor.id], what="closed",
                      reason=f"disaster_event:{event.id}:closed")
    event.refresh_from_db()
    return event


def _end_grant_rows(event: DisasterEvent, now: datetime.datetime) -> None:
    """The entry grants that carry the event's grants end at the closing, in one UPDATE: exactly what
    re-deriving would write (each window ends with its grant), without re-deriving thousands of residents."""
    bases = LegalBasisGrant.objects.filter(disaster_event=event).annotate(
        named=Concat(Value(f"{LegalBasis.DISASTER}:"), Cast("id", CharField()), output_field=CharField())
    ).values("named")
    EvacuationEntryGroupObjectPermission.objects.filter(basis__in=bases, valid_until__gt=now).update(
        valid_until=now)


def _review_tasks(event: DisasterEvent, now: datetime.datetime) -> None:
    """A review task per grant of the event (dedupe `grant:<id>:review`), for the declaring ward section."""
    last = 0
    while True:
        batch = list(LegalBasisGrant.objects.filter(disaster_event=event, id__gt=last).order_by("id").values_list(
            "id", "resident_id")[:CHUNK * 4])
        if not batch:
            return
        changes_create(Task, [
            Task(kind=TaskKind.REVIEW_GRANT, urgency=Urgency.ROUTINE,
                 assignee_organization_id=event.declared_by_organization_id, due_at=now + REVIEW_WITHIN,
                 resident_id=resident_id, legal_basis_grant_id=grant_id, disaster_event=event,
                 dedupe_key=f"grant:{grant_id}:review", created_at=now)
            for grant_id, resident_id in batch], key=("dedupe_key",), batch_size=CHUNK * 4, ignore_conflicts=True)
        last = batch[-1][0]


def disaster_campaigns_pending() -> list[int]:
    """Active events whose campaign has not opened every check (the sweep continues them)."""
    return list(DisasterEvent.objects.filter(status=EventStatus.ACTIVE, checks_opened_at__isnull=True)
                .order_by("id").values_list("id", flat=True))


# --- Safety-check reports --------------------------------------------------------------------------------

@dataclass
class ReportResult:
    index: int
    client_id: str | None
    status: int
    report: SafetyCheckReport | None = None
    error: DomainError | Exception | None = None


def safety_check_report(
    *, actor: User, event: DisasterEvent, task: Task, client_id: uuid.UUID, outcome: str,
    observed_at: datetime.datetime, evacuated_to: str = "",
) -> tuple[SafetyCheckReport, bool]:
    """Store an outcome once per (recorder, client_id). Any outcome but `not_reached` completes the check; a
    check nobody reached stays open, so its escalation goes on."""
    existing = SafetyCheckReport.objects.filter(recorded_by=actor, client_id=client_id).first()
    if existing is not None:
        if existing.task_id != task.id:
            raise Conflict("check_client_id_reused", field="client_id")
        return existing, False
    authorize_task_work(actor=actor_for(user=actor), task=task, reached=task_reached_organizations(task=task))
    now = timezone.now()
    if observed_at > now + CHECK_CLOCK_SKEW or observed_at < event.starts_at - CHECK_CLOCK_SKEW:
        raise RuleViolation("check_time_invalid", field="observed_at")
    if outcome == CheckOutcome.EVACUATED and not evacuated_to.strip():
        raise RuleViolation("evacuated_to_required", field="evacuated_to")
    try:
        with transaction.atomic():
            report = SafetyCheckReport.objects.create(
                event=event, task=task, resident_id=task.resident_id, client_id=client_id, outcome=outcome,
                evacuated_to=evacuated_to.strip() if outcome == CheckOutcome.EVACUATED else "",
                observed_at=observed_at, uploaded_at=now, recorded_by=actor)
            latest = not SafetyCheckReport.objects.filter(task=task, observed_at__gt=observed_at).exists()
            if latest and outcome != CheckOutcome.NOT_REACHED:
                changes_update(Task.objects.filter(status__in=[TaskStatus.OPEN, TaskStatus.ACKNOWLEDGED]), {
                    "status": TaskStatus.COMPLETED, "closed_at": now, "closed_by": actor, "next_escalation_at": None,
                    "acknowledged_at": F("acknowledged_at") if task.acknowledged_at else now,
                    "acknowledged_by": task.acknowledged_by or actor}, obj=task)
            if latest:
                changes_update(Task.objects.all(), {"outcome": outcome}, obj=task)
    except IntegrityError:
        existing = SafetyCheckReport.objects.filter(recorded_by=actor, client_id=client_id).first()
        if existing is None:
            raise
        return existing, False
    return report, True


def safety_checks_record_batch(*, actor: User, event: DisasterEvent, items: list, resolve_task,
                               validate) -> list[ReportResult]:
    """A phone's offline reports for the event; each item is stored or refused on its own (as a visit batch).

    `validate(item)` returns an item's fields or raises the API's validation error; `resolve_task(resident_id)`
    finds the event's check of that resident through the read side (raising NotFound).
    """
    if not 1 <= len(items) <= BATCH_LIMIT:
        raise RuleViolation("batch_size", field="items")
    results = []
    for index, item in enumerate(items):
        client_id = item.get("client_id") if isinstance(item, dict) else None
        text = client_id if isinstance(client_id, str) and len(client_id) <= 64 else None
        try:
            fields = validate(item)
            task = resolve_task(fields.pop("resident"))
            report, created = safety_check_report(actor=actor, event=event, task=task, **fields)
            results.append(ReportResult(index, str(report.client_id), 201 if created else 200, report=report))
        except DomainError as error:
            results.append(ReportResult(index, text, error.status, error=error))
        except Exception as error:  # the API's validation error, per item
            status = getattr(error, "status_code", None)
            if status is None:
                raise
            results.append(ReportResult(index, text, status, error=error))
    return results

