"""A resident's record as FHIR R4B, read-only, as the receiving organisation may see it (ADR 0018).

`fhir_resident_bundle` reads through the same selectors the API does, as the client's account acting for its
organisation — so the policy decides per record: the resident (404 when not visible, as for a missing one),
the cases, the notes the policy lets the organisation read, the referrals it is party to, and the consents
and legal-basis grants through which it receives the resident. Every record it maps is access-logged like
a serialised one (`access_log_read`, under the client, its organisation and its declared purpose), and each
item it hands over under a third-party basis has its provision record (`provisions_ensure`).

What maps to what:
- Resident → Patient: the kanji and the kana name as JP Core writes them (two HumanName, the extension
  iso21090-EN-representation `IDE` and `SYL`), birth date, address, phone; identifier = our id.
- Case → EpisodeOfCare (status, period, managing organisation).
- Note → Observation (category = our data category, value = the note's text), current versions only.
- Consent naming the organisation → Consent: patient and grantor = the resident (a proxy by its kind only),
  grantee = the organisation (provision.actor, role IRCP), regulatory basis in `policyRule` (APPI Art. 27(1)),
  `provision.type` permit/deny, its period (ended at withdrawal), purposes, one nested provision per category.
- Legal-basis grant to the organisation → Consent with the basis (APPI27-1-2, SWA106-6, DCBA49-11-3 …) as
  `policyRule` and no grantor: the law, not the resident, decided.
- Referral → ServiceRequest (what was asked, by whom, of whom, the categories shared as `orderDetail`) and
  Task (Gravity SDOH closed-loop referral: `status` = our state, `businessStatus` its label,
  `statusReason` the reason, `restriction.period.end` the answer deadline).
"""

from __future__ import annotations

import datetime
import uuid

from django.utils import timezone
from fhir.resources.R4B.bundle import Bundle

from audit.access_log import access_log_read
from audit.provisions import provisions_ensure
from cases.models import Case, Consent, LegalBasisGrant, Note, Organization, Referral, Resident, User
from cases.models.choices import CaseStatus, Urgency
from cases.models.consent import Decision, Grantor, GrantStatus
from cases.models.referrals import ReferralStatus
from cases.selectors import (
    cases_visible_to,
    consents_of_resident,
    notes_visible_to,
    referrals_visible_to,
    resident_get_for_user,
)
from permissions.access import grant_bases
from permissions.policy import THIRD_PARTY_PREFIXES

FHIR_VERSION = "4.3.0"  # R4B
EN_REPRESENTATION = "http://hl7.org/fhir/StructureDefinition/iso21090-EN-representation"
BASE = "https://mimamori.example.jp/fhir"
SYSTEM = {
    "resident": f"{BASE}/sid/resident",
    "category": f"{BASE}/CodeSystem/data-category",
    "purpose": f"{BASE}/CodeSystem/purpose",
    "basis": f"{BASE}/CodeSystem/legal-basis",
    "referral_status": f"{BASE}/CodeSystem/referral-status",
    "grantor": f"{BASE}/CodeSystem/grantor",
}
CONSENT_BASIS = "APPI27-1"  # a provision to a third party with the resident's consent (APPI Art. 27(1))
BASIS_DISPLAY = {CONSENT_BASIS: "個人情報保護法第27条第1項（本人の同意）"}
# FHIR Task.status is our referral state, code for code (both follow the closed-loop referral Task).
TASK_STATUS = {status.value: status.value for status in ReferralStatus}
SERVICE_REQUEST_STATUS = {
    ReferralStatus.DRAFT: "draft", ReferralStatus.REQUESTED: "active", ReferralStatus.ACCEPTED: "active",
    ReferralStatus.IN_PROGRESS: "active", ReferralStatus.ON_HOLD: "on-hold", ReferralStatus.COMPLETED: "completed",
    ReferralStatus.REJECTED: "revoked", ReferralStatus.FAILED: "revoked", ReferralStatus.CANCELLED: "revoked",
    ReferralStatus.ENTERED_IN_ERROR: "entered-in-error",
}
PRIORITY = {Urgency.ROUTINE: "routine", Urgency.URGENT: "urgent", Urgency.EMERGENCY: "stat"}
EPISODE_STATUS = {CaseStatus.OPEN: "active", CaseStatus.MONITORING: "active", CaseStatus.ON_HOLD: "onhold",
                  CaseStatus.CLOSED: "finished"}


def _when(value: datetime.datetime | None) -> str | None:
    return value.isoformat() if value is not None else None


def _ref(kind: str, pk: int) -> dict:
    return {"reference": f"{kind}/{pk}"}


def _coding(system: str, code: str, display: str | None = None) -> dict:
    return {"system": SYSTEM[system], "code": code, **({"display": display} if display else {})}


def _name(text: str, representation: str) -> dict:
    family, _, given = text.strip().partition(" ")
    if not given:
        family, _, given = text.strip().partition("\u3000")
    name = {"extension": [{"url": EN_REPRESENTATION, "valueCode": representation}], "use": "official",
            "text": text, "family": family}
    if given:
        name["given"] = [given.strip()]
    return name


