from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from cases.models import District, Membership, Organization


class OrganizationSerializer(serializers.ModelSerializer):
    ward = serializers.CharField(source="ward.name", read_only=True)
    fields = serializers.ListField(child=serializers.CharField(), read_only=True)

    class Meta:
        model = Organization
        fields = ["id", "kind", "name", "ward", "fields"]
        read_only_fields = fields


class OrganizationRefSerializer(serializers.ModelSerializer):
    class Meta:
        model = Organization
        fields = ["id", "kind", "name"]
        read_only_fields = fields


class DistrictSerializer(serializers.ModelSerializer):
    council_area = serializers.CharField(source="council_area.name", read_only=True)
    ward = serializers.CharField(source="council_area.ward.name", read_only=True)

    class Meta:
        model = District
        fields = ["id", "code", "name", "council_area", "ward"]
        read_only_fields = fields


class DistrictRefSerializer(serializers.ModelSerializer):
    class Meta:
        model = District
        fields = ["id", "code", "name"]
        read_only_fields = fields


class MembershipSerializer(serializers.ModelSerializer):
    organization = OrganizationRefSerializer(read_only=True)
    districts = serializers.SerializerMethodField()

    class Meta:
        model = Membership
        fields = ["id", "organization", "role", "valid_from", "valid_until", "districts"]
        read_only_fields = fields

    @extend_schema_field(DistrictRefSerializer(many=True))
    def get_districts(self, membership) -> list[dict]:
        return DistrictRefSerializer([a.district for a in membership.district_assignments.all()], many=True).data
