"""Disaster mode: the evacuation-support list (its fields only), plans, events, safety-check reports, progress."""

from __future__ import annotations

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from api.schema import ProblemSerializer
from api.serializers.base import AccessLoggedModelSerializer, StrictSerializer
from api.serializers.cases import UserRefSerializer
from api.serializers.directory import OrganizationRefSerializer
from cases.models import DisasterEvent, EvacuationListEntry, EvacuationPlan, SafetyCheckReport
from cases.models.disaster import CheckOutcome, DisasterKind, HelpNeed, Sex
from cases.services.visits import BATCH_LIMIT

ID = {"min_value": 1, "max_value": 2**62}


def address_of(resident) -> str:
    """The address as one line, as the list prints it."""
    chome = f"{resident.chome}丁目" if resident.chome else ""
    return "".join([resident.prefecture, resident.municipality, resident.town, chome, resident.block_number,
                    f" {resident.building}" if resident.building else "", f" {resident.room}" if resident.room else ""])


class EvacuationEntrySerializer(AccessLoggedModelSerializer):
    """Exactly the fields the law names (name, kana, birth date, sex, address, contact, the reason help is needed),
    the entry's district and state: never the rest of the register."""

    resident = serializers.IntegerField(source="resident_id", read_only=True)
    name_kanji = serializers.CharField(source="resident.name_kanji", read_only=True)
    name_kana = serializers.CharField(source="resident.name_kana", read_only=True)
    date_of_birth = serializers.DateField(source="resident.date_of_birth", read_only=True)
    address = serializers.SerializerMethodField()
    phone = serializers.CharField(source="resident.phone", read_only=True)
    district = serializers.IntegerField(source="resident.district_id", read_only=True)
    reasons = serializers.ListField(child=serializers.CharField(), read_only=True)

    class Meta:
        model = EvacuationListEntry
        fields = ["id", "resident", "name_kanji", "name_kana", "date_of_birth", "sex", "address", "phone",
                  "reasons", "district", "source", "status", "updated_at"]
        read_only_fields = fields

    def get_address(self, entry) -> str:
        return address_of(entry.resident)


class EvacuationEntryAddSerializer(StrictSerializer):
    resident = serializers.IntegerField(**ID)
    sex = serializers.ChoiceField(choices=Sex.choices)
    reason = serializers.CharField(max_length=200, help_text="Why the person is added by hand.")


class EvacuationEntryRemoveSerializer(StrictSerializer):
    reason = serializers.CharField(max_length=200, help_text="Why the person is taken off the list.")


class RefreshResultSerializer(serializers.Serializer):
    listed = serializers.IntegerField(help_text="Entries on the ward's list after the refresh.")
    removed = serializers.IntegerField(help_text="Entries taken off (by hand, or no longer meeting the criteria).")


class SupporterSerializer(StrictSerializer):
    name = serializers.CharField(max_length=60)
    role = serializers.CharField(max_length=60, help_text="e.g. 近隣住民, 民生委員, 家族.")
    organization = serializers.IntegerField(required=False, allow_null=True, **ID)


class EvacuationPlanSerializer(AccessLoggedModelSerializer):
    supporters = SupporterSerializer(many=True, read_only=True)
    needs = serializers.ListField(child=serializers.ChoiceField(choices=HelpNeed.choices), read_only=True)
    author = UserRefSerializer(read_only=True)
    author_organization = OrganizationRefSerializer(read_only=True)
    superseded_by = serializers.SerializerMethodField()

    class Meta:
        model = EvacuationPlan
        fields = ["id", "entry", "supporters", "destination", "needs", "needs_note", "contact", "author",
                  "author_organization", "supersedes", "superseded_by", "created_at"]
        read_only_fields = fields

    def get_superseded_by(self, plan) -> int | None:
        try:
            return plan.superseded_by.id
        except EvacuationPlan.superseded_by.RelatedObjectDoesNotExist:
            return None


