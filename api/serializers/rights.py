"""Residents' rights: the request ledger (disclosure, correction, cessation) and the disclosure document."""

from __future__ import annotations

from rest_framework import serializers

from api.serializers.base import AccessLoggedModelSerializer, StrictSerializer
from audit.models import IdentityCheck, RightsKind, RightsOutcome, RightsRequest
from cases.models.consent import Grantor


class RightsRequestSerializer(AccessLoggedModelSerializer):
    class Meta:
        model = RightsRequest
        fields = ["id", "resident", "kind", "requester", "proxy_name", "details", "identity_check",
                  "identity_checked_by", "received_at", "deadline", "reminder_due_at", "reminded_at", "status",
                  "outcome", "outcome_note", "closed_at", "closed_by", "created_at"]
        read_only_fields = fields


class RightsRequestCreateSerializer(StrictSerializer):
    resident = serializers.IntegerField(min_value=1, max_value=2**62)
    kind = serializers.ChoiceField(choices=RightsKind.choices)
    identity_check = serializers.ChoiceField(choices=IdentityCheck.choices,
                                             help_text="How the requester's identity was checked (by you).")
    requester = serializers.ChoiceField(choices=Grantor.choices, default=Grantor.SELF)
    proxy_name = serializers.CharField(max_length=60, required=False, default="", allow_blank=True)
    details = serializers.CharField(max_length=2000, required=False, default="", allow_blank=True,
                                    help_text="What is to be corrected or stopped (required for a correction).")
    received_at = serializers.DateTimeField(required=False,
                                            help_text="When the request arrived (default now); the deadline is "
                                                      "30 days later.")


class RightsRequestCloseSerializer(StrictSerializer):
    outcome = serializers.ChoiceField(choices=RightsOutcome.choices)
    note = serializers.CharField(max_length=2000, required=False, default="", allow_blank=True,
                                 help_text="Required when the request is refused or only partly met.")


class CessationResultSerializer(serializers.Serializer):
    request = RightsRequestSerializer()
    withdrawn_consents = serializers.ListField(child=serializers.IntegerField())
    legal_basis_grants_still_active = serializers.ListField(child=serializers.IntegerField())


class DisclosureQuerySerializer(StrictSerializer):
    """The disclosure routes take no query parameters: any (`format` too) is refused as unknown."""


# The disclosure document (audit/disclosure.py builds it): declared field by field so clients get typed records.
# Codes are the same codes the other routes answer; dates and times are ISO 8601 in the ward's time zone.
def _codes() -> serializers.ListField:
    return serializers.ListField(child=serializers.CharField())


class DisclosureOrganizationSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField()
    kind = serializers.CharField()


class DisclosureUserSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField()


class DisclosureDistrictSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    code = serializers.CharField()
    name = serializers.CharField()


class DisclosureResidentSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    name_kanji = serializers.CharField()
    name_kana = serializers.CharField()
    date_of_birth = serializers.DateField()
    postal_code = serializers.CharField()
    prefecture = serializers.CharField()
    municipality = serializers.CharField()
    town = serializers.CharField()
    chome = serializers.IntegerField(allow_null=True)
    block_number = serializers.CharField()
    building = serializers.CharField(allow_blank=True)
    room = serializers.CharField(allow_blank=True)
    district = DisclosureDistrictSerializer()
    household_type = serializers.CharField()
    phone = serializers.CharField(allow_blank=True)
    preferred_language = serializers.CharField()
    interpreter_needed = serializers.BooleanField()
    special_care = _codes()
    do_not_contact = serializers.BooleanField()
    registered_by = DisclosureOrganizationSerializer()
    created_at = serializers.DateTimeField()
    updated_at = serializers.DateTimeField()


class DisclosureCaseSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    concern = serializers.CharField()
    status = serializers.CharField()
    risk_level = serializers.CharField()
    lead_organization = DisclosureOrganizationSerializer()
    lead_worker = DisclosureUserSerializer(allow_null=True)
    team = DisclosureOrganizationSerializer(many=True)
    visit_cadence_days = serializers.IntegerField(allow_null=True)
    next_visit_due = serializers.DateField(allow_null=True)
    opened_at = serializers.DateTimeField()
    closed_at = serializers.DateTimeField(allow_null=True)


class DisclosureNoteSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    case = serializers.IntegerField(allow_null=True)
    category = serializers.CharField()
    body = serializers.CharField()
    author = DisclosureUserSerializer()
    author_organization = DisclosureOrganizationSerializer()
    created_at = serializers.DateTimeField()
    supersedes = serializers.IntegerField(allow_null=True, help_text="The version this one corrects.")
    superseded_by = serializers.IntegerField(allow_null=True, help_text="The version that corrects this one.")


class DisclosureVisitSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    case = serializers.IntegerField()
    occurred_at = serializers.DateTimeField()
    uploaded_at = serializers.DateTimeField()
    channel = serializers.CharField()
    outcome = serializers.CharField()
    warning_signs = _codes()
    note = serializers.CharField(allow_blank=True)
    recorded_by = DisclosureUserSerializer()
    organization = DisclosureOrganizationSerializer()


class DisclosureConsentSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    decision = serializers.CharField()
    grantor = serializers.CharField()
    proxy_name = serializers.CharField(allow_blank=True)
    recipient_organizations = DisclosureOrganizationSerializer(many=True)
    recipient_kinds = _codes()
    categories = _codes()
    purposes = _codes()
    valid_from = serializers.DateTimeField()
    valid_until = serializers.DateTimeField(allow_null=True)
    method = serializers.CharField()
    evidence = serializers.CharField(allow_blank=True)
    taken_by = DisclosureUserSerializer()
    taken_by_organization = DisclosureOrganizationSerializer()
    taken_at = serializers.DateTimeField()
    withdrawn_at = serializers.DateTimeField(allow_null=True)
    withdrawn_by = DisclosureUserSerializer(allow_null=True)
    withdrawal_grantor = serializers.CharField(allow_blank=True)
    withdrawal_note = serializers.CharField(allow_blank=True)


class DisclosureLegalBasisGrantSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    basis = serializers.CharField()
    organization = DisclosureOrganizationSerializer()
    categories = _codes()
    justification = serializers.CharField()
    status = serializers.CharField()
    starts_at = serializers.DateTimeField()
    ends_at = serializers.DateTimeField()
    revoked_at = serializers.DateTimeField(allow_null=True)
    reviewed_at = serializers.DateTimeField(allow_null=True)
    review_justified = serializers.BooleanField(allow_null=True)


class DisclosureReferralSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    case = serializers.IntegerField()
    sender_organization = DisclosureOrganizationSerializer()
    receiver_organization = DisclosureOrganizationSerializer()
    reason = serializers.CharField()
    categories = _codes()
    status = serializers.CharField()
    created_at = serializers.DateTimeField()
    closed_at = serializers.DateTimeField(allow_null=True)


class DisclosureProvisionSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    provided_at = serializers.DateTimeField()
    recipient = DisclosureOrganizationSerializer()
    item = serializers.CharField()
    category = serializers.CharField()
    basis = serializers.CharField()


class DisclosureRightsRequestSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    kind = serializers.CharField()
    received_at = serializers.DateTimeField()
    deadline = serializers.DateTimeField()
    status = serializers.CharField()
    outcome = serializers.CharField(allow_blank=True)
    closed_at = serializers.DateTimeField(allow_null=True)


class DisclosureSerializer(serializers.Serializer):
    """Everything held about one resident and where it went (APPI Art. 33)."""

    generated_at = serializers.DateTimeField()
    rights_request = serializers.IntegerField(allow_null=True, help_text="The open disclosure request, if any.")
    resident = DisclosureResidentSerializer()
    cases = DisclosureCaseSerializer(many=True)
    notes = DisclosureNoteSerializer(many=True, help_text="Every version of every note.")
    visits = DisclosureVisitSerializer(many=True)
    consents = DisclosureConsentSerializer(many=True, help_text="Consents and refusals.")
    legal_basis_grants = DisclosureLegalBasisGrantSerializer(many=True)
    referrals = DisclosureReferralSerializer(many=True)
    provisions = DisclosureProvisionSerializer(many=True, help_text="The third-party provision log.")
    rights_requests = DisclosureRightsRequestSerializer(many=True)
