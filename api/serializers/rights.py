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
    format = serializers.ChoiceField(choices=[("json", "json"), ("pdf", "pdf")], required=False,
                                     help_text="json (default) or pdf (Japanese); or send Accept: application/pdf.")
