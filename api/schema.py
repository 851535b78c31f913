"""OpenAPI generation: every operation documents its problem+json errors and its headers."""

from __future__ import annotations

from django.core.exceptions import FieldDoesNotExist
from django.utils import translation
from drf_spectacular.contrib.django_filters import DjangoFilterExtension
from drf_spectacular.drainage import has_override
from drf_spectacular.extensions import OpenApiAuthenticationExtension
from drf_spectacular.openapi import AutoSchema
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter
from rest_framework import serializers

from api.problems import CATALOGUE, PROBLEM_CONTENT_TYPE
from api.serializers.base import StrictSerializer


class ProblemFieldErrorSerializer(serializers.Serializer):
    field = serializers.CharField(allow_null=True)
    code = serializers.CharField()
    message = serializers.CharField()


class ProblemSerializer(serializers.Serializer):
    """RFC 9457 problem details with a stable `code` and the request id."""

    type = serializers.CharField()
    title = serializers.CharField()
    status = serializers.IntegerField()
    detail = serializers.CharField()
    code = serializers.CharField()
    instance = serializers.CharField()
    request_id = serializers.CharField()
    errors = ProblemFieldErrorSerializer(many=True, required=False)


_DESCRIPTIONS = {
    "400": "Invalid input (problem+json, code `validation_error`, `malformed_request`, `body_too_deep`, "
           "`body_too_many_values`, ...).",
    "401": "Missing or invalid credentials.",
    "403": "Authenticated, but not allowed to do this.",
    "404": "Not found, or not visible to you (the two look the same).",
    "405": "Method not allowed.",
    "406": "Not acceptable.",
    "409": "Conflict (e.g. Idempotency-Key reused with another request).",
    "412": "If-Match does not match the current ETag.",
    "413": "The body is larger than 5 MiB (code `request_too_large`).",
    "415": "Unsupported media type.",
    "428": "If-Match is required.",
    "429": "Throttled.",
}


def problem_codes_table() -> str:
    """The catalogue as a Markdown table (code, status, English, Japanese), for the schema's description."""
    rows = ["| code | status | message (en) | message (ja) |", "|---|---|---|---|"]
    for code, entry in CATALOGUE.items():
        with translation.override("en"):
            english = entry.message
        with translation.override("ja"):
            japanese = entry.message
        rows.append(f"| `{code}` | {entry.status} | {english} | {japanese} |")
    return "\n".join(rows)


def document_problem_codes(result, generator, request, public):
    """SPECTACULAR_SETTINGS' postprocessing hook: the schema's description lists every problem code."""
    result["info"]["description"] += "\n\n## Problem codes\n\n" + problem_codes_table()
    return result


def _model_field(field):
    model = getattr(getattr(field.parent, "Meta", None), "model", None)
    if model is None or not field.source or field.source == "*" or "." in field.source:
        return None
    try:
        return model._meta.get_field(field.source)
    except FieldDoesNotExist:
        return None


# Text fields whose JSON Schema `format` no empty string satisfies: drf-spectacular writes a blank one as
# `oneOf` the format or "" (`maxLength: 0`).
_FORMATTED_TEXT = (serializers.EmailField, serializers.URLField)


def _show_what_the_model_holds(field) -> None:
    """A read-only field answers what its column holds: null from a nullable foreign key shown
    as a nested object, "" from a blank choice, e-mail or URL column (DRF drops allow_blank on read-only fields)."""
    model_field = _model_field(field)
    if model_field is None:
        return
    if getattr(model_field, "null", False) and isinstance(field, serializers.BaseSerializer):
        field.allow_null = True
    if getattr(model_field, "blank", False) and isinstance(field, (serializers.ChoiceField, *_FORMATTED_TEXT)):
        field.allow_blank = True


# A time of day as DRF reads and writes it ("08:30", "08:30:00", "08:30:00.250000"), no offset: JSON Schema's
# `format: time` is RFC 3339's full-time, whose offset is required, so no time this API answers would match it.
TIME_OF_DAY = r"^([01][0-9]|2[0-3]):[0-5][0-9](:[0-5][0-9](\.[0-9]{1,6})?)?$"


def _time_of_day(schema: dict | None) -> dict | None:
    """A time field's schema as the pattern of what it holds (None: a field drf-spectacular leaves out)."""
    if schema is None or schema.get("format") != "time":
        return schema
    schema = {**schema, "pattern": TIME_OF_DAY}
    del schema["format"]
    return schema


