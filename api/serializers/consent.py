from __future__ import annotations

from rest_framework import serializers

from api.serializers.base import AccessLoggedModelSerializer, StrictSerializer
from api.serializers.cases import UserRefSerializer
from api.serializers.directory import OrganizationRefSerializer
from cases.models import Consent, LegalBasisGrant, Organization, SupportMeeting, User
from cases.models.choices import OrganizationKind
from cases.models.consent import Category, Decision, Grantor, LegalBasis, Method, Purpose


def _choices(choices, **kwargs):
    return serializers.ListField(child=serializers.ChoiceField(choices=choices), max_length=len(choices), **kwargs)


class ConsentSerializer(AccessLoggedModelSerializer):
    recipient_organizations = OrganizationRefSerializer(many=True, read_only=True)
    taken_by = UserRefSerializer(read_only=True)
    taken_by_organization = OrganizationRefSerializer(read_only=True)
    withdrawn_by = UserRefSerializer(read_only=True)
    recipient_kinds = _choices(OrganizationKind.choices, read_only=True)
    categories = _choices(Category.choices, read_only=True)
    purposes = _choices(Purpose.choices, read_only=True)

    class Meta:
        model = Consent
        fields = [
            "id", "resident", "decision", "grantor", "proxy_name", "recipient_organizations", "recipient_kinds",
            "categories", "purposes", "valid_from", "valid_until", "method", "evidence", "taken_by",
            "taken_by_organization", "taken_at", "withdrawn_at", "withdrawn_by", "withdrawal_grantor",
            "withdrawal_note",
        ]
        read_only_fields = fields


class ConsentCreateSerializer(StrictSerializer):
    decision = serializers.ChoiceField(choices=Decision.choices, default=Decision.GRANTED)
    grantor = serializers.ChoiceField(choices=Grantor.choices)
    proxy_name = serializers.CharField(max_length=60, required=False, allow_blank=True, default="")
    recipient_organizations = serializers.PrimaryKeyRelatedField(
        queryset=Organization.objects.all(), many=True, required=False, default=list
    )
    recipient_kinds = _choices(OrganizationKind.choices, required=False, default=list)
    categories = _choices(Category.choices, min_length=1)
    purposes = _choices(Purpose.choices, min_length=1)
    valid_from = serializers.DateTimeField(required=False)
    valid_until = serializers.DateTimeField(required=False, allow_null=True)
    method = serializers.ChoiceField(choices=Method.choices)
    evidence = serializers.CharField(max_length=100, required=False, allow_blank=True, default="")
    organization = serializers.PrimaryKeyRelatedField(queryset=Organization.objects.all(), required=False)


class ConsentWithdrawSerializer(StrictSerializer):
    grantor = serializers.ChoiceField(choices=Grantor.choices, help_text="Who asked for the withdrawal.")
    note = serializers.CharField(max_length=200, required=False, allow_blank=True, default="")


class LegalBasisGrantSerializer(AccessLoggedModelSerializer):
    organization = OrganizationRefSerializer(read_only=True)
    requested_by = UserRefSerializer(read_only=True)
    approved_by = UserRefSerializer(read_only=True)
    reviewed_by = UserRefSerializer(read_only=True)
    categories = _choices(Category.choices, read_only=True)

    class Meta:
        model = LegalBasisGrant
        fields = [
            "id", "resident", "organization", "basis", "categories", "justification", "meeting", "status",
            "requested_by", "approved_by", "starts_at", "ends_at", "revoked_at", "review_due_at", "reviewed_at",
            "reviewed_by", "review_justified", "review_note", "created_at",
        ]
        read_only_fields = fields


class LegalBasisGrantCreateSerializer(StrictSerializer):
    resident = serializers.IntegerField(min_value=1, max_value=2**62)
    # A support meeting's share goes through the meeting, a disaster's through its event's declaration.
    basis = serializers.ChoiceField(choices=[c for c in LegalBasis.choices
                                             if c[0] not in (LegalBasis.SUPPORT_MEETING, LegalBasis.DISASTER)])
    categories = _choices(Category.choices, min_length=1)
    justification = serializers.CharField(min_length=10, max_length=2000)
    hours = serializers.IntegerField(min_value=1, max_value=720, help_text="APPI27-1-2: at most 72.")
    organization = serializers.PrimaryKeyRelatedField(queryset=Organization.objects.all(), required=False)


class LegalBasisGrantReviewSerializer(StrictSerializer):
    justified = serializers.BooleanField()
    note = serializers.CharField(max_length=500, required=False, allow_blank=True, default="")


class MeetingMemberSerializer(serializers.Serializer):
    user = UserRefSerializer(read_only=True)
    organization = OrganizationRefSerializer(read_only=True)
    confidentiality_acknowledged_at = serializers.DateTimeField(read_only=True, allow_null=True)


class SupportMeetingSerializer(AccessLoggedModelSerializer):
    convened_by = OrganizationRefSerializer(read_only=True)
    members = MeetingMemberSerializer(many=True, read_only=True)
    cases = serializers.PrimaryKeyRelatedField(many=True, read_only=True)

    class Meta:
        model = SupportMeeting
        fields = ["id", "title", "convened_by", "held_at", "ends_at", "cases", "members", "created_at"]
        read_only_fields = fields


class SupportMeetingCreateSerializer(StrictSerializer):
    title = serializers.CharField(max_length=100)
    held_at = serializers.DateTimeField()
    ends_at = serializers.DateTimeField()
    cases = serializers.ListField(child=serializers.IntegerField(min_value=1, max_value=2**62), min_length=1,
                                  max_length=50)
    members = serializers.PrimaryKeyRelatedField(queryset=User.objects.filter(is_active=True), many=True)
    organization = serializers.PrimaryKeyRelatedField(queryset=Organization.objects.all(), required=False)


class MeetingShareSerializer(StrictSerializer):
    resident = serializers.IntegerField(min_value=1, max_value=2**62)
    categories = _choices(Category.choices, min_length=1)
    justification = serializers.CharField(max_length=2000, required=False, allow_blank=True, default="")


