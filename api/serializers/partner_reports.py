"""Partner reports: what a partner sends, the one answer it gets, and the report as a task's workers read it."""

from __future__ import annotations

from rest_framework import serializers

from api.serializers.base import StrictSerializer
from cases.models import PartnerReport, PartnerReportState, PartnerSignal, RoutingOutcome

RECEIVED_AND_ROUTED = "received_and_routed"


class PartnerReportCreateSerializer(StrictSerializer):
    agreement = serializers.CharField(max_length=32, help_text="The agreement's number, e.g. TAMA-2026-001.")
    reference = serializers.RegexField(
        r"^[\x21-\x7e]{1,64}$", help_text="Your own reference for this report: sending it again is the same report.")
    observed_at = serializers.DateTimeField(help_text="When the sign was seen.")
    address = serializers.CharField(
        max_length=300, help_text="The address as you have it, e.g. as printed on a delivery slip "
                                  "(「多摩区登戸1-2-15 コーポ登戸101」); the area of the agreement may be left out.")
    signals = serializers.ListField(child=serializers.ChoiceField(choices=PartnerSignal.choices), min_length=1,
                                    max_length=len(PartnerSignal.choices))
    remarks = serializers.CharField(max_length=2000, required=False, allow_blank=True, default="")
    emergency_services_called = serializers.BooleanField(required=False, default=False,
                                                         help_text="Police or fire were called.")


class PartnerReportReceiptSerializer(serializers.Serializer):
    """The one answer to a report, whatever happens next: the same for every address but for the id."""

    id = serializers.IntegerField()
    result = serializers.ChoiceField(choices=[(RECEIVED_AND_ROUTED, RECEIVED_AND_ROUTED)])

    def to_representation(self, instance):
        return {"id": instance.id, "result": RECEIVED_AND_ROUTED}


class PartnerReportSerializer(serializers.ModelSerializer):
    """A partner's own report as it may read it: what it sent and the state, nothing of where it went."""

    agreement = serializers.CharField(source="agreement.code")
    state = serializers.ChoiceField(choices=PartnerReportState.choices)

    class Meta:
        model = PartnerReport
        fields = ["id", "agreement", "reference", "observed_at", "received_at", "state", "signals",
                  "emergency_services_called"]
        read_only_fields = fields


class TaskSignalSerializer(serializers.Serializer):
    """A report routed to a task, for those who work it: the address as written and the candidates they see."""

    id = serializers.IntegerField(source="report.id")
    partner = serializers.CharField(source="report.agreement.organization.name")
    agreement = serializers.CharField(source="report.agreement.code")
    observed_at = serializers.DateTimeField(source="report.observed_at")
    received_at = serializers.DateTimeField(source="report.received_at")
    address = serializers.CharField(source="report.address_text", help_text="As the partner wrote it.")
    signals = serializers.ListField(source="report.signals", child=serializers.ChoiceField(
        choices=PartnerSignal.choices))
    remarks = serializers.CharField(source="report.remarks")
    emergency_services_called = serializers.BooleanField(source="report.emergency_services_called")
    outcome = serializers.ChoiceField(choices=RoutingOutcome.choices)
    joined = serializers.BooleanField(help_text="It joined a task already open at the same address.")
    candidates = serializers.ListField(source="candidate_ids", child=serializers.IntegerField(),
                                       help_text="Residents registered at the address whom you may see (ids).")
