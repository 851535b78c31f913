"""The privacy officer's view of the audit trail: access log, readers, unusual access, provisions, legal holds."""

from __future__ import annotations

import datetime

from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from rest_framework import serializers

from api.serializers.base import AccessLoggedModelSerializer, StrictSerializer
from api.serializers.directory import OrganizationRefSerializer
from audit.models import AccessLogEntry, LegalHold, ProvisionRecord
from audit.selectors import UNUSUAL_DEFAULT_PERIOD, UNUSUAL_DEFAULT_THRESHOLD

MAX_REPORT_PERIOD = datetime.timedelta(days=366)


class AccessLogEntrySerializer(AccessLoggedModelSerializer):
    sealed = serializers.SerializerMethodField()

    class Meta:
        model = AccessLogEntry
        fields = ["id", "seq", "sealed", "at", "user_id", "username", "action", "kind", "resident_id", "object_ids",
                  "categories", "bases", "outside_caseload", "request_id", "route", "changes", "prev_hash",
                  "entry_hash"]
        read_only_fields = fields

    def get_sealed(self, entry) -> bool:
        return entry.seq is not None


class ProvisionRecordSerializer(AccessLoggedModelSerializer):
    recipient = OrganizationRefSerializer(read_only=True)

    class Meta:
        model = ProvisionRecord
        fields = ["id", "provided_at", "recorded_at", "recipient", "resident", "item", "category", "basis",
                  "basis_code"]
        read_only_fields = fields


class PeriodSerializer(StrictSerializer):
    """Query parameters: a period [since, until), at most a year long."""

    since = serializers.DateTimeField(required=False)
    until = serializers.DateTimeField(required=False)

    def validate(self, attrs):
        since, until = attrs.get("since"), attrs.get("until")
        if since and until and since >= until:
            raise serializers.ValidationError({"until": [_("Must be after since.")]}, code="period_invalid")
        if since and until and until - since > MAX_REPORT_PERIOD:
            raise serializers.ValidationError({"since": [_("The period is at most 366 days.")]}, code="period_too_long")
        return attrs


class UnusualAccessQuerySerializer(PeriodSerializer):
    threshold = serializers.IntegerField(
        required=False, min_value=1, max_value=100000, default=UNUSUAL_DEFAULT_THRESHOLD,
        help_text="Flag readers with at least this many distinct residents read outside their caseload.")

    def validate(self, attrs):
        until = attrs.get("until") or timezone.now()
        since = attrs.get("since") or until - UNUSUAL_DEFAULT_PERIOD
        return super().validate({**attrs, "since": since, "until": until})


class ReaderSerializer(serializers.Serializer):
    user_id = serializers.IntegerField(allow_null=True)
    username = serializers.CharField()
    reads = serializers.IntegerField()
    first_at = serializers.DateTimeField()
    last_at = serializers.DateTimeField()
    kinds = serializers.ListField(child=serializers.CharField())
    bases = serializers.ListField(child=serializers.CharField())


class UnusualReaderSerializer(serializers.Serializer):
    user_id = serializers.IntegerField(allow_null=True)
    username = serializers.CharField()
    residents_outside_caseload = serializers.IntegerField()
    residents_read = serializers.IntegerField()
    reads_outside_caseload = serializers.IntegerField()
    first_at = serializers.DateTimeField()
    last_at = serializers.DateTimeField()


class UnusualAccessReportSerializer(serializers.Serializer):
    rule = serializers.CharField()
    since = serializers.DateTimeField()
    until = serializers.DateTimeField()
    threshold = serializers.IntegerField()
    readers = UnusualReaderSerializer(many=True)


class LegalHoldSerializer(AccessLoggedModelSerializer):
    class Meta:
        model = LegalHold
        fields = ["id", "case", "reason", "placed_by", "placed_at", "released_by", "released_at"]
        read_only_fields = fields


class LegalHoldCreateSerializer(StrictSerializer):
    case = serializers.IntegerField(min_value=1, max_value=2**62)
    reason = serializers.CharField(max_length=500)
