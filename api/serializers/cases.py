from __future__ import annotations

from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from api.serializers.base import StrictModelSerializer, date_represent, datetime_writer
from api.serializers.directory import DistrictRefSerializer, OrganizationRefSerializer
from audit.access_log import access_log_read_rows
from cases.models import Case, Organization, Resident, User
from cases.selectors import visit_overdue


class CaseResidentSerializer(serializers.ModelSerializer):
    district = DistrictRefSerializer(read_only=True)

    class Meta:
        model = Resident
        fields = ["id", "name_kanji", "name_kana", "district", "do_not_contact"]
        read_only_fields = fields


class UserRefSerializer(serializers.ModelSerializer):
    class Meta:
        model = User
        fields = ["id", "display_name"]
        read_only_fields = fields


class CaseSerializer(StrictModelSerializer):
    # A plain id, looked up through the policy by the view: a missing and a hidden resident both answer 404.
    resident = serializers.IntegerField(min_value=1, max_value=2**62, write_only=True)
    resident_detail = CaseResidentSerializer(source="resident", read_only=True)
    lead_organization = OrganizationRefSerializer(read_only=True)
    lead_worker = serializers.PrimaryKeyRelatedField(
        queryset=User.objects.filter(is_active=True), required=False, allow_null=True, write_only=True
    )
    lead_worker_detail = UserRefSerializer(source="lead_worker", read_only=True, allow_null=True)
    team = serializers.SerializerMethodField()
    team_organizations = serializers.PrimaryKeyRelatedField(
        queryset=Organization.objects.all(), many=True, required=False, write_only=True,
        help_text="Organisations on the case team besides the lead.",
    )
    organization = serializers.PrimaryKeyRelatedField(
        queryset=Organization.objects.all(), write_only=True, required=False,
        help_text="The organisation that leads the case, when you belong to several.",
    )
    visit_overdue = serializers.SerializerMethodField()

    class Meta:
        model = Case
        fields = [
            "id", "resident", "resident_detail", "concern", "status", "risk_level", "lead_organization",
            "organization", "lead_worker", "lead_worker_detail", "team", "team_organizations",
            "visit_cadence_days", "next_visit_due", "visit_overdue", "opened_at", "closed_at", "updated_at", "version",
        ]
        # A case opens as `open` (case_open takes no status); the status changes by update.
        read_only_fields = ["id", "status", "opened_at", "closed_at", "updated_at", "version"]
        extra_kwargs = {"visit_cadence_days": {"min_value": 1, "max_value": 365}}

    @extend_schema_field(OrganizationRefSerializer(many=True))
    def get_team(self, case) -> list[dict]:
        return [{"id": m.organization.id, "kind": m.organization.kind, "name": m.organization.name}
                for m in case.team_members.all()]

    def get_visit_overdue(self, case) -> bool:
        return visit_overdue(next_visit_due=case.next_visit_due, today=self.context.get("today"))

    def validate_concern(self, value: str) -> str:
        return value.strip()  # unsafe text was refused with the body (api/text.py)

    def validate_team_organizations(self, value):
        if len(value) > 20:
            raise serializers.ValidationError(_("A team has at most 20 organisations."), code="too_many")
        return value


def caseload_represent(rows: list[dict], *, teams: dict[int, list[dict]], today) -> list[dict]:
    """A caseload page as `CaseSerializer` writes it, key for key, from rows of `CASELOAD_VALUES` and the
    teams of one query: no serializer is built per row (a test holds the two to the same bytes)."""
    access_log_read_rows(Case, rows)
    write_datetime = datetime_writer()
    return [
        {
            "id": row["id"],
            "resident_detail": {
                "id": row["resident_id"],
                "name_kanji": row["resident__name_kanji"],
                "name_kana": row["resident__name_kana"],
                "district": {"id": row["resident__district_id"], "code": row["resident__district__code"],
                             "name": row["resident__district__name"]},
                "do_not_contact": row["resident__do_not_contact"],
            },
            "concern": row["concern"],
            "status": row["status"],
            "risk_level": row["risk_level"],
            "lead_organization": {"id": row["lead_organization_id"], "kind": row["lead_organization__kind"],
                                  "name": row["lead_organization__name"]},
            "lead_worker_detail": None if row["lead_worker_id"] is None else {
                "id": row["lead_worker_id"], "display_name": row["lead_worker__display_name"]},
            "team": teams[row["id"]],
            "visit_cadence_days": row["visit_cadence_days"],
            "next_visit_due": date_represent(row["next_visit_due"]),
            "visit_overdue": visit_overdue(next_visit_due=row["next_visit_due"], today=today),
            "opened_at": write_datetime(row["opened_at"]),
            "closed_at": write_datetime(row["closed_at"]),
            "updated_at": write_datetime(row["updated_at"]),
            "version": row["version"],
        }
        for row in rows
    ]


class CaseUpdateSerializer(CaseSerializer):
    class Meta(CaseSerializer.Meta):
        read_only_fields = [f for f in CaseSerializer.Meta.read_only_fields if f != "status"]

    def get_fields(self):
        fields = super().get_fields()
        for name in ("resident", "organization"):
            fields.pop(name)
        return fields
