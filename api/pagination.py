"""Cursor pagination: stable under inserts, constant cost per page.

A malformed `cursor` or `page_size` is a 400 naming the parameter, never silently
replaced by a default: a client that asked for 500 rows and got 50 would think it
had them all. A cursor is only base64 of `o=…&r=…&p=…`, so anyone can forge one:
its position must be a value of the list's first ordering field (a whole number in
range, a real date and time) or the query would fail in the database.

Every list route pages through here, so this is also where a query parameter the
route does not know (`?date_of_brith=1940-04-01`, a typo) is refused with a 400
naming it: ignored, it would answer the whole unfiltered list as if it were the
filtered one. A route knows `cursor`, `page_size`, DRF's `format` and its filters.
"""

import datetime
import re
from typing import NoReturn

from django.core.exceptions import FieldDoesNotExist
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django_filters.rest_framework import DjangoFilterBackend
from rest_framework.exceptions import ErrorDetail, NotFound, ValidationError
from rest_framework.pagination import CursorPagination
from rest_framework.settings import api_settings

_UNSAFE = re.compile(r"[\x00-\x1f\x7f]")
# A cursor as the links write it and the schema documents it: padded base64, whole groups of four (b64decode would
# silently drop any other character, and refuses a broken group).
_CURSOR = re.compile(r"^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{4}|[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)$")
_BIGINT = 2**63 - 1


class StableCursorPagination(CursorPagination):
    page_size = 50
    page_size_query_param = "page_size"
    max_page_size = 200

    ordering = "id"

    def get_page_size(self, request):
        raw = request.query_params.get(self.page_size_query_param)
        if raw is None:
            return self.page_size
        if not raw.isascii() or not raw.isdigit() or not 1 <= int(raw) <= self.max_page_size:
            raise ValidationError({self.page_size_query_param: [
                _("Enter a whole number from 1 to %(maximum)s.") % {"maximum": self.max_page_size}]})
        return int(raw)

    def paginate_queryset(self, queryset, request, view=None):
        self._refuse_unknown_parameters(request, view, queryset)
        self._queryset = queryset
        return super().paginate_queryset(queryset, request, view)

    def decode_cursor(self, request):
        encoded = request.query_params.get(self.cursor_query_param)
        if encoded is not None and not _CURSOR.fullmatch(encoded):
            self._invalid()
        try:
            cursor = super().decode_cursor(request)
        except NotFound:
            self._invalid()
        if cursor is not None and cursor.position is not None and not self._valid_position(cursor.position):
            self._invalid()
        return cursor

    def _refuse_unknown_parameters(self, request, view, queryset) -> None:
        known = {self.cursor_query_param, self.page_size_query_param, api_settings.URL_FORMAT_OVERRIDE}
        # The filters the view's filter backend applies (a filterset_class, or one built from filterset_fields).
        filterset_class = DjangoFilterBackend().get_filterset_class(view, queryset) if view is not None else None
        if filterset_class is not None:
            known |= set(filterset_class.base_filters)
        unknown = sorted(set(request.query_params) - known)
        if unknown:
            raise ValidationError({name: [ErrorDetail(_("Unknown query parameter."), code="unknown_parameter")]
                                   for name in unknown})

    def _invalid(self) -> NoReturn:
        raise ValidationError({self.cursor_query_param: [self.invalid_cursor_message]}) from None  # DRF's, translated

    def _valid_position(self, position: str) -> bool:
        if _UNSAFE.search(position):
            return False
        field = _ordering_field(self._queryset, self.ordering[0].lstrip("-"))
        try:
            value = field.to_python(position)
        except (DjangoValidationError, TypeError, ValueError, OverflowError):
            return False
        if isinstance(value, int):
            return -_BIGINT <= value <= _BIGINT
        if isinstance(value, datetime.datetime):  # the database compares it in UTC: it must have a UTC time
            try:
                aware = timezone.make_aware(value) if timezone.is_naive(value) else value
                aware.astimezone(datetime.UTC)
            except (OverflowError, ValueError):
                return False
        return True

    def get_schema_operation_parameters(self, view):
        parameters = super().get_schema_operation_parameters(view)
        for parameter in parameters:
            if parameter["name"] == self.page_size_query_param:
                parameter["schema"] = {"type": "integer", "minimum": 1, "maximum": self.max_page_size,
                                       "default": self.page_size}
            elif parameter["name"] == self.cursor_query_param:
                # Opaque, but padded base64: anything else is refused before it is decoded.
                parameter["schema"] = {"type": "string", "pattern": _CURSOR.pattern}
                parameter["description"] = "The cursor of the `next` or `previous` link of the page before, as given."
        return parameters


def _ordering_field(queryset, name: str) -> models.Field:
    annotation = queryset.query.annotations.get(name)
    if annotation is not None:
        return annotation.output_field
    try:
        field = queryset.model._meta.get_field(name)
    except FieldDoesNotExist:
        return models.TextField()
    return field.output_field if isinstance(field, models.GeneratedField) else field
