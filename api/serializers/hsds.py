"""The public directory's answers in the HSDS 3.0 shape (the compiled `service`, `organization`,
`taxonomy_term` schemas and the API reference's `Page`).

HSDS types are not nullable: a field with no value is left out rather than sent as null or "" (except
the metadata fields HSDS requires, which may be empty strings). Identifiers are the records' UUIDs.
Our profile adds a few fields HSDS allows beside its own: `name_kana` and the English texts, the
capacity (`capacity_status`, `capacity_note`, `capacity_updated_at`) and `not_recently_verified`.
No field here is about a resident.
"""

from __future__ import annotations

from django.utils import timezone
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from service_directory.selectors import listing_unverified

HSDS_VERSION = "3.0"


class HsdsSerializer(serializers.Serializer):
    """Output only. Optional fields are declared `required=False` (not read-only), so the schema does not
    list them as required; a field with no value is left out."""

    keep_empty: tuple[str, ...] = ()

    def to_representation(self, instance):
        data = super().to_representation(instance)
        return {key: value for key, value in data.items()
                if value is not None and (value != "" or key in self.keep_empty)}


def _id(source: str = "uuid", *, required: bool = True) -> serializers.UUIDField:
    """An HSDS id (the record's UUID); an optional one is left out when there is none."""
    if required:
        return serializers.UUIDField(source=source, read_only=True)
    return serializers.UUIDField(source=source, required=False)


class HsdsPhoneSerializer(HsdsSerializer):
    id = _id()
    service_id = _id("service.uuid", required=False)
    organization_id = _id("organization.uuid", required=False)
    number = serializers.CharField(read_only=True)
    type = serializers.CharField(read_only=True)
    description = serializers.CharField(required=False)


class HsdsContactSerializer(HsdsSerializer):
    id = _id()
    service_id = _id("service.uuid", required=False)
    organization_id = _id("organization.uuid", required=False)
    title = serializers.CharField(read_only=True)
    department = serializers.CharField(required=False)
    email = serializers.EmailField(required=False)


class HsdsScheduleSerializer(HsdsSerializer):
    id = _id()
    service_id = _id("service.uuid")
    freq = serializers.CharField(read_only=True)
    interval = serializers.IntegerField(read_only=True)
    byday = serializers.CharField(required=False)
    bymonthday = serializers.CharField(required=False)
    dtstart = serializers.DateField(read_only=True)
    until = serializers.DateField(required=False)
    opens_at = serializers.TimeField(read_only=True, format="%H:%M")
    closes_at = serializers.TimeField(read_only=True, format="%H:%M")
    timezone = serializers.SerializerMethodField()
    description = serializers.CharField(required=False)
    notes = serializers.CharField(required=False)

    def get_timezone(self, schedule) -> float:
        return 9  # UTC+9, the ward's local time


class HsdsServiceAreaSerializer(HsdsSerializer):
    id = _id()
    service_id = _id("service.uuid")
    name = serializers.CharField(read_only=True)
    description = serializers.CharField(required=False)


class HsdsLanguageSerializer(HsdsSerializer):
    id = _id()
    service_id = _id("service.uuid")
    name = serializers.CharField(read_only=True)
    code = serializers.CharField(read_only=True)
    note = serializers.CharField(required=False)


class HsdsTaxonomySerializer(HsdsSerializer):
    id = _id()
    name = serializers.CharField(read_only=True)
    description = serializers.CharField(read_only=True)
    version = serializers.CharField(required=False)


class HsdsTaxonomyTermSerializer(HsdsSerializer):
    id = _id()
    code = serializers.CharField(read_only=True)
    name = serializers.CharField(read_only=True)
    description = serializers.CharField(source="name_en", read_only=True)
    parent_id = _id("parent.uuid", required=False)
    taxonomy = serializers.CharField(source="taxonomy.name", read_only=True)
    taxonomy_id = _id("taxonomy.uuid")
    taxonomy_detail = HsdsTaxonomySerializer(source="taxonomy", read_only=True)
    language = serializers.SerializerMethodField()
    name_kana = serializers.CharField(read_only=True)
    name_en = serializers.CharField(read_only=True)

    def get_language(self, term) -> str:
        return "ja"


class HsdsAttributeSerializer(HsdsSerializer):
    id = _id()
    link_id = _id("service.uuid")
    taxonomy_term_id = _id("taxonomy_term.uuid")
    link_type = serializers.SerializerMethodField()
    link_entity = serializers.SerializerMethodField()
    value = serializers.CharField(required=False)
    taxonomy_term = HsdsTaxonomyTermSerializer(read_only=True)

    def get_link_type(self, attribute) -> str:
        return "service_taxonomy"

    def get_link_entity(self, attribute) -> str:
        return "service"


class HsdsMetadataSerializer(HsdsSerializer):
    keep_empty = ("previous_value", "replacement_value")
    id = _id()
    resource_id = _id("service.uuid")
    resource_type = serializers.SerializerMethodField()
    last_action_date = serializers.DateField(read_only=True)
    last_action_type = serializers.CharField(read_only=True)
    field_name = serializers.CharField(read_only=True)
    previous_value = serializers.CharField(read_only=True)
    replacement_value = serializers.CharField(read_only=True)
    updated_by = serializers.CharField(read_only=True)

    def get_resource_type(self, entry) -> str:
        return "service"


class HsdsAddressSerializer(HsdsSerializer):
    id = _id()
    location_id = _id()
    address_1 = serializers.CharField(read_only=True)
    city = serializers.CharField(read_only=True)
    state_province = serializers.CharField(read_only=True)
    postal_code = serializers.CharField(read_only=True)
    country = serializers.CharField(read_only=True)
    address_type = serializers.SerializerMethodField()

    def get_address_type(self, location) -> str:
        return "physical"


