from rest_framework import serializers

from api.serializers.base import AccessLoggedModelSerializer, StrictSerializer
from api.serializers.cases import UserRefSerializer
from api.serializers.directory import OrganizationRefSerializer
from cases.models import Note, Organization
from cases.models.consent import Category


class NoteSerializer(AccessLoggedModelSerializer):
    author = UserRefSerializer(read_only=True)
    author_organization = OrganizationRefSerializer(read_only=True)
    superseded_by = serializers.SerializerMethodField()

    class Meta:
        model = Note
        fields = ["id", "resident", "case", "category", "body", "author", "author_organization", "supersedes",
                  "superseded_by", "created_at"]
        read_only_fields = fields

    def get_superseded_by(self, note) -> int | None:
        try:
            return note.superseded_by.id
        except Note.superseded_by.RelatedObjectDoesNotExist:
            return None


class NoteCreateSerializer(StrictSerializer):
    resident = serializers.IntegerField(min_value=1, max_value=2**62)
    case = serializers.IntegerField(min_value=1, max_value=2**62, required=False, allow_null=True)
    category = serializers.ChoiceField(choices=Category.choices)
    body = serializers.CharField(max_length=8000)
    organization = serializers.PrimaryKeyRelatedField(queryset=Organization.objects.all(), required=False)


class NoteAmendSerializer(StrictSerializer):
    body = serializers.CharField(max_length=8000)
