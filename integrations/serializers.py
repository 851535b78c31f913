from rest_framework import serializers

from api.serializers.base import StrictSerializer
from cases.models.consent import Purpose
from integrations.models import OrganizationClient
from integrations.scopes import SCOPES
from integrations.services import MAX_OVERLAP


class ClientSecretSerializer(serializers.Serializer):
    key_id = serializers.CharField(read_only=True, help_text="The public part of a key: mmc_<key_id>_<secret>.")
    created_at = serializers.DateTimeField(read_only=True)
    expires_at = serializers.DateTimeField(read_only=True, allow_null=True)


class OrganizationClientSerializer(serializers.ModelSerializer):
    valid_secrets = serializers.SerializerMethodField(help_text="At most two: during a rotation, old and new.")

    class Meta:
        model = OrganizationClient
        fields = ["id", "organization", "name", "scopes", "purposes", "created_at", "revoked_at", "last_used_at",
                  "valid_secrets"]
        read_only_fields = fields

    @staticmethod
    def _live(client):
        live = getattr(client, "live_secrets", None)
        return live if live is not None else list(client.secrets.filter(revoked_at__isnull=True)
                                                   .order_by("-created_at", "-id"))

    def get_valid_secrets(self, client) -> list[dict]:
        from django.utils import timezone

        now = timezone.now()
        return ClientSecretSerializer([s for s in self._live(client) if s.valid_at(now)], many=True).data


class OrganizationClientCreatedSerializer(OrganizationClientSerializer):
    key = serializers.CharField(read_only=True, help_text="Shown once. Store it now.")

    class Meta(OrganizationClientSerializer.Meta):
        fields = [*OrganizationClientSerializer.Meta.fields, "key"]
        read_only_fields = fields
        # An Idempotency-Key replay answers the client again without the key's plaintext (never stored).
        sometimes_absent = ["key"]


class OrganizationClientCreateSerializer(StrictSerializer):
    name = serializers.CharField(max_length=100)
    organization = serializers.IntegerField(min_value=1, required=False,
                                            help_text="Needed when you administer several organisations.")
    scopes = serializers.ListField(child=serializers.ChoiceField(choices=sorted(SCOPES)), min_length=1,
                                   max_length=len(SCOPES))
    purposes = serializers.ListField(child=serializers.ChoiceField(choices=Purpose.choices), min_length=1,
                                     max_length=len(Purpose.values))


class OrganizationClientRotateSerializer(StrictSerializer):
    overlap_hours = serializers.IntegerField(
        min_value=0, max_value=int(MAX_OVERLAP.total_seconds() // 3600), required=False, default=24,
        help_text="How long the previous key stays valid beside the new one (0: it stops now).")
