"""Disclosure (開示, APPI Art. 33): everything the network holds about one resident, and where it went.

The privacy officer produces it for a rights request: the resident's record, their
cases and teams, every version of every note, the visits, the consents and
refusals, the legal-basis grants, the referrals, the third-party provision log
and the rights requests themselves. The same dictionary is answered as JSON and
rendered as a Japanese PDF (audit/pdf.py). Producing it is logged as an export.

The officer reviews it before handing it over: APPI Art. 33(2) lets part of it be
withheld (e.g. a safeguarding note whose disclosure would endanger someone), and
that decision is theirs, recorded as the request's outcome.
"""

from __future__ import annotations

import datetime
from typing import Any

from django.db.models import Q
from django.utils import timezone

from audit.access_log import access_log_reads
from audit.models import Action, ProvisionRecord, RightsKind, RightsRequest, RightsStatus
from audit.selectors import resident_for_privacy_officer
from cases.models import Case, Consent, LegalBasisGrant, Note, Referral, User, Visit
from cases.models.consent import Category


def _value(value: Any) -> Any:
    if isinstance(value, datetime.datetime):
        return timezone.localtime(value).isoformat(timespec="seconds")
    if isinstance(value, datetime.date):
        return value.isoformat()
    return value


def _org(org) -> dict | None:
    return {"id": org.id, "name": org.name, "kind": org.kind} if org is not None else None


def _user(user: User | None) -> dict | None:
    return {"id": user.id, "name": user.display_name or user.username} if user is not None else None


def _resident(resident) -> dict:
    fields = ["id", "name_kanji", "name_kana", "date_of_birth", "postal_code", "prefecture", "municipality", "town",
              "chome", "block_number", "building", "room", "household_type", "phone", "preferred_language",
              "interpreter_needed", "special_care", "do_not_contact", "created_at", "updated_at"]
    data = {name: _value(getattr(resident, name)) for name in fields}
    data["district"] = {"id": resident.district_id, "code": resident.district.code, "name": resident.district.name}
    data["registered_by"] = _org(resident.registered_by)
    return data


def _cases(resident) -> list[dict]:
    cases = Case.objects.filter(resident=resident).select_related("lead_organization", "lead_worker") \
        .prefetch_related("team_members__organization").order_by("id")
    return [{
        "id": c.id, "concern": c.concern, "status": c.status, "risk_level": c.risk_level,
        "lead_organization": _org(c.lead_organization), "lead_worker": _user(c.lead_worker),
        "team": [_org(m.organization) for m in c.team_members.all()],
        "visit_cadence_days": c.visit_cadence_days, "next_visit_due": _value(c.next_visit_due),
        "opened_at": _value(c.opened_at), "closed_at": _value(c.closed_at),
    } for c in cases]


def _notes(resident) -> list[dict]:
    notes = Note.objects.filter(resident=resident).select_related("author", "author_organization", "superseded_by") \
        .order_by("created_at", "id")
    return [{
        "id": n.id, "case": n.case_id, "category": n.category, "body": n.body, "author": _user(n.author),
        "author_organization": _org(n.author_organization), "created_at": _value(n.created_at),
        "supersedes": n.supersedes_id, "superseded_by": getattr(getattr(n, "superseded_by", None), "id", None),
    } for n in notes]


def _visits(resident) -> list[dict]:
    visits = Visit.objects.filter(case__resident=resident).select_related("recorded_by", "organization") \
        .order_by("occurred_at", "id")
    return [{
        "id": v.id, "case": v.case_id, "occurred_at": _value(v.occurred_at), "uploaded_at": _value(v.uploaded_at),
        "channel": v.channel, "outcome": v.outcome, "warning_signs": v.warning_signs, "note": v.note,
        "recorded_by": _user(v.recorded_by), "organization": _org(v.organization),
    } for v in visits]


