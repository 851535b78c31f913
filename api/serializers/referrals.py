"""Referrals: what the parties read (ids, states, deadlines) and what they send."""

from __future__ import annotations

from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from api.serializers.base import AccessLoggedModelSerializer, StrictSerializer, datetime_writer, row_ref
from api.serializers.cases import UserRefSerializer
from api.serializers.directory import OrganizationRefSerializer
from audit.access_log import access_log_read_rows
from cases.models import Organization, Referral, ReferralEvent, User
from cases.models.choices import Urgency
from cases.models.consent import Category
from cases.models.rules import lookups_hold


def _free_text_visible(context: dict, referral: Referral) -> bool:
    """Free text about the resident shows only while the reader may see the case (checked on every read)
    or to the organisation that wrote it."""
    return (referral.case_id in context.get("readable_case_ids", set())
            or referral.sender_organization_id in context.get("my_organization_ids", set()))


class _FreeText(serializers.CharField):
    """A referral's free text: null unless `_free_text_visible`."""

    def get_attribute(self, instance):
        context = self.parent.context if self.parent is not None else {}
        return super().get_attribute(instance) if _free_text_visible(context, instance) else None


class _EventReason(serializers.CharField):
    """An event's reason (a cancel or rejection text) follows the same rule as its referral's status_reason."""

    def get_attribute(self, instance):
        context = self.parent.context if self.parent is not None else {}
        return super().get_attribute(instance) if context.get("free_text_visible") else None


class ReferralEventSerializer(serializers.ModelSerializer):
    actor = UserRefSerializer(read_only=True)
    organization = OrganizationRefSerializer(read_only=True)
    reason = _EventReason(read_only=True, allow_null=True, allow_blank=True,
                          help_text="Null when you may no longer see the case (e.g. consent withdrawn).")

    class Meta:
        model = ReferralEvent
        fields = ["id", "action", "from_status", "to_status", "reason", "actor", "organization", "at"]
        read_only_fields = fields


class ReferralServiceSerializer(serializers.Serializer):
    """The listed service a referral names (public directory data)."""

    hsds_id = serializers.UUIDField(source="uuid", read_only=True, help_text="Its id on /api/hsds/services.")
    name = serializers.CharField(read_only=True)


class ReferralSerializer(AccessLoggedModelSerializer):
    case = serializers.IntegerField(source="case_id", read_only=True)
    resident = serializers.IntegerField(source="case.resident_id", read_only=True)
    sender_organization = OrganizationRefSerializer(read_only=True)
    sender_user = UserRefSerializer(read_only=True)
    receiver_organization = OrganizationRefSerializer(read_only=True)
    receiver_user = UserRefSerializer(read_only=True, allow_null=True)
    answered_by = UserRefSerializer(read_only=True, allow_null=True)
    categories = serializers.ListField(child=serializers.ChoiceField(choices=Category.choices), read_only=True)
    reason = _FreeText(read_only=True, allow_null=True,
                       help_text="Null when you may no longer see the case (e.g. consent withdrawn).")
    status_reason = _FreeText(read_only=True, allow_null=True)
    overdue = serializers.SerializerMethodField()
    service = ReferralServiceSerializer(read_only=True, allow_null=True)

    class Meta:
        model = Referral
        fields = [
            "id", "case", "resident", "sender_organization", "sender_user", "receiver_organization",
            "receiver_user", "service", "reason", "urgency", "categories", "status", "status_reason", "response_due_at",
            "overdue", "requested_at", "answered_at", "answered_by", "closed_at", "created_at", "updated_at",
        ]
        read_only_fields = fields

    def get_overdue(self, referral) -> bool:
        """Still unanswered after its response deadline."""
        return referral.is_overdue(now=timezone.now())


