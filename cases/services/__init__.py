"""Writes. Every decision about changing a record is made here, one module per subject.

Each function runs in one transaction and re-derives the affected grants
before it commits, so no reader ever sees a half-applied change.
"""

from cases.services.cases import case_open, case_update, membership_changed
from cases.services.consent import consent_record, consent_withdraw
from cases.services.disaster import (
    disaster_event_close,
    disaster_event_declare,
    evacuation_entry_add,
    evacuation_entry_remove,
    evacuation_list_refresh,
    evacuation_plan_write,
    safety_checks_record_batch,
)
from cases.services.legal_bases import (
    legal_basis_grant_approve,
    legal_basis_grant_request,
    legal_basis_grant_review,
    legal_basis_grant_revoke,
    meeting_acknowledge,
    meeting_convene,
    meeting_share,
)
from cases.services.notes import note_amend, note_write
from cases.services.partner_reports import partner_report_receive
from cases.services.referrals import referral_create, referral_transition
from cases.services.residents import resident_register, resident_update
from cases.services.tasks import task_acknowledge, task_cancel, task_complete, task_request
from cases.services.visits import visit_record, visits_record_batch

__all__ = [
    "partner_report_receive",
    "disaster_event_close",
    "disaster_event_declare",
    "evacuation_entry_add",
    "evacuation_entry_remove",
    "evacuation_list_refresh",
    "evacuation_plan_write",
    "safety_checks_record_batch",
    "consent_record",
    "consent_withdraw",
    "legal_basis_grant_approve",
    "legal_basis_grant_request",
    "legal_basis_grant_review",
    "legal_basis_grant_revoke",
    "meeting_acknowledge",
    "meeting_convene",
    "meeting_share",
    "note_amend",
    "note_write",
    "case_open",
    "case_update",
    "membership_changed",
    "resident_register",
    "resident_update",
    "visit_record",
    "visits_record_batch",
    "referral_create",
    "referral_transition",
    "task_acknowledge",
    "task_cancel",
    "task_complete",
    "task_request",
]
