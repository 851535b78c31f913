"""Generated from the app registry and the serializers: no model about a resident escapes the access log."""

from __future__ import annotations

import importlib
import inspect
import pkgutil

from django.apps import apps
from django.contrib import admin
from rest_framework import serializers

import api.serializers
from api.serializers.base import AccessLoggedModelSerializer
from audit.subjects import NOT_SUBJECTS, SUBJECTS
from cases.models import Case, Resident

# Nested inside a serializer that logs the parent record (the case shows its resident's name).
NESTED_ONLY = {"CaseResidentSerializer", "ReferralEventSerializer", "TaskEscalationSerializer"}


def _points_at_a_resident(model) -> bool:
    for field in model._meta.get_fields():
        target = getattr(field, "related_model", None)
        if field.many_to_one or field.one_to_one or field.many_to_many:
            if target in (Resident, Case) and field.concrete:
                return True
    return False


def test_every_model_about_a_resident_is_registered():
    missing = []
    for model in apps.get_models():
        if model in SUBJECTS or model._meta.object_name in NOT_SUBJECTS or model._meta.app_label == "permissions":
            continue
        if model in (Resident, Case) or _points_at_a_resident(model):
            missing.append(model._meta.label)
    assert not missing, f"models about a resident missing from audit/subjects.py (or NOT_SUBJECTS): {missing}"


def test_every_response_serializer_of_personal_data_logs():
    offenders = []
    for module_info in pkgutil.iter_modules(api.serializers.__path__):
        module = importlib.import_module(f"api.serializers.{module_info.name}")
        for name, cls in inspect.getmembers(module, inspect.isclass):
            if not issubclass(cls, serializers.ModelSerializer) or cls.__module__ != module.__name__:
                continue
            model = getattr(getattr(cls, "Meta", None), "model", None)
            if model in SUBJECTS and not issubclass(cls, AccessLoggedModelSerializer) and name not in NESTED_ONLY:
                offenders.append(f"{module.__name__}.{name}")
    assert not offenders, f"serializers answering a resident's data without logging it: {offenders}"


def test_no_personal_data_in_the_admin_without_logging():
    from audit.admin import AccessLoggedAdmin

    offenders = [model._meta.label for model, model_admin in admin.site._registry.items()
                 if model in SUBJECTS and not isinstance(model_admin, AccessLoggedAdmin)]
    assert not offenders, f"admin pages showing a resident's data without the access log: {offenders}"