def referrals_represent(rows: list[dict], *, readable_case_ids: set[int], my_organization_ids: set[int],
                        now) -> list[dict]:
    """A page of referrals as `ReferralSerializer` writes it, key for key, from rows of `REFERRAL_VALUES`: no
    serializer is built per row (a test holds the two to the same bytes). Free text follows
    `_free_text_visible`, `overdue` the model's rule at `now`."""
    access_log_read_rows(Referral, rows)
    write_datetime = datetime_writer()
    page = []
    for row in rows:
        shown = row["case_id"] in readable_case_ids or row["sender_organization_id"] in my_organization_ids
        page.append({
            "id": row["id"],
            "case": row["case_id"],
            "resident": row["case__resident_id"],
            "sender_organization": row_ref(row, "sender_organization", "kind", "name"),
            "sender_user": row_ref(row, "sender_user", "display_name"),
            "receiver_organization": row_ref(row, "receiver_organization", "kind", "name"),
            "receiver_user": row_ref(row, "receiver_user", "display_name"),
            "service": None if row["service_id"] is None else {"hsds_id": str(row["service__uuid"]),
                                                                "name": row["service__name"]},
            "reason": row["reason"] if shown else None,
            "urgency": row["urgency"],
            "categories": list(row["categories"] or []),
            "status": row["status"],
            "status_reason": row["status_reason"] if shown else None,
            "response_due_at": write_datetime(row["response_due_at"]),
            "overdue": lookups_hold(row, Referral.overdue_lookups(now)),
            "requested_at": write_datetime(row["requested_at"]),
            "answered_at": write_datetime(row["answered_at"]),
            "answered_by": row_ref(row, "answered_by", "display_name"),
            "closed_at": write_datetime(row["closed_at"]),
            "created_at": write_datetime(row["created_at"]),
            "updated_at": write_datetime(row["updated_at"]),
        })
    return page


class ReferralDetailSerializer(ReferralSerializer):
    events = serializers.SerializerMethodField()

    class Meta(ReferralSerializer.Meta):
        fields = [*ReferralSerializer.Meta.fields, "events"]
        read_only_fields = fields

    @extend_schema_field(ReferralEventSerializer(many=True))
    def get_events(self, referral) -> list[dict]:
        context = {"free_text_visible": _free_text_visible(self.context, referral)}
        return ReferralEventSerializer(self.context.get("events", []), many=True, context=context).data


class ReferralCreateSerializer(StrictSerializer):
    case = serializers.IntegerField(min_value=1, max_value=2**62, help_text="A case you can see.")
    receiver_organization = serializers.PrimaryKeyRelatedField(
        queryset=Organization.objects.all(), required=False,
        help_text="The receiving organisation (with `service`: the organisation that runs it, or left out).")
    service = serializers.UUIDField(required=False, help_text="A public service (its /api/hsds/ id) to refer to.")
    receiver_user = serializers.PrimaryKeyRelatedField(
        queryset=User.objects.filter(is_active=True), required=False, allow_null=True,
        help_text="A named worker of the receiving organisation (else its queue).",
    )
    reason = serializers.CharField(max_length=2000, trim_whitespace=True)
    urgency = serializers.ChoiceField(choices=Urgency.choices, default=Urgency.ROUTINE)
    categories = serializers.ListField(
        child=serializers.ChoiceField(choices=Category.choices), min_length=1, max_length=len(Category.choices),
        help_text="What the receiver may see; must include basic and lie within consent or a legal basis.",
    )
    organization = serializers.PrimaryKeyRelatedField(
        queryset=Organization.objects.all(), required=False,
        help_text="The sending organisation, when you belong to several.",
    )
    send = serializers.BooleanField(default=True, help_text="false: keep it as a draft.")

    def validate(self, attrs):
        if "receiver_organization" not in attrs and "service" not in attrs:
            raise serializers.ValidationError({"receiver_organization": [_("Name the receiver or a service.")]})
        return attrs


class ReferralTransitionSerializer(StrictSerializer):
    reason = serializers.CharField(
        max_length=500, required=False, allow_blank=True, default="",
        help_text="Required to reject, cancel, hold or fail.",
    )
