"""Query filters. Values are shape-checked here; visibility is already applied by the selector."""

from __future__ import annotations

import django_filters
from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django_filters.constants import EMPTY_VALUES
from django_filters.rest_framework import DjangoFilterBackend
from drf_spectacular.utils import extend_schema_field

from api.text import UNSAFE_TEXT_CODE, UNSAFE_TEXT_MESSAGE, text_unsafe
from backend.prepared import by_key
from cases.kana import is_kana, kana_normalize
from cases.models import Case, District, Resident
from cases.models.choices import CaseStatus, RiskLevel
from cases.selectors import today


class SafeFilterForm(forms.Form):
    """Refuses control characters in any parameter, and an empty filter (`?date_of_birth=`).

    django-filter skips a filter whose value is empty, so the answer would be the whole
    unfiltered list, which a client that meant to filter cannot tell from a filtered one.
    """

    def clean(self):
        cleaned = super().clean()
        for name in self.fields:
            values = self.data.getlist(name) if hasattr(self.data, "getlist") else [self.data.get(name)]
            if name in self.data and any(not str(value or "").strip() for value in values):
                self.add_error(name, forms.ValidationError(
                    _("Enter a value, or leave the parameter out."), code="empty"))
        for name, value in self.data.items():
            if isinstance(value, str) and text_unsafe(value):
                # Named after the parameter when it is a filter; other parameters (cursor, ...) have no field.
                self.add_error(name if name in self.fields else None, forms.ValidationError(
                    UNSAFE_TEXT_MESSAGE, code=UNSAFE_TEXT_CODE))
                break
        return cleaned


class FilterBackend(DjangoFilterBackend):
    """django-filter's backend, which leaves a request that names no filter as it is.

    With nothing to filter by, the filter set would build its form and a copy of each of its filters only to
    hand the list back unchanged: a caseload's first page, the next page of a task list, the inbox at a page
    size of the app's choosing, most of what the phone app asks for. The only parameters such a request may
    carry are the paginator's own (`cursor`, `page_size`), which it refuses itself when malformed
    (api/pagination.py), control characters included; any other parameter goes through the filter set.
    """

    def filter_queryset(self, request, queryset, view):
        if set(request.query_params) <= _paging_parameters(view):
            return queryset
        return super().filter_queryset(request, queryset, view)


def _paging_parameters(view) -> set[str]:
    """The query parameters the view's paginator reads and checks itself."""
    paginator = getattr(view, "paginator", None)
    return {name for name in (getattr(paginator, "cursor_query_param", None),
                              getattr(paginator, "page_size_query_param", None)) if name}


class StrictBooleanField(forms.NullBooleanField):
    """true/false/1/0 or nothing: any other value is an error, not silently "no filter"."""

    widget = forms.TextInput  # NullBooleanSelect would turn any unknown value into None before validation

    def to_python(self, value):
        text = str(value).strip().lower() if value is not None else ""
        if text in ("", "none", "unknown"):
            return None
        if text in ("true", "1"):
            return True
        if text in ("false", "0"):
            return False
        raise forms.ValidationError(_("Enter true or false."), code="invalid")


class StrictBooleanFilter(django_filters.BooleanFilter):
    field_class = StrictBooleanField


class OverdueFilter(StrictBooleanFilter):
    """`overdue=true|false` by the model's own rule (`objects.overdue(now=)`, cases/models/rules.py), so the list
    filter and the row's `overdue` field answer the same."""

    def filter(self, qs, value):
        if value is None:
            return qs
        now = timezone.now()
        return qs.overdue(now=now) if value else qs.not_overdue(now=now)


MAX_ID = 2**62


@extend_schema_field({"type": "integer", "minimum": 1, "maximum": MAX_ID})
class IdFilter(django_filters.NumberFilter):
    """A record id: a whole number from 1 to 2**62 (`1.5` or `1e3` is a 400, not a float)."""

    field_class = forms.IntegerField

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("min_value", 1)
        kwargs.setdefault("max_value", MAX_ID)
        super().__init__(*args, **kwargs)


class KeyFilter(IdFilter):
    """An id that narrows the list to one record's rows (a case's notes): the list is then a look-up by key,
    the same plan for every value, so its statement is prepared (backend/prepared.py: `by_key`)."""

    def filter(self, qs, value):
        qs = super().filter(qs, value)
        return qs if value in EMPTY_VALUES else by_key(qs)


class SafeFilterSet(django_filters.FilterSet):
    class Meta:
        form = SafeFilterForm

    def get_form_class(self):
        """The form class, built once per filter set: django-filter builds a new class with new fields for every
        request (3 % of a web worker's time under load). No filter here depends on the request; each form
        instance still gets its own copies of the fields."""
        form_class = type(self).__dict__.get("_form_class")
        if form_class is None:
            form_class = super().get_form_class()
            type(self)._form_class = form_class
        return form_class


# Value checks run as form-field validators, so a bad value is a 400 with the field named; raised
# inside a filter method (at query time) it would escape the form and answer 500.
def _validate_kana(value: str) -> None:
    if not is_kana(value):
        raise forms.ValidationError(_("Enter the reading in kana."), code="invalid_kana")


def _validate_postal_prefix(value: str) -> None:
    digits = value.replace("-", "")
    if not digits.isascii() or not digits.isdigit() or len(digits) > 7:
        raise forms.ValidationError(_("Enter a postal code like 214-0014."), code="invalid_postal_code")


class ResidentFilter(SafeFilterSet):
    name_kana = django_filters.CharFilter(method="filter_name_kana", max_length=60, validators=[_validate_kana],
                                          help_text="Part of the reading, in any kana form.")
    date_of_birth = django_filters.DateFilter()
    postal_code = django_filters.CharFilter(method="filter_postal_code", max_length=8,
                                            validators=[_validate_postal_prefix])
    town = django_filters.CharFilter(lookup_expr="startswith", max_length=40)
    district = django_filters.ModelChoiceFilter(queryset=District.objects.all())

    class Meta(SafeFilterSet.Meta):
        model = Resident
        fields = ["name_kana", "date_of_birth", "postal_code", "town", "district"]

    def filter_name_kana(self, queryset, name, value):
        return queryset.filter(name_kana_key__contains=kana_normalize(value))

    def filter_postal_code(self, queryset, name, value):
        return queryset.filter(postal_code__startswith=value.replace("-", ""))


class CaseFilter(SafeFilterSet):
    status = django_filters.ChoiceFilter(choices=CaseStatus.choices)
    risk_level = django_filters.ChoiceFilter(choices=RiskLevel.choices)
    overdue = StrictBooleanFilter(method="filter_overdue", help_text="Next visit due before today.")
    mine = StrictBooleanFilter(method="filter_mine", help_text="Cases where I am the lead worker.")
    resident = IdFilter(field_name="resident_id")

    class Meta(SafeFilterSet.Meta):
        model = Case
        fields = ["status", "risk_level", "overdue", "mine", "resident"]

    def filter_overdue(self, queryset, name, value):
        day = today()
        return queryset.visit_overdue(today=day) if value else queryset.visit_not_overdue(today=day)

    def filter_mine(self, queryset, name, value):
        user = self.request.user
        return queryset.filter(lead_worker=user) if value else queryset.exclude(lead_worker=user)
