"""Reads of the disaster mode: the evacuation list, its plans, events, their progress and the export."""

from __future__ import annotations

import dataclasses
import datetime

from django.db.models import Count as models_count
from django.db.models import Q, QuerySet
from django.utils import timezone

from cases.errors import NotFound
from cases.models import (
    DisasterEvent,
    EvacuationListEntry,
    EvacuationPlan,
    Organization,
    Task,
    User,
)
from cases.models.choices import OrganizationKind
from cases.models.disaster import CheckOutcome, EntryStatus, SafetyCheckReport
from cases.models.escalations import TaskKind
from cases.models.tasks import TaskStatus
from permissions.access import scope
from permissions.actors import actor_for
from permissions.guards import authorize_disaster_export, disaster_event_parties

# --- Disaster mode ------------------------------------------------------------------------------------
# The list's entries are read through their own grants (permissions/policy/rules.py): the ward section keeps them;
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
