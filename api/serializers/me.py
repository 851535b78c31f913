from django.conf import settings
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

    def get_fields(self):
        """`ttl_days` is bounded by the operator's API_TOKEN_TTL_DAYS as configured now (also in the schema)."""
        fields = super().get_fields()
        limit = settings.API_TOKEN_TTL_DAYS
        fields["ttl_days"] = serializers.IntegerField(
            min_value=1, max_value=limit, required=False,
            help_text=f"Days until the token expires. At most the operator's limit (API_TOKEN_TTL_DAYS, {limit} "
                      "here), which is also the default; asking for more is refused with 400, never shortened.",
        )
        return fields


class ApiTokenCreatedSerializer(ApiTokenSerializer):
    token = serializers.CharField(read_only=True, help_text="Shown once. Store it now.")

    class Meta(ApiTokenSerializer.Meta):
        fields = [*ApiTokenSerializer.Meta.fields, "token"]
        read_only_fields = fields
        # An Idempotency-Key replay answers the same token without its plaintext (never stored).
        sometimes_absent = ["token"]
