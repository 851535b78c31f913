"""Query filters. Values are shape-checked here; visibility is already applied by the selector."""

from __future__ import annotations

import re

import django_filters
from django import forms
from django.utils.translation import gettext_lazy as _

from cases.kana import is_kana, kana_normalize
from cases.models import Case, District, Resident
from cases.models.choices import CaseStatus, RiskLevel

_UNSAFE = re.compile(r"[\x00-\x1f\x7f\ud800-\udfff]")


class SafeFilterForm(forms.Form):
    def clean(self):
        cleaned = super().clean()
        for name, value in self.data.items():
            if isinstance(value, str) and _UNSAFE.search(value):
                self.add_error(None, forms.ValidationError(_("Contains characters that are not allowed."),
                                                           code="invalid_characters"))
                break
        return cleaned


class SafeFilterSet(django_filters.FilterSet):
    class Meta:
        form = SafeFilterForm


class ResidentFilter(SafeFilterSet):
    name_kana = django_filters.CharFilter(method="filter_name_kana", max_length=60,
                                          help_text="Part of the reading, in any kana form.")
    date_of_birth = django_filters.DateFilter()
    postal_code = django_filters.CharFilter(method="filter_postal_code", max_length=8)
    town = django_filters.CharFilter(lookup_expr="startswith", max_length=40)
    district = django_filters.ModelChoiceFilter(queryset=District.objects.all())

    class Meta(SafeFilterSet.Meta):
        model = Resident
        fields = ["name_kana", "date_of_birth", "postal_code", "town", "district"]

    def filter_name_kana(self, queryset, name, value):
        if not is_kana(value):
            raise forms.ValidationError(_("Enter the reading in kana."), code="invalid_kana")
        return queryset.filter(name_kana_key__contains=kana_normalize(value))

    def filter_postal_code(self, queryset, name, value):
        digits = value.replace("-", "")
        if not digits.isascii() or not digits.isdigit() or len(digits) > 7:
            raise forms.ValidationError(_("Enter a postal code like 214-0014."), code="invalid_postal_code")
        return queryset.filter(postal_code__startswith=digits)


class CaseFilter(SafeFilterSet):
    status = django_filters.ChoiceFilter(choices=CaseStatus.choices)
    risk_level = django_filters.ChoiceFilter(choices=RiskLevel.choices)
    overdue = django_filters.BooleanFilter(method="filter_overdue", help_text="Next visit due before today.")
    mine = django_filters.BooleanFilter(method="filter_mine", help_text="Cases where I am the lead worker.")
    resident = django_filters.NumberFilter(field_name="resident_id", min_value=1, max_value=2**62)

    class Meta(SafeFilterSet.Meta):
        model = Case
        fields = ["status", "risk_level", "overdue", "mine", "resident"]

    def filter_overdue(self, queryset, name, value):
        from cases.selectors import today

        return queryset.filter(next_visit_due__lt=today()) if value else queryset.exclude(next_visit_due__lt=today())

    def filter_mine(self, queryset, name, value):
        user = self.request.user
        return queryset.filter(lead_worker=user) if value else queryset.exclude(lead_worker=user)