def patient(resident: Resident) -> dict:
    line = " ".join(part for part in [resident.town + (f"{resident.chome}丁目" if resident.chome else ""),
                                      resident.block_number, resident.building, resident.room] if part)
    data = {
        "resourceType": "Patient", "id": str(resident.pk),
        "identifier": [{"system": SYSTEM["resident"], "value": str(resident.pk)}],
        "name": [_name(resident.name_kanji, "IDE"), _name(resident.name_kana, "SYL")],
        "birthDate": resident.date_of_birth.isoformat(),
        "address": [{"use": "home", "country": "JP", "postalCode": resident.postal_code,
                     "state": resident.prefecture, "city": resident.municipality, "line": [line]}],
        "communication": [{"language": {"coding": [{"system": "urn:ietf:bcp:47",
                                                    "code": resident.preferred_language}]}}],
    }
    if resident.phone:
        data["telecom"] = [{"system": "phone", "value": resident.phone, "use": "home"}]
    return data


def episode_of_care(case: Case) -> dict:
    period = {"start": _when(case.opened_at)}
    if case.closed_at:
        period["end"] = _when(case.closed_at)
    return {"resourceType": "EpisodeOfCare", "id": str(case.pk), "status": EPISODE_STATUS[case.status],
            "patient": _ref("Patient", case.resident_id),
            "managingOrganization": _ref("Organization", case.lead_organization_id), "period": period}


def observation(note: Note) -> dict:
    data = {"resourceType": "Observation", "id": str(note.pk), "status": "final",
            "category": [{"coding": [_coding("category", note.category)]}],
            "code": {"text": "支援記録"}, "subject": _ref("Patient", note.resident_id),
            "effectiveDateTime": _when(note.created_at), "issued": _when(note.created_at),
            "performer": [_ref("Organization", note.author_organization_id)], "valueString": note.body}
    if note.case_id:
        data["focus"] = [_ref("EpisodeOfCare", note.case_id)]
    return data


def _consent_period_end(consent: Consent) -> datetime.datetime | None:
    ends = [t for t in (consent.valid_until, consent.withdrawn_at) if t is not None]
    return min(ends) if ends else None


def consent(record: Consent, *, organization_id: int, now: datetime.datetime) -> dict:
    end = _consent_period_end(record)
    live = record.withdrawn_at is None and (end is None or end > now)
    period = {"start": _when(record.valid_from), **({"end": _when(end)} if end else {})}
    kind = "permit" if record.decision == Decision.GRANTED else "deny"
    performer = (_ref("Patient", record.resident_id) if record.grantor == Grantor.SELF
                 else {"display": Grantor(record.grantor).label,
                       "identifier": {"system": SYSTEM["grantor"], "value": record.grantor}})
    return {
        "resourceType": "Consent", "id": f"consent-{record.pk}", "status": "active" if live else "inactive",
        "scope": {"coding": [{"system": "http://terminology.hl7.org/CodeSystem/consentscope",
                              "code": "patient-privacy"}]},
        "category": [{"coding": [{"system": "http://loinc.org", "code": "59284-0"}]}],
        "patient": _ref("Patient", record.resident_id), "dateTime": _when(record.taken_at),
        "performer": [performer], "organization": [_ref("Organization", record.taken_by_organization_id)],
        "policyRule": {"coding": [_coding("basis", CONSENT_BASIS, BASIS_DISPLAY[CONSENT_BASIS])]},
        "provision": {
            "type": kind, "period": period,
            "actor": [{"role": {"coding": [{"system": "http://terminology.hl7.org/CodeSystem/v3-ParticipationType",
                                            "code": "IRCP"}]},
                       "reference": _ref("Organization", organization_id)}],
            "purpose": [_coding("purpose", purpose) for purpose in record.purposes],
            "provision": [{"type": kind, "code": [{"coding": [_coding("category", category)]}]}
                          for category in record.categories],
        },
    }


def legal_basis_consent(grant: LegalBasisGrant, *, now: datetime.datetime) -> dict:
    end = min(t for t in (grant.ends_at, grant.revoked_at) if t is not None)
    live = grant.status == GrantStatus.ACTIVE and grant.starts_at <= now < end
    return {
        "resourceType": "Consent", "id": f"basis-{grant.pk}", "status": "active" if live else "inactive",
        "scope": {"coding": [{"system": "http://terminology.hl7.org/CodeSystem/consentscope",
                              "code": "patient-privacy"}]},
        "category": [{"coding": [{"system": "http://loinc.org", "code": "59284-0"}]}],
        "patient": _ref("Patient", grant.resident_id), "dateTime": _when(grant.created_at),
        "organization": [_ref("Organization", grant.organization_id)],
        "policyRule": {"coding": [_coding("basis", grant.basis, grant.get_basis_display())]},
        "provision": {
            "type": "permit", "period": {"start": _when(grant.starts_at), "end": _when(end)},
            "actor": [{"role": {"coding": [{"system": "http://terminology.hl7.org/CodeSystem/v3-ParticipationType",
                                            "code": "IRCP"}]},
                       "reference": _ref("Organization", grant.organization_id)}],
            "provision": [{"type": "permit", "code": [{"coding": [_coding("category", category)]}]}
                          for category in grant.categories],
        },
    }


