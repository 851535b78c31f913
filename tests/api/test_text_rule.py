"""One rule for unsafe text (api/text.py), answered by every writable text field of every request body and by
every query parameter."""

from __future__ import annotations

import importlib
import pkgutil

import pytest
from rest_framework import serializers

import api.serializers
import api.views
from api.serializers.base import StrictSerializer
from api.text import text_unsafe

for _module in [*pkgutil.iter_modules(api.serializers.__path__, "api.serializers."),
                *pkgutil.iter_modules(api.views.__path__, "api.views.")]:
    importlib.import_module(_module.name)


def _subclasses(cls):
    for sub in cls.__subclasses__():
        yield sub
        yield from _subclasses(sub)


def _text_fields():
    found = []
    for cls in sorted(set(_subclasses(StrictSerializer)), key=lambda c: f"{c.__module__}.{c.__qualname__}"):
        if issubclass(cls, serializers.ModelSerializer) and not hasattr(cls, "Meta"):
            continue  # a base class, no model yet
        for name, field in cls().fields.items():
            if isinstance(field, serializers.CharField) and not field.read_only:
                found.append(pytest.param(cls, name, id=f"{cls.__qualname__}.{name}"))
    return found


TEXT_FIELDS = _text_fields()


def test_the_walk_finds_the_text_fields():
    names = {param.id for param in TEXT_FIELDS}
    assert {"CaseSerializer.concern", "ResidentSerializer.building", "VisitCreateSerializer.note"} <= names
    assert len(names) >= 20


@pytest.mark.parametrize(("serializer", "name"), TEXT_FIELDS)
@pytest.mark.parametrize("text", ["<b>", "a > b", "\x00", "\x07", "\ud800"])
def test_every_text_field_refuses_unsafe_text(serializer, name, text):
    with pytest.raises(serializers.ValidationError) as refused:
        serializer().to_internal_value({name: f"見守り{text}"})
    assert [error.code for error in refused.value.detail[name]] == ["invalid_characters"]


@pytest.mark.parametrize("text", ["見守り\n二行目\tタブ\r", "'; DROP TABLE cases_case;--", "{};\\`", "a & b"])
def test_plain_text_is_safe(text):
    assert not text_unsafe(text)


@pytest.mark.django_db
@pytest.mark.parametrize("text", ["<b>", "%3E", "%07"])
def test_a_query_parameter_follows_the_same_rule(world, client_for, text):
    response = client_for("care_worker").get(f"/api/v1/residents?name_kana={text}")
    assert response.status_code == 400
    assert "invalid_characters" in {error["code"] for error in response.json()["errors"]}