def _consents(resident) -> list[dict]:
    consents = Consent.objects.filter(resident=resident).select_related("taken_by", "taken_by_organization",
                                                                       "withdrawn_by") \
        .prefetch_related("recipient_organizations").order_by("taken_at", "id")
    return [{
        "id": c.id, "decision": c.decision, "grantor": c.grantor, "proxy_name": c.proxy_name,
        "recipient_organizations": [_org(o) for o in c.recipient_organizations.all()],
        "recipient_kinds": c.recipient_kinds, "categories": c.categories, "purposes": c.purposes,
        "valid_from": _value(c.valid_from), "valid_until": _value(c.valid_until), "method": c.method,
        "evidence": c.evidence, "taken_by": _user(c.taken_by), "taken_by_organization": _org(c.taken_by_organization),
        "taken_at": _value(c.taken_at), "withdrawn_at": _value(c.withdrawn_at), "withdrawn_by": _user(c.withdrawn_by),
        "withdrawal_grantor": c.withdrawal_grantor, "withdrawal_note": c.withdrawal_note,
    } for c in consents]


def _grants(resident) -> list[dict]:
    grants = LegalBasisGrant.objects.filter(resident=resident).select_related("organization").order_by("created_at",
                                                                                                       "id")
    return [{
        "id": g.id, "basis": g.basis, "organization": _org(g.organization), "categories": g.categories,
        "justification": g.justification, "status": g.status, "starts_at": _value(g.starts_at),
        "ends_at": _value(g.ends_at), "revoked_at": _value(g.revoked_at), "reviewed_at": _value(g.reviewed_at),
        "review_justified": g.review_justified,
    } for g in grants]


def _referrals(resident) -> list[dict]:
    referrals = Referral.objects.filter(case__resident=resident) \
        .select_related("sender_organization", "receiver_organization").order_by("created_at", "id")
    return [{
        "id": r.id, "case": r.case_id, "sender_organization": _org(r.sender_organization),
        "receiver_organization": _org(r.receiver_organization), "reason": r.reason, "categories": r.categories,
        "status": r.status, "created_at": _value(r.created_at), "closed_at": _value(r.closed_at),
    } for r in referrals]


def _provisions(resident) -> list[dict]:
    records = ProvisionRecord.objects.filter(resident=resident).select_related("recipient") \
        .order_by("provided_at", "id")
    return [{
        "id": p.id, "provided_at": _value(p.provided_at), "recipient": _org(p.recipient), "item": p.item,
        "category": p.category, "basis": p.basis,
    } for p in records]


def _rights(resident) -> list[dict]:
    return [{
        "id": r.id, "kind": r.kind, "received_at": _value(r.received_at), "deadline": _value(r.deadline),
        "status": r.status, "outcome": r.outcome, "closed_at": _value(r.closed_at),
    } for r in RightsRequest.objects.filter(resident=resident).order_by("received_at", "id")]


def disclosure_build(*, user: User, resident_id: int) -> dict:
    """Everything held about the resident, for their privacy officer; logged as an export."""
    resident = resident_for_privacy_officer(user=user, resident_id=resident_id)
    open_request = RightsRequest.objects.filter(
        Q(kind=RightsKind.DISCLOSURE), resident=resident, status=RightsStatus.OPEN).order_by("id").first()
    data = {
        "generated_at": _value(timezone.now()),
        "rights_request": open_request.id if open_request else None,
        "resident": _resident(resident),
        "cases": _cases(resident),
        "notes": _notes(resident),
        "visits": _visits(resident),
        "consents": _consents(resident),
        "legal_basis_grants": _grants(resident),
        "referrals": _referrals(resident),
        "provisions": _provisions(resident),
        "rights_requests": _rights(resident),
    }
    basis = f"rights_request:{open_request.id}" if open_request else "privacy_officer"
    access_log_reads(kind="disclosure", action=Action.EXPORT, resident_ids=[resident.id], categories=Category.values,
                     basis=basis, object_ids=[resident.id], user=user, route="disclosure")
    return data
