from __future__ import annotations

import datetime
import re
import unicodedata

from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from rest_framework import serializers

from api.serializers.base import StrictModelSerializer, validate_person_name
from api.serializers.directory import DistrictRefSerializer, OrganizationRefSerializer
from cases.kana import is_kana
from cases.models import District, Organization, Resident
from cases.models.choices import SpecialCare

# ASCII digits only: Python's \d also matches full-width digits, which would be stored unsearchable.
_POSTAL = re.compile(r"^([0-9]{3})-?([0-9]{4})$")
_PHONE = re.compile(r"^0[0-9]{1,4}-?[0-9]{1,4}-?[0-9]{3,4}$")
_BLOCK = re.compile(r"^[0-9０-９]{1,5}(?:[-－ー][0-9０-９]{1,5}){0,3}$")


class ResidentSerializer(StrictModelSerializer):
    district = serializers.PrimaryKeyRelatedField(queryset=District.objects.all())
    district_detail = DistrictRefSerializer(source="district", read_only=True)
    registered_by = OrganizationRefSerializer(read_only=True)
    special_care = serializers.ListField(
        child=serializers.ChoiceField(choices=SpecialCare.choices), max_length=len(SpecialCare.choices), required=False
    )
    organization = serializers.PrimaryKeyRelatedField(
        queryset=Organization.objects.all(), write_only=True, required=False,
        help_text="The organisation you act for, when you belong to several.",
    )

    class Meta:
        model = Resident
        fields = [
            "id", "name_kanji", "name_kana", "date_of_birth", "postal_code", "prefecture", "municipality",
            "town", "chome", "block_number", "building", "room", "district", "district_detail",
            "household_type", "phone", "preferred_language", "interpreter_needed", "special_care",
            "do_not_contact", "registered_by", "organization", "created_at", "updated_at", "version",
        ]
        read_only_fields = ["id", "registered_by", "created_at", "updated_at", "version"]
        # postal_code is stored as 7 digits but may be sent with its hyphen (214-0014); validate_postal_code strips it.
        extra_kwargs = {"chome": {"min_value": 1, "max_value": 99}, "postal_code": {"max_length": 8}}

    def validate_name_kanji(self, value: str) -> str:
        return validate_person_name(value)

    def validate_name_kana(self, value: str) -> str:
        value = value.strip()
        if not is_kana(value):
            raise serializers.ValidationError(_("Enter the reading in kana."), code="invalid_kana")
        return value

    def validate_date_of_birth(self, value: datetime.date) -> datetime.date:
        if value > timezone.localdate() or value < datetime.date(1900, 1, 1):
            raise serializers.ValidationError(_("Enter a real date of birth."), code="invalid_date")
        return value

    def validate_postal_code(self, value: str) -> str:
        # Full-width input (２１４－００１４) is normalised, so the stored code is always seven ASCII digits.
        match = _POSTAL.match(unicodedata.normalize("NFKC", value).strip())
        if not match:
            raise serializers.ValidationError(_("Enter a postal code like 214-0014."), code="invalid_postal_code")
        return "".join(match.groups())

    def validate_phone(self, value: str) -> str:
        if value and not _PHONE.match(value.strip()):
            raise serializers.ValidationError(_("Enter a Japanese phone number."), code="invalid_phone")
        return value.strip()

    def validate_block_number(self, value: str) -> str:
        if not _BLOCK.match(value.strip()):
            raise serializers.ValidationError(_("Enter a block number like 2-15."), code="invalid_block_number")
        return value.strip()

    def validate_town(self, value: str) -> str:
        return value.strip()  # unsafe text was refused with the body (api/text.py)

    def validate_building(self, value: str) -> str:
        return value.strip()  # unsafe text was refused with the body (api/text.py)

    def validate_room(self, value: str) -> str:
        return value.strip()  # unsafe text was refused with the body (api/text.py)

    def validate_prefecture(self, value: str) -> str:
        return value.strip()  # unsafe text was refused with the body (api/text.py)

    def validate_municipality(self, value: str) -> str:
        return value.strip()  # unsafe text was refused with the body (api/text.py)

    def validate_special_care(self, value: list[str]) -> list[str]:
        return sorted(set(value))