def service_request(referral: Referral) -> dict:
    data = {
        "resourceType": "ServiceRequest", "id": str(referral.pk), "status": SERVICE_REQUEST_STATUS[referral.status],
        "intent": "order", "priority": PRIORITY[referral.urgency],
        "category": [{"coding": [{"system": "http://snomed.info/sct", "code": "3457005",
                                  "display": "Patient referral"}]}],
        "subject": _ref("Patient", referral.case.resident_id), "requester": _ref("Organization",
                                                                                  referral.sender_organization_id),
        "performer": [_ref("Organization", referral.receiver_organization_id)],
        "reasonCode": [{"text": referral.reason}],
        "orderDetail": [{"coding": [_coding("category", category)]} for category in referral.categories],
        "supportingInfo": [_ref("EpisodeOfCare", referral.case_id)],
    }
    if referral.requested_at:
        data["authoredOn"] = _when(referral.requested_at)
    return data


def task(referral: Referral) -> dict:
    data = {
        "resourceType": "Task", "id": str(referral.pk), "status": TASK_STATUS[referral.status],
        "businessStatus": {"coding": [_coding("referral_status", referral.status,
                                              ReferralStatus(referral.status).label)]},
        "intent": "order", "priority": PRIORITY[referral.urgency],
        "code": {"coding": [{"system": "http://hl7.org/fhir/CodeSystem/task-code", "code": "fulfill"}]},
        "focus": _ref("ServiceRequest", referral.pk), "for": _ref("Patient", referral.case.resident_id),
        "authoredOn": _when(referral.requested_at or referral.created_at), "lastModified": _when(referral.updated_at),
        "requester": _ref("Organization", referral.sender_organization_id),
        "owner": _ref("Organization", referral.receiver_organization_id),
    }
    if referral.status_reason:
        data["statusReason"] = {"text": referral.status_reason}
    if referral.response_due_at:
        data["restriction"] = {"period": {"end": _when(referral.response_due_at)}}
    return data


def _third_party(bases: list[str]) -> list[str]:
    return [basis for basis in bases if basis.startswith(THIRD_PARTY_PREFIXES)]


def fhir_resident_bundle(*, user: User, organization_id: int, resident_id: int,
                         now: datetime.datetime | None = None) -> dict:
    """The Bundle (type collection) of what `user`, acting for `organization_id`, may see of the resident;
    NotFound when it may not see the resident (as for a missing one). Validated by `fhir.resources` (R4B)
    before it leaves: a mapping that produced an invalid resource fails here, not at the receiver."""
    now = now or timezone.now()
    resident = resident_get_for_user(user=user, resident_id=resident_id)
    cases = list(cases_visible_to(user=user).filter(resident_id=resident.pk).order_by("id"))
    notes = list(notes_visible_to(user=user).filter(resident_id=resident.pk).order_by("created_at", "id"))
    referrals = list(referrals_visible_to(user=user).filter(case__resident_id=resident.pk).order_by("id"))
    organization = Organization.objects.get(pk=organization_id)
    consents = [c for c in consents_of_resident(resident=resident).order_by("taken_at", "id")
                if organization_id in {o.id for o in c.recipient_organizations.all()}
                or organization.kind in c.recipient_kinds]
    grants = list(LegalBasisGrant.objects.filter(resident=resident, organization_id=organization_id)
                  .exclude(status=GrantStatus.PENDING).order_by("starts_at", "id"))

    resources = [patient(resident)]
    resources += [episode_of_care(case) for case in cases]
    resources += [observation(note) for note in notes]
    resources += [consent(record, organization_id=organization_id, now=now) for record in consents]
    resources += [legal_basis_consent(grant, now=now) for grant in grants]
    for referral in referrals:
        resources += [service_request(referral), task(referral)]

    for record in [resident, *cases, *notes, *consents, *grants, *referrals]:
        access_log_read(record)
    provided = [(Resident, "view_resident", [resident.pk], lambda pk: ("resident", "basic")),
                (Case, "view_case", [c.pk for c in cases], lambda pk: ("case", "basic")),
                (Note, "view_note", [n.pk for n in notes],
                 {n.pk: ("note", n.category) for n in notes}.__getitem__)]
    rows = []
    for model, codename, ids, item in provided:
        for object_id, bases in grant_bases(user=user, model=model, object_ids=ids, codename=codename).items():
            rows += [(*item(object_id), basis) for basis in _third_party(bases)]
    provisions_ensure(recipient_id=organization_id, resident_id=resident.pk, items=rows, at=now)

    bundle = {"resourceType": "Bundle", "id": str(uuid.uuid4()), "type": "collection",
              "timestamp": _when(now), "meta": {"lastUpdated": _when(now)},
              "entry": [{"resource": resource} for resource in resources]}
    return Bundle.model_validate(bundle).model_dump(mode="json", exclude_none=True)
