from django.utils.translation import gettext_lazy as _
from rest_framework import serializers

from api.serializers.base import StrictSerializer
from cases.models.consent import Purpose
from integrations.models import OrganizationClient, WebhookAttempt, WebhookDelivery, WebhookEndpoint
from integrations.scopes import SCOPES
from integrations.services import MAX_OVERLAP
from integrations.webhooks import SUBSCRIBABLE


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


class WebhookEndpointSerializer(serializers.ModelSerializer):
    rotating_until = serializers.DateTimeField(source="previous_secret_until", read_only=True, allow_null=True,
                                               help_text="Until then deliveries carry the old secret's signature too.")

    class Meta:
        model = WebhookEndpoint
        fields = ["id", "organization", "url", "event_types", "status", "disabled_reason", "failing_since",
                  "consecutive_failures", "next_attempt_at", "rotating_until", "created_at"]
        read_only_fields = fields


class WebhookEndpointCreatedSerializer(WebhookEndpointSerializer):
    secret = serializers.CharField(read_only=True, help_text="whsec_…: shown once. Verify every delivery with it.")

    class Meta(WebhookEndpointSerializer.Meta):
        fields = [*WebhookEndpointSerializer.Meta.fields, "secret"]
        read_only_fields = fields
        sometimes_absent = ["secret"]


class WebhookEndpointCreateSerializer(StrictSerializer):
    url = serializers.URLField(max_length=500)
    event_types = serializers.ListField(child=serializers.ChoiceField(choices=SUBSCRIBABLE), min_length=1,
                                        max_length=len(SUBSCRIBABLE))
    organization = serializers.IntegerField(min_value=1, required=False,
                                            help_text="Needed when you administer several organisations.")


class WebhookReplaySerializer(StrictSerializer):
    delivery = serializers.IntegerField(min_value=1, max_value=2**62, required=False)
    since = serializers.DateTimeField(required=False)
    until = serializers.DateTimeField(required=False)

    def validate(self, data):
        if ("delivery" in data) == ("since" in data or "until" in data):
            raise serializers.ValidationError(_("Name one delivery, or a time range (since and until)."))
        return data


class WebhookReplayedSerializer(WebhookEndpointSerializer):
    replayed = serializers.IntegerField(read_only=True, help_text="Deliveries queued to be sent again.")

    class Meta(WebhookEndpointSerializer.Meta):
        fields = [*WebhookEndpointSerializer.Meta.fields, "replayed"]
        read_only_fields = fields
        # An Idempotency-Key replay answers the endpoint as it is now; nothing is queued a second time.
        sometimes_absent = ["replayed"]


class WebhookAttemptSerializer(serializers.ModelSerializer):
    class Meta:
        model = WebhookAttempt
        fields = ["at", "status", "error", "excerpt", "duration_ms"]
        read_only_fields = fields


class WebhookDeliverySerializer(serializers.ModelSerializer):
    webhook_id = serializers.CharField(source="event.webhook_id", read_only=True)
    type = serializers.CharField(source="event.type", read_only=True)
    attempt_log = WebhookAttemptSerializer(many=True, read_only=True)

    class Meta:
        model = WebhookDelivery
        fields = ["id", "webhook_id", "type", "sequence", "created_at", "attempts", "delivered_at", "last_status",
                  "attempt_log"]
        read_only_fields = fields


class EventSerializer(serializers.Serializer):
    """The same thin body a webhook carries."""

    id = serializers.CharField(source="webhook_id", read_only=True)
    type = serializers.CharField(read_only=True)
    sequence = serializers.IntegerField(read_only=True)
    timestamp = serializers.DateTimeField(source="occurred_at", read_only=True)
    subject_type = serializers.CharField(read_only=True)
    subject_id = serializers.IntegerField(read_only=True)


class HeartbeatSerializer(serializers.Serializer):
    type = serializers.CharField(read_only=True, default="heartbeat")
    timestamp = serializers.DateTimeField(read_only=True, help_text="Now: an empty page with it is silence.")
    last_sequence = serializers.IntegerField(read_only=True, help_text="The organisation's last event so far.")


class EventFeedSerializer(serializers.Serializer):
    organization = serializers.IntegerField(read_only=True)
    results = EventSerializer(many=True, read_only=True)
    next_after = serializers.IntegerField(read_only=True, help_text="Ask again with after=this.")
    heartbeat = HeartbeatSerializer(read_only=True)


class EventFeedQuerySerializer(StrictSerializer):
    after = serializers.IntegerField(min_value=0, max_value=2**62, required=False, default=0)
    limit = serializers.IntegerField(min_value=1, max_value=200, required=False, default=200)
    organization = serializers.IntegerField(min_value=1, max_value=2**62, required=False)
