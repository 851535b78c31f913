from rest_framework import serializers

from api.serializers.base import AccessLoggedModelSerializer, StrictSerializer, datetime_writer
from api.serializers.cases import UserRefSerializer
from api.serializers.directory import OrganizationRefSerializer
from audit.access_log import access_log_read_rows
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


def notes_represent(rows: list[dict]) -> list[dict]:
    """A page of notes as `NoteSerializer` writes it, key for key, from rows of `NOTE_VALUES`: no serializer
    is built per row (a test holds the two to the same bytes)."""
    access_log_read_rows(Note, rows)
    write_datetime = datetime_writer()
    return [
        {
            "id": row["id"],
            "resident": row["resident_id"],
            "case": row["case_id"],
            "category": row["category"],
            "body": row["body"],
            "author": {"id": row["author_id"], "display_name": row["author__display_name"]},
            "author_organization": {"id": row["author_organization_id"], "kind": row["author_organization__kind"],
                                    "name": row["author_organization__name"]},
            "supersedes": row["supersedes_id"],
            "superseded_by": row["superseded_by__id"],
            "created_at": write_datetime(row["created_at"]),
        }
        for row in rows
    ]


class NoteCreateSerializer(StrictSerializer):
    resident = serializers.IntegerField(min_value=1, max_value=2**62)
    case = serializers.IntegerField(min_value=1, max_value=2**62, required=False, allow_null=True)
    category = serializers.ChoiceField(choices=Category.choices)
    body = serializers.CharField(max_length=8000)
    organization = serializers.PrimaryKeyRelatedField(queryset=Organization.objects.all(), required=False)


class NoteAmendSerializer(StrictSerializer):
    body = serializers.CharField(max_length=8000)
