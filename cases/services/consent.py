"""Recording, refusing and withdrawing consent. A change takes effect on the very next request.

Each change is announced, in its transaction, to the organisations that held the resident just before it
or hold them just after (`consent_announce`): their machines learn that consent about a resident they
hold changed (ids only), and come to read what they may now see — or stop.
"""

from __future__ import annotations

import datetime

from django.db import transaction
from django.utils import timezone

from cases.errors import Conflict, NotFound, RuleViolation
from cases.models import Consent, Organization, Resident, User
from cases.models.choices import OrganizationKind
from cases.models.consent import Category, Decision, Grantor, Purpose
from notifications.outbox import OrganizationNotice, outbox_announce
from permissions.access import organizations_holding
from permissions.actors import actor_for
from permissions.grants import grants_sync_residents
from permissions.guards import authorize_consent_take, authorize_consent_withdraw


def consent_record(
    *,
    actor: User,
    resident: Resident,
    decision: str,
    grantor: str,
    proxy_name: str = "",
    recipient_organizations: list[Organization] | None = None,
    recipient_kinds: list[str] | None = None,
    categories: list[str],
    purposes: list[str],
    valid_from: datetime.datetime | None = None,
    valid_until: datetime.datetime | None = None,
    method: str,
    evidence: str = "",
    organization: Organization | None = None,
) -> Consent:
    """Record a resident's consent or refusal, taken by the actor for their organisation.

    Oral consent is valid; a proxy must be named. Who may see what changes in
    the same transaction.
    """
    # Only an organisation holding the resident in its own right takes consent: a recipient must never
    # be able to widen what it receives itself.
    standing = authorize_consent_take(actor=actor_for(user=actor), resident=resident,
                                      organization_id=organization.id if organization else None)
    recipient_organizations = recipient_organizations or []
    recipient_kinds = sorted(set(recipient_kinds or []))
    if not recipient_organizations and not recipient_kinds:
        raise RuleViolation("consent_recipients_required", field="recipient_organizations")
    if set(recipient_kinds) - set(OrganizationKind.values):
        raise RuleViolation("recipient_kinds_invalid", field="recipient_kinds")
    if grantor != Grantor.SELF and not proxy_name.strip():
        raise RuleViolation("consent_proxy_required", field="proxy_name")
    if set(categories) - set(Category.values):
        raise RuleViolation("categories_invalid", field="categories")
    if set(purposes) - set(Purpose.values):
        raise RuleViolation("purposes_invalid", field="purposes")
    now = timezone.now()
    valid_from = valid_from or now
    if valid_until is not None and valid_until <= valid_from:
        raise RuleViolation("consent_period_invalid", field="valid_until")
    with transaction.atomic():
        consent = Consent.objects.create(
            resident=resident,
            decision=decision,
            grantor=grantor,
            proxy_name=proxy_name.strip(),
            recipient_kinds=recipient_kinds,
            categories=sorted(set(categories)),
            purposes=sorted(set(purposes)),
            valid_from=valid_from,
            valid_until=valid_until,
            method=method,
            evidence=evidence,
            taken_by=actor,
            taken_by_organization_id=standing.organization_id,
            taken_at=now,
        )
        held_before = organizations_holding(resident_id=resident.id)
        consent.recipient_organizations.set(recipient_organizations)
        grants_sync_residents(resident_ids=[resident.id])
        consent_announce(consent=consent, change="recorded", organization_ids=held_before | organizations_holding(
            resident_id=resident.id))
    return consent


def consent_withdraw(
    *, actor: User, resident: Resident, consent_id: int, grantor: str, note: str = ""
) -> Consent:
    """Withdraw a consent now, recorded by a keeper of the register (or the privacy officer applying a
    cessation request); what it shared stops being visible on the next request. To anyone else the consent
    does not exist (404)."""
    authorize_consent_withdraw(actor=actor_for(user=actor), resident=resident)
    with transaction.atomic():
        consent = Consent.objects.select_for_update().filter(pk=consent_id, resident=resident).first()
        if consent is None:
            raise NotFound()
        if consent.withdrawn_at is not None:
            return consent
        if consent.decision != Decision.GRANTED:
            raise Conflict("consent_not_withdrawable")
        held_before = organizations_holding(resident_id=resident.id)
        consent.withdrawn_at = timezone.now()
        consent.withdrawn_by = actor
        consent.withdrawal_grantor = grantor
        consent.withdrawal_note = note
        consent.save(update_fields=["withdrawn_at", "withdrawn_by", "withdrawal_grantor", "withdrawal_note"])
        grants_sync_residents(resident_ids=[resident.id])
        consent_announce(consent=consent, change="withdrawn", organization_ids=held_before | organizations_holding(
            resident_id=resident.id))
    return consent


def consent_announce(*, consent: Consent, change: str, organization_ids: set[int]) -> None:
    """Tell these organisations (in the caller's transaction) that consent about the resident changed: one
    event each per consent and change (`recorded`, `withdrawn`), carrying the resident's id only. The caller
    passes who held the resident before the change and who holds them after. (A period that starts or ends by
    itself is announced by the integrations' sweep, `consent_boundaries_announce`, with the same keys.)"""
    outbox_announce([OrganizationNotice(
        reason=f"consent:{consent.id}:{change}", organization_ids=tuple(sorted(organization_ids)),
        event="consent_changed", subject_type="resident", subject_id=consent.resident_id)])
