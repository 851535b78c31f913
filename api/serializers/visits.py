from __future__ import annotations

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from api.schema import ProblemSerializer
from api.serializers.base import AccessLoggedModelSerializer, StrictSerializer
from api.serializers.cases import UserRefSerializer
from api.serializers.directory import OrganizationRefSerializer
from cases.models import Visit
from cases.models.visits import Channel, Outcome, WarningSign
from cases.services.visits import BATCH_LIMIT


class VisitSerializer(AccessLoggedModelSerializer):
    recorded_by = UserRefSerializer(read_only=True)
    organization = OrganizationRefSerializer(read_only=True)
    case = serializers.IntegerField(source="case_id", read_only=True)
    warning_signs = serializers.ListField(child=serializers.ChoiceField(choices=WarningSign.choices), read_only=True)

    class Meta:
        model = Visit
        fields = ["id", "case", "client_id", "occurred_at", "uploaded_at", "channel", "outcome", "warning_signs",
                  "note", "recorded_by", "organization"]
        read_only_fields = fields


class VisitCreateSerializer(StrictSerializer):
    case = serializers.IntegerField(min_value=1, max_value=2**62)
    client_id = serializers.UUIDField(help_text="Made by the client when the visit is recorded (offline too).")
    occurred_at = serializers.DateTimeField()
    channel = serializers.ChoiceField(choices=Channel.choices)
    outcome = serializers.ChoiceField(choices=Outcome.choices)
    warning_signs = serializers.ListField(
        child=serializers.ChoiceField(choices=WarningSign.choices), required=False, max_length=len(WarningSign.choices)
    )
    note = serializers.CharField(required=False, allow_blank=True, max_length=4000)


@extend_schema_field(VisitCreateSerializer(many=True, min_length=1, max_length=BATCH_LIMIT))
class _VisitItems(serializers.ListField):
    """Each item is a single visit upload. They are validated one by one (VisitCreateSerializer, in the view), so
    a bad item is refused on its own with its problem while the others are stored."""

    child = serializers.JSONField()


class VisitBatchSerializer(StrictSerializer):
    items = _VisitItems(min_length=1, max_length=BATCH_LIMIT,
                        help_text=f"Up to {BATCH_LIMIT} visits, each shaped like a single visit upload (a request "
                                  f"body is at most 5 MiB).")


class VisitBatchItemResultSerializer(serializers.Serializer):
    index = serializers.IntegerField()
    client_id = serializers.CharField(allow_null=True)
    status = serializers.IntegerField(help_text="201 stored, 200 already stored, 4xx refused (see problem).")
    visit = VisitSerializer(allow_null=True)
    problem = ProblemSerializer(allow_null=True, help_text="The problem+json body when refused, else null.")


class VisitBatchResultSerializer(serializers.Serializer):
    results = VisitBatchItemResultSerializer(many=True)