class ProblemAutoSchema(AutoSchema):
    def _is_write(self) -> bool:
        return self.method in ("POST", "PUT", "PATCH")

    def _map_serializer_field(self, field, direction, bypass_extensions=False):
        if field.read_only and getattr(field, "parent", None) is not None:
            _show_what_the_model_holds(field)
        return _time_of_day(super()._map_serializer_field(field, direction, bypass_extensions))

    def _map_basic_serializer(self, serializer, direction):
        """Read-only fields are required in responses, except those a serializer's
        `Meta.sometimes_absent` names (e.g. a token's plaintext, left out of an idempotent replay)."""
        schema = super()._map_basic_serializer(serializer, direction)
        if not vars(type(serializer)).get("__doc__") and not has_override(serializer, "description"):
            # drf-spectacular falls back on a base class's docstring: the base's contract (e.g. "Rejects unknown
            # fields") would read as this component's description.
            schema.pop("description", None)
        if direction == "request" and isinstance(serializer, StrictSerializer):
            # The serializer answers 400 `unknown_field` for any other key: the schema says so.
            schema["additionalProperties"] = False
        absent = set(getattr(getattr(serializer, "Meta", None), "sometimes_absent", ()))
        if absent and "required" in schema:
            schema["required"] = [name for name in schema["required"] if name not in absent]
            if not schema["required"]:
                del schema["required"]
        return schema

    def _error_codes(self) -> list[str]:
        # 404 everywhere: a record in the path or named in the body may be missing or hidden, and a
        # collection may be hidden whole from those who must not learn it exists (the audit views).
        codes = ["400", "401", "403", "404", "406", "429"]
        if self.method == "POST":
            codes += ["409", "413", "415"]
        if self.method in ("PUT", "PATCH"):
            codes += ["412", "413", "415", "428"]
        return sorted(set(codes))

    def _get_response_bodies(self, direction="response"):
        responses = super()._get_response_bodies(direction)
        if direction != "response":
            return responses
        for code in self._error_codes():
            if code in responses:
                continue
            entry = self._get_response_for_code(ProblemSerializer, code, [PROBLEM_CONTENT_TYPE], direction)
            entry["description"] = _DESCRIPTIONS[code]
            responses[code] = entry
        return responses

    def _answers_etag(self) -> bool:
        """The single-record answers of a versioned record (resident, case) carry its ETag (api/conditional.py)."""
        if getattr(self.view, "action", None) not in ("retrieve", "create", "update", "partial_update"):
            return False
        model = getattr(getattr(self.view, "queryset", None), "model", None) or getattr(
            getattr(self._get_serializer(), "Meta", None), "model", None)
        try:
            return model is not None and model._meta.get_field("version") is not None
        except FieldDoesNotExist:
            return False

    def get_override_parameters(self):
        params = list(super().get_override_parameters())
        if self._answers_etag():
            params.append(
                OpenApiParameter(
                    "ETag", {"type": "string", "pattern": '^"v[0-9]+"$'}, OpenApiParameter.HEADER,
                    response=[200, 201], required=True,
                    description="The record's version (e.g. \"v3\"): send it back as If-Match to update it.",
                )
            )
        if self.method == "POST":
            params.append(
                OpenApiParameter(
                    "Idempotent-Replayed", {"type": "string", "enum": ["true"]}, OpenApiParameter.HEADER,
                    response=[200, 201], required=False,
                    description="`true` when this is the stored answer to an earlier request with the same "
                    "Idempotency-Key (nothing was done again).",
                )
            )
        if self.method == "POST":
            params.append(
                OpenApiParameter(
                    "Idempotency-Key",
                    # The shape api/idempotency.py accepts; anything else answers 400 invalid_header.
                    {"type": "string", "minLength": 1, "maxLength": 255, "pattern": "^[!-~]+$"},
                    OpenApiParameter.HEADER, required=False,
                    description="Retry-safe key (1-255 visible ASCII). Same key and body replays the stored "
                    "response; same key with another body answers 409.",
                )
            )
        if self.method in ("PUT", "PATCH"):
            params.append(
                OpenApiParameter(
                    "If-Match", OpenApiTypes.STR, OpenApiParameter.HEADER, required=True,
                    description="The ETag from your last read (e.g. \"v3\"). Missing: 428; stale: 412.",
                )
            )
        return params


class ApiTokenScheme(OpenApiAuthenticationExtension):
    target_class = "api.authentication.ApiTokenAuthentication"
    name = "ApiToken"

    def get_security_definition(self, auto_schema):
        return {
            "type": "http",
            "scheme": "bearer",
            "description": "Personal API token (prefix `mmr_`), sent as `Authorization: Bearer <token>`.",
        }


class FilterParametersExtension(DjangoFilterExtension):
    """django-filter's parameters as drf-spectacular writes them, and what api/filters.py's form adds: a filter
    given with no value (`?name_kana=`) is refused, so a text filter is at least one character long."""

    target_class = "api.filters.FilterBackend"
    priority = 1

    def get_schema_operation_parameters(self, auto_schema, *args, **kwargs):
        parameters = super().get_schema_operation_parameters(auto_schema, *args, **kwargs)
        for parameter in parameters:
            schema = parameter.get("schema", {})
            if schema.get("type") == "string":
                parameter["schema"] = {**schema, "minLength": max(schema.get("minLength", 0), 1)}
        return parameters