class HsdsAccessibilitySerializer(HsdsSerializer):
    id = _id()
    location_id = _id()
    description = serializers.CharField(source="accessibility_description", read_only=True)
    details = serializers.CharField(source="accessibility_details", required=False)


class HsdsLocationSerializer(HsdsSerializer):
    id = _id()
    location_type = serializers.CharField(read_only=True)
    organization_id = _id("organization.uuid", required=False)
    name = serializers.CharField(read_only=True)
    name_kana = serializers.CharField(required=False)
    description = serializers.CharField(required=False)
    transportation = serializers.CharField(required=False)
    latitude = serializers.FloatField(required=False)
    longitude = serializers.FloatField(required=False)
    addresses = serializers.SerializerMethodField()
    accessibility = serializers.SerializerMethodField()

    @extend_schema_field(HsdsAddressSerializer(many=True))
    def get_addresses(self, location) -> list:
        return [HsdsAddressSerializer(location).data] if location.address_1 and location.postal_code else []

    @extend_schema_field(HsdsAccessibilitySerializer(many=True))
    def get_accessibility(self, location) -> list:
        return [HsdsAccessibilitySerializer(location).data] if location.accessibility_description else []


class HsdsServiceAtLocationSerializer(HsdsSerializer):
    id = _id()
    service_id = _id("service.uuid")
    location_id = _id("location.uuid")
    description = serializers.CharField(required=False)
    location = HsdsLocationSerializer(read_only=True)


class HsdsOrganizationSerializer(HsdsSerializer):
    id = _id()
    name = serializers.CharField(read_only=True)
    alternate_name = serializers.CharField(required=False)
    description = serializers.CharField(read_only=True)
    email = serializers.EmailField(required=False)
    website = serializers.URLField(required=False)
    legal_status = serializers.CharField(required=False)
    name_kana = serializers.CharField(required=False)
    name_en = serializers.CharField(required=False)
    description_en = serializers.CharField(required=False)


class HsdsOrganizationDetailSerializer(HsdsOrganizationSerializer):
    phones = HsdsPhoneSerializer(many=True, read_only=True)
    contacts = HsdsContactSerializer(many=True, read_only=True)


class HsdsServiceSerializer(HsdsSerializer):
    """One service as HSDS's compiled `service` schema has it (with its organisation and sub-tables)."""

    id = _id()
    organization_id = _id("organization.uuid")
    name = serializers.CharField(read_only=True)
    alternate_name = serializers.CharField(required=False)
    description = serializers.CharField(read_only=True)
    url = serializers.URLField(required=False)
    email = serializers.EmailField(required=False)
    status = serializers.CharField(read_only=True)
    interpretation_services = serializers.CharField(required=False)
    application_process = serializers.CharField(required=False)
    fees_description = serializers.CharField(required=False)
    eligibility_description = serializers.CharField(required=False)
    minimum_age = serializers.IntegerField(required=False)
    maximum_age = serializers.IntegerField(required=False)
    assured_date = serializers.DateField(read_only=True)
    assurer_email = serializers.EmailField(required=False)
    alert = serializers.CharField(required=False)
    last_modified = serializers.DateTimeField(source="updated_at", read_only=True)
    organization = HsdsOrganizationSerializer(read_only=True)
    phones = HsdsPhoneSerializer(many=True, read_only=True)
    schedules = HsdsScheduleSerializer(many=True, read_only=True)
    service_areas = HsdsServiceAreaSerializer(many=True, read_only=True)
    service_at_locations = HsdsServiceAtLocationSerializer(many=True, read_only=True)
    languages = HsdsLanguageSerializer(many=True, read_only=True)
    contacts = HsdsContactSerializer(many=True, read_only=True)
    attributes = HsdsAttributeSerializer(many=True, read_only=True)
    metadata = HsdsMetadataSerializer(many=True, read_only=True)
    # Our profile's fields.
    name_kana = serializers.CharField(required=False)
    name_en = serializers.CharField(required=False)
    description_en = serializers.CharField(required=False)
    capacity_status = serializers.CharField(required=False)
    capacity_note = serializers.CharField(required=False)
    capacity_updated_at = serializers.DateTimeField(required=False)
    not_recently_verified = serializers.SerializerMethodField()

    def get_not_recently_verified(self, service) -> bool:
        """Not re-verified within DIRECTORY_REVERIFY_AFTER_MONTHS: shown so a reader knows to check."""
        return listing_unverified(service=service, today=timezone.localdate())


class HsdsPageSerializer(serializers.Serializer):
    """The HSDS API reference's `Page` (page-number paging) with its `contents`."""

    total_items = serializers.IntegerField()
    total_pages = serializers.IntegerField()
    page_number = serializers.IntegerField()
    size = serializers.IntegerField()
    first_page = serializers.BooleanField()
    last_page = serializers.BooleanField()
    empty = serializers.BooleanField()


class HsdsServicePageSerializer(HsdsPageSerializer):
    contents = HsdsServiceSerializer(many=True)


class HsdsOrganizationPageSerializer(HsdsPageSerializer):
    contents = HsdsOrganizationSerializer(many=True)


class HsdsTaxonomyTermPageSerializer(HsdsPageSerializer):
    contents = HsdsTaxonomyTermSerializer(many=True)


class HsdsApiInfoSerializer(serializers.Serializer):
    version = serializers.CharField()
    profile = serializers.URLField()
    openapi_url = serializers.URLField()
