"""Shape validation shared by every serializer: unknown fields and unsafe text are refused."""

from __future__ import annotations

import re
from collections.abc import Callable

from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from rest_framework import ISO_8601, serializers
from rest_framework.settings import api_settings

from api.text import UNSAFE_TEXT_CODE, UNSAFE_TEXT_MESSAGE, text_unsafe
from audit.access_log import access_log_read


def _unsafe_fields(data, path: str = "") -> list[str]:
    if isinstance(data, str):
        return [path] if text_unsafe(data) else []
    if isinstance(data, dict):
        return [p for k, v in data.items() for p in _unsafe_fields(v, f"{path}.{k}" if path else str(k))]
    if isinstance(data, list):
        return [p for i, v in enumerate(data) for p in _unsafe_fields(v, f"{path}[{i}]")]
    return []


_DATE = serializers.DateField()
_DATETIME = serializers.DateTimeField()


def date_represent(value):
    """A date as DRF's DateField writes it (None stays null)."""
    return None if value is None else _DATE.to_representation(value)


def datetime_represent(value):
    """A date and time as DRF's DateTimeField writes it, in the current time zone (None stays null)."""
    return None if value is None else _DATETIME.to_representation(value)


def row_ref(row: dict, prefix: str, *fields: str) -> dict | None:
    """A nested reference (`OrganizationRefSerializer`, `UserRefSerializer`) from a row's `<prefix>_id` and its
    `<prefix>__<field>` columns; null when the row points at nothing."""
    if row[f"{prefix}_id"] is None:
        return None
    return {"id": row[f"{prefix}_id"], **{field: row[f"{prefix}__{field}"] for field in fields}}


def datetime_writer() -> Callable:
    """`datetime_represent` for a page of rows: the same text, with the current time zone looked up once.

    DRF looks the zone up for every value it writes, and a caseload page writes 150 of them (0.5 ms of a
    page). An aware value is written here as DRF writes one in ISO 8601 (UTC as `Z`); anything else is left
    to DRF."""
    zone = timezone.get_current_timezone()
    if api_settings.DATETIME_FORMAT is None or api_settings.DATETIME_FORMAT.lower() != ISO_8601:
        return datetime_represent

    def write(value):
        if value is None:
            return None
        if value.tzinfo is None:
            return _DATETIME.to_representation(value)
        text = value.astimezone(zone).isoformat()
        return text[:-6] + "Z" if text.endswith("+00:00") else text

    return write


class StrictSerializer(serializers.Serializer):
    """Rejects unknown (or read-only) fields instead of silently ignoring them."""

    def to_internal_value(self, data):
        if isinstance(data, dict):
            writable = {name for name, f in self.fields.items() if not f.read_only}
            unknown = sorted(str(key) for key in data if key not in writable)
            if unknown:
                raise serializers.ValidationError({key: [_("Unknown field.")] for key in unknown}, code="unknown_field")
            unsafe = _unsafe_fields(data)
            if unsafe:
                raise serializers.ValidationError(
                    {key: [UNSAFE_TEXT_MESSAGE] for key in unsafe}, code=UNSAFE_TEXT_CODE)
        return super().to_internal_value(data)


class AccessLoggedModelSerializer(serializers.ModelSerializer):
    """Every record of a resident serialised into a response is noted for the access log (audit/access_log.py).

    The request's log is written in one INSERT when the response succeeds; a test walks the
    URL configuration and fails for any route that returns a resident's data without it.
    """

    def to_representation(self, instance):
        access_log_read(instance)
        return super().to_representation(instance)


class StrictModelSerializer(StrictSerializer, AccessLoggedModelSerializer):
    pass


# A person's name: letters of any script (kanji, kana, Latin, Hangul ...), spaces, and
# the few marks names use. No digits, markup or punctuation that could be SQL or HTML.
_NAME = re.compile(r"^[^\W\d_]+(?:[ \u3000\-'\.・ー々〆ヶ][^\W\d_]*)*$")


def validate_person_name(value: str) -> str:
    value = value.strip()
    if not value or not _NAME.match(value):
        raise serializers.ValidationError(_("Enter a name using letters only."), code="invalid_name")
    return value
