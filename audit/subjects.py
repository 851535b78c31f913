"""Which records are a resident's personal data, and how the access log describes each.

For every such model: its `kind` in the log, the resident it is about, the data
category, why a reader may see it (the grant table and permission the policy
gives it through, or a fixed basis such as "supervisor"), and which fields a
change entry may show in clear. Every other field (names, addresses, phone
numbers, free text) appears in a change entry only as a keyed digest.

`tests/audit/test_subjects.py` fails when a model that points at a resident or a
case is missing here, so a new kind of record cannot be read or changed unlogged.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from django.db import models

from audit import models as audit_models
from cases import models as case_models
from cases.models.consent import Category

VISIT_CATEGORY = Category.LIVING_SITUATION
# Bookkeeping fields that never appear in a change entry.
UNTRACKED = frozenset({"id", "updated_at", "version", "name_kana_key", "due_order", "address_key", "room_key"})


@dataclass(frozen=True)
class Subject:
    kind: str
    # The resident ids the record is about; None when they need a query (resolved in bulk at flush).
    residents: Callable[[models.Model], list[int] | None]
    category: Callable[[models.Model], list[str]]
    # Either (grant model, codename, attribute naming the object that carries the grant) or a fixed basis.
    grant: tuple[type[models.Model], str, str] | None = None
    basis: str = ""
    clear: frozenset[str] = field(default_factory=frozenset)
    actor: str = ""  # the field naming who wrote it, for writes outside a request


def _basic(_obj) -> list[str]:
    return [Category.BASIC]


def _resident_of_case(obj) -> list[int] | None:
    if not hasattr(obj, "_state"):  # a row of values (audit.access_log.access_log_read_rows)
        resident_id = getattr(obj, "case__resident_id", None)
        return [resident_id] if resident_id is not None else None
    case = obj._state.fields_cache.get("case")
    return [case.resident_id] if case is not None else None


SUBJECTS: dict[type[models.Model], Subject] = {
    case_models.Resident: Subject(
        "resident", lambda o: [o.id], _basic, grant=(case_models.Resident, "view_resident", "id"),
        clear=frozenset({"district", "household_type", "preferred_language", "interpreter_needed", "special_care",
                         "do_not_contact", "registered_by", "created_at"}),
    ),
    case_models.Case: Subject(
        "case", lambda o: [o.resident_id], _basic, grant=(case_models.Case, "view_case", "id"),
        clear=frozenset({"resident", "status", "risk_level", "lead_organization", "lead_worker", "team",
                         "visit_cadence_days", "next_visit_due", "opened_at", "closed_at"}),
    ),
    case_models.Note: Subject(
        "note", lambda o: [o.resident_id], lambda o: [o.category], grant=(case_models.Note, "view_note", "id"),
        clear=frozenset({"resident", "case", "category", "author", "author_organization", "supersedes",
                         "created_at"}),
        actor="author",
    ),
    case_models.Visit: Subject(
        "visit", _resident_of_case, lambda o: [VISIT_CATEGORY], grant=(case_models.Visit, "view_visit", "id"),
        clear=frozenset({"case", "recorded_by", "organization", "client_id", "occurred_at", "uploaded_at",
                         "channel", "outcome", "warning_signs"}),
        actor="recorded_by",
    ),
    case_models.Consent: Subject(
        "consent", lambda o: [o.resident_id], _basic,
        grant=(case_models.Resident, "view_resident", "resident_id"),
        clear=frozenset({"resident", "decision", "grantor", "recipient_organizations", "recipient_kinds",
                         "categories", "purposes", "valid_from", "valid_until", "method", "taken_by",
                         "taken_by_organization", "taken_at", "withdrawn_at", "withdrawn_by", "withdrawal_grantor"}),
        actor="taken_by",
    ),
    case_models.LegalBasisGrant: Subject(
        "legal_basis_grant", lambda o: [o.resident_id], lambda o: list(o.categories), basis="supervisor",
        clear=frozenset({"resident", "organization", "basis", "categories", "meeting", "status", "requested_by",
                         "approved_by", "starts_at", "ends_at", "revoked_at", "review_due_at", "reviewed_at",
                         "reviewed_by", "review_justified", "created_at"}),
        actor="requested_by",
    ),
    case_models.SupportMeeting: Subject(
        "support_meeting", lambda o: sorted({c.resident_id for c in o.cases.all()}), _basic, basis="meeting_member",
        clear=frozenset({"convened_by", "held_at", "ends_at", "created_at"}),
    ),
    audit_models.AccessLogEntry: Subject(
        "access_log", lambda o: [o.resident_id] if o.resident_id else [], _basic, basis="privacy_officer",
    ),
    audit_models.ProvisionRecord: Subject(
        "provision", lambda o: [o.resident_id], lambda o: [o.category], basis="privacy_officer",
    ),
    audit_models.RightsRequest: Subject(
        "rights_request", lambda o: [o.resident_id], _basic, basis="privacy_officer",
        clear=frozenset({"resident", "ward", "kind", "requester", "identity_check", "identity_checked_by",
                         "received_at", "deadline", "reminder_due_at", "reminded_at", "status", "outcome",
                         "closed_at", "closed_by", "created_at"}),
    ),
    audit_models.LegalHold: Subject(
        "legal_hold", _resident_of_case, _basic, basis="privacy_officer",
        clear=frozenset({"case", "placed_by", "placed_at", "released_by", "released_at"}),
    ),
    # Referrals, their events and tasks: each names its case's resident (a task its own).
    case_models.Referral: Subject(
        "referral", _resident_of_case, lambda o: list(o.categories or []),
        grant=(case_models.Case, "view_case", "case_id"),
        clear=frozenset({"case", "sender_organization", "sender_user", "receiver_organization", "receiver_user",
                         "urgency", "categories", "status", "response_due_at", "requested_at", "answered_at",
                         "answered_by", "closed_at", "team_member_added", "created_at"}),
        actor="sender_user",
    ),
    case_models.ReferralEvent: Subject(
        "referral_event", lambda o: None, _basic, basis="referral_party",
        clear=frozenset({"referral", "action", "from_status", "to_status", "actor", "organization", "at"}),
        actor="actor",
    ),
    case_models.Task: Subject(
        "task", lambda o: [o.resident_id] if o.resident_id else [], _basic, basis="task_queue",
        clear=frozenset({"kind", "status", "urgency", "assignee_organization", "assignee_user", "instruction_code",
                         "due_at", "resident", "case", "visit", "referral", "consent", "legal_basis_grant",
                         "escalation_level", "next_escalation_at", "created_by", "created_at", "acknowledged_at",
                         "acknowledged_by", "closed_at", "closed_by"}),
        actor="created_by",
    ),
    # A resident registered at the address a partner reported: seen by those who work the report's task.
    case_models.PartnerReportCandidate: Subject(
        "partner_report_candidate", lambda o: [o.resident_id], _basic, basis="partner_report",
        clear=frozenset({"report", "resident"}),
    ),
    # Disaster mode: the evacuation-support list's entries (read through their own grants), their plans (through
    # the entry's plan permission) and safety-check reports (the task's queue).
    case_models.EvacuationListEntry: Subject(
        "evacuation_entry", lambda o: [o.resident_id], _basic,
        grant=(case_models.EvacuationListEntry, "view_evacuationlistentry", "id"),
        clear=frozenset({"resident", "ward", "sex", "reasons", "source", "status", "changed_by", "created_at"}),
        actor="changed_by",
    ),
    case_models.EvacuationPlan: Subject(
        "evacuation_plan", lambda o: [o.entry.resident_id], _basic,
        grant=(case_models.EvacuationListEntry, "view_evacuation_plan", "entry_id"),
        clear=frozenset({"entry", "needs", "author", "author_organization", "supersedes", "created_at"}),
        actor="author",
    ),
    case_models.SafetyCheckReport: Subject(
        "safety_check_report", lambda o: [o.resident_id], _basic, basis="task_queue",
        clear=frozenset({"event", "task", "resident", "client_id", "outcome", "observed_at", "uploaded_at",
                         "recorded_by"}),
        actor="recorded_by",
    ),
}

# Records that only say who works where, or that are derived: never a resident's data on their own.
NOT_SUBJECTS = frozenset({"CaseTeamMember", "MeetingMember", "TaskEscalation", "Anonymisation", "RetentionRun",
                      "AccessLogCheckpoint", "AccessLogHead", "OutboxMessage", "Notification"})


def subject_for(model) -> Subject | None:
    return SUBJECTS.get(model)


def residents_resolve(model, object_ids: list[int]) -> dict[int, list[int]]:
    """Resident ids of records whose subject could not name them without a query (one query per model)."""
    if not object_ids:
        return {}
    if model in (case_models.Visit, audit_models.LegalHold, case_models.Referral):
        rows = model.objects.filter(id__in=object_ids).values_list("id", "case__resident_id")
    elif model is case_models.ReferralEvent:
        rows = model.objects.filter(id__in=object_ids).values_list("id", "referral__case__resident_id")
    else:
        return {}
    return {object_id: [resident_id] for object_id, resident_id in rows}