class EvacuationPlanWriteSerializer(StrictSerializer):
    supporters = SupporterSerializer(many=True, min_length=1, max_length=10)
    destination = serializers.CharField(max_length=200)
    needs = serializers.ListField(child=serializers.ChoiceField(choices=HelpNeed.choices), required=False,
                                  max_length=len(HelpNeed.choices))
    needs_note = serializers.CharField(max_length=500, required=False, allow_blank=True)
    contact = serializers.CharField(max_length=200, required=False, allow_blank=True)
    supersedes = serializers.IntegerField(required=False, allow_null=True, help_text="The current version's id.",
                                          **ID)


class DisasterEventSerializer(serializers.ModelSerializer):
    """An event names districts and organisations, never a resident."""

    districts = serializers.PrimaryKeyRelatedField(many=True, read_only=True)
    supporter_organizations = OrganizationRefSerializer(many=True, read_only=True)
    mark = serializers.CharField(read_only=True, help_text="【訓練】 for an exercise, else empty.")

    class Meta:
        model = DisasterEvent
        fields = ["id", "client_id", "kind", "exercise", "mark", "districts", "supporter_organizations", "starts_at",
                  "status", "declared_at", "closed_at", "checks_opened_at"]
        read_only_fields = fields


class DisasterEventDeclareSerializer(StrictSerializer):
    client_id = serializers.UUIDField(help_text="Made by the client: a retried declaration finds its event.")
    kind = serializers.ChoiceField(choices=DisasterKind.choices)
    exercise = serializers.BooleanField()
    districts = serializers.ListField(child=serializers.IntegerField(**ID), min_length=1, max_length=500)
    supporter_organizations = serializers.ListField(child=serializers.IntegerField(**ID), min_length=1,
                                                    max_length=100)
    starts_at = serializers.DateTimeField(required=False, help_text="Now, or earlier when declared late.")


class DistrictProgressSerializer(serializers.Serializer):
    district = serializers.IntegerField(source="district_id")
    district_code = serializers.CharField()
    total = serializers.IntegerField()
    open = serializers.IntegerField()
    escalated = serializers.IntegerField()
    outcomes = serializers.DictField(child=serializers.IntegerField())


class DisasterProgressSerializer(serializers.Serializer):
    event = serializers.IntegerField()
    mark = serializers.CharField()
    checks_opened = serializers.BooleanField()
    districts = DistrictProgressSerializer(many=True)


class SafetyCheckReportSerializer(AccessLoggedModelSerializer):
    recorded_by = UserRefSerializer(read_only=True)

    class Meta:
        model = SafetyCheckReport
        fields = ["id", "event", "task", "resident", "client_id", "outcome", "evacuated_to", "observed_at",
                  "uploaded_at", "recorded_by"]
        read_only_fields = fields


class SafetyCheckReportCreateSerializer(StrictSerializer):
    resident = serializers.IntegerField(**ID)
    client_id = serializers.UUIDField(help_text="Made by the phone when the outcome is recorded (offline too).")
    outcome = serializers.ChoiceField(choices=CheckOutcome.choices)
    evacuated_to = serializers.CharField(max_length=200, required=False, allow_blank=True)
    observed_at = serializers.DateTimeField()


@extend_schema_field(SafetyCheckReportCreateSerializer(many=True, min_length=1, max_length=BATCH_LIMIT))
class _ReportItems(serializers.ListField):
    """Each item is validated on its own (in the view): a bad item is refused with its problem, the others stored."""

    child = serializers.JSONField()


class SafetyCheckBatchSerializer(StrictSerializer):
    items = _ReportItems(min_length=1, max_length=BATCH_LIMIT, help_text=f"Up to {BATCH_LIMIT} outcomes.")


class SafetyCheckBatchItemSerializer(serializers.Serializer):
    index = serializers.IntegerField()
    client_id = serializers.CharField(allow_null=True)
    status = serializers.IntegerField(help_text="201 stored, 200 already stored, 4xx refused (see problem).")
    report = SafetyCheckReportSerializer(allow_null=True)
    problem = ProblemSerializer(allow_null=True)


class SafetyCheckBatchResultSerializer(serializers.Serializer):
    results = SafetyCheckBatchItemSerializer(many=True)


class ExportQuerySerializer(StrictSerializer):
    district = serializers.IntegerField(required=False, help_text="Only this district of the event.", **ID)
