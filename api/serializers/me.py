from rest_framework import serializers

from api.models import ApiToken
from api.serializers.base import StrictSerializer
from api.serializers.directory import MembershipSerializer


class MeSerializer(serializers.Serializer):
    id = serializers.IntegerField(read_only=True)
    username = serializers.CharField(read_only=True)
    display_name = serializers.CharField(read_only=True)
    memberships = MembershipSerializer(many=True, read_only=True)


class ApiTokenSerializer(serializers.ModelSerializer):
    class Meta:
        model = ApiToken
        fields = ["id", "name", "created_at", "expires_at", "revoked_at", "last_used_at"]
        read_only_fields = fields


class ApiTokenCreateSerializer(StrictSerializer):
    name = serializers.CharField(max_length=100)
    ttl_days = serializers.IntegerField(min_value=1, max_value=365, required=False)


class ApiTokenCreatedSerializer(ApiTokenSerializer):
    token = serializers.CharField(read_only=True, help_text="Shown once. Store it now.")

    class Meta(ApiTokenSerializer.Meta):
        fields = [*ApiTokenSerializer.Meta.fields, "token"]
        read_only_fields = fields
        # An Idempotency-Key replay answers the same token without its plaintext (never stored).
        sometimes_absent = ["token"]
