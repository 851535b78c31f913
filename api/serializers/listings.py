"""The members' side of the directory: the listings an organisation keeps, proposing, editing,
re-verifying, capacity, and the ward section's approval. No resident appears here."""

from __future__ import annotations

from django.utils import timezone
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from api.serializers.base import StrictSerializer
from service_directory.models import Approval, CapacityStatus, Frequency, Service, ServiceStatus
from service_directory.selectors import listing_referral_counts, listing_unverified

DECISIONS = [(Approval.APPROVED.value, "承認"), (Approval.REJECTED.value, "非承認")]


class ListingScheduleSerializer(StrictSerializer):
    freq = serializers.ChoiceField(choices=Frequency.choices)
    interval = serializers.IntegerField(min_value=1, max_value=12, default=1)
    byday = serializers.CharField(max_length=40, required=False, allow_blank=True, default="",
                                  help_text='RFC 5545 BYDAY: "MO,TH", or "2TU" for monthly.')
    bymonthday = serializers.CharField(max_length=40, required=False, allow_blank=True, default="",
                                       help_text='RFC 5545 BYMONTHDAY: "1,15".')
    dtstart = serializers.DateField(required=False)
    until = serializers.DateField(required=False, allow_null=True)
    opens_at = serializers.TimeField()
    closes_at = serializers.TimeField()
    description = serializers.CharField(max_length=300, required=False, allow_blank=True, default="")


class ListingSerializer(serializers.ModelSerializer):
    organization = serializers.CharField(source="organization.name", read_only=True)
    organization_id = serializers.IntegerField(source="organization.organization_id", read_only=True,
                                               allow_null=True, help_text="Our organisation that runs it, if any.")
    hsds_id = serializers.UUIDField(source="uuid", read_only=True, help_text="Its id on /api/hsds/.")
    taxonomy_codes = serializers.SerializerMethodField()
    schedules = ListingScheduleSerializer(many=True, read_only=True)
    not_recently_verified = serializers.SerializerMethodField()
    referral_counts = serializers.SerializerMethodField(
        help_text="Referrals naming this service (referred, completed); a count below 10 is null.")

    class Meta:
        model = Service
        fields = ["id", "hsds_id", "organization", "organization_id", "name", "name_kana", "name_en",
                  "alternate_name", "description", "description_en", "url", "email", "status",
                  "interpretation_services", "application_process", "fees_description", "eligibility_description",
                  "minimum_age", "maximum_age", "alert", "approval", "assured_date", "not_recently_verified",
                  "capacity_status", "capacity_note", "capacity_updated_at", "taxonomy_codes", "schedules",
                  "referral_counts", "version", "updated_at"]
        read_only_fields = fields

    def get_taxonomy_codes(self, service) -> list[str]:
        return sorted(attribute.taxonomy_term.code for attribute in service.attributes.all())

    @extend_schema_field({"type": "object", "properties": {
        "referred": {"type": "integer", "nullable": True}, "completed": {"type": "integer", "nullable": True}},
        "required": ["referred", "completed"]})
    def get_referral_counts(self, service) -> dict:
        return listing_referral_counts(service=service)

    def get_not_recently_verified(self, service) -> bool:
        return listing_unverified(service=service, today=timezone.localdate())


class _ListingFields(StrictSerializer):
    name = serializers.CharField(max_length=150)
    name_kana = serializers.CharField(max_length=200, required=False, allow_blank=True)
    name_en = serializers.CharField(max_length=150, required=False, allow_blank=True)
    alternate_name = serializers.CharField(max_length=150, required=False, allow_blank=True)
    description = serializers.CharField(max_length=4000)
    description_en = serializers.CharField(max_length=4000, required=False, allow_blank=True)
    url = serializers.URLField(required=False, allow_blank=True)
    email = serializers.EmailField(required=False, allow_blank=True)
    status = serializers.ChoiceField(choices=ServiceStatus.choices, required=False)
    interpretation_services = serializers.CharField(max_length=500, required=False, allow_blank=True)
    application_process = serializers.CharField(max_length=2000, required=False, allow_blank=True)
    fees_description = serializers.CharField(max_length=500, required=False, allow_blank=True)
    eligibility_description = serializers.CharField(max_length=2000, required=False, allow_blank=True)
    minimum_age = serializers.IntegerField(min_value=0, max_value=120, required=False, allow_null=True)
    maximum_age = serializers.IntegerField(min_value=0, max_value=120, required=False, allow_null=True)
    alert = serializers.CharField(max_length=500, required=False, allow_blank=True)
    taxonomy_codes = serializers.ListField(child=serializers.CharField(max_length=20), min_length=1, max_length=10)
    schedules = ListingScheduleSerializer(many=True, required=False, max_length=20)


class ListingCreateSerializer(_ListingFields):
    organization = serializers.IntegerField(required=False, min_value=1,
                                            help_text="Which of my organisations runs it (when I have several).")
    language_codes = serializers.ListField(child=serializers.RegexField(r"^[a-z]{2,3}$"), required=False,
                                           max_length=10, default=["ja"])
    district_ids = serializers.ListField(child=serializers.IntegerField(min_value=1), required=False,
                                         max_length=50, default=list,
                                         help_text="Commissioner districts it is for (its service areas).")


class ListingUpdateSerializer(_ListingFields):
    pass


class ListingDecisionSerializer(StrictSerializer):
    decision = serializers.ChoiceField(choices=DECISIONS)


class ListingCapacitySerializer(StrictSerializer):
    status = serializers.ChoiceField(choices=CapacityStatus.choices)
    note = serializers.CharField(max_length=300, required=False, allow_blank=True, default="")


class ListingAssureSerializer(StrictSerializer):
    """Nothing to send: re-verifying says the listing is true as it stands today."""
