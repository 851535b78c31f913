"""The API's JSON is written by orjson (api/renderers.py) and must be the bytes DRF's JSONRenderer writes.

Values of every kind the API hands its renderer are compared with DRF's rendering byte for byte; so are whole
answers of the demo ward's list and detail routes and an error; the two documented spellings that differ are
held to what the module says.
"""

from __future__ import annotations

import dataclasses
import datetime
import decimal
import io
import json
import math
import uuid
import zoneinfo

import pytest
from django.core.management import call_command
from django.db import models
from django.utils.translation import gettext_lazy
from rest_framework.renderers import JSONRenderer
from rest_framework.test import APIClient
from rest_framework.utils.serializer_helpers import ReturnDict, ReturnList

from api.renderers import ApiJSONRenderer
from cases.models import User
from cases.selectors import cases_visible_to
from demo.seed import DEMO_ACCOUNTS

TOKYO = zoneinfo.ZoneInfo("Asia/Tokyo")


class Colour(models.TextChoices):
    RED = "red", "赤"


class Level(models.IntegerChoices):
    HIGH = 3, "高"


@dataclasses.dataclass
class Point:
    x: int


VALUES = [
    {"id": 1, "name": "山田 花子", "kana": "ヤマダ ハナコ", "nested": {"list": [1, 2.5, None, True, False, "x"]}},
    ["quote \" backslash \\ slash / tab \t newline \n return \r bell \x07 nul \x00 del \x7f"],
    {"separators": "line\u2028paragraph\u2029end", "only": "\u2028"},
    {"emoji": "👵🏻 見守り", "astral": "𠮷野家"},
    datetime.datetime(2026, 12, 6, 7, 30, 1, 123456, tzinfo=datetime.UTC),
    datetime.datetime(2026, 12, 6, 7, 30, tzinfo=datetime.UTC),
    datetime.datetime(2026, 12, 6, 16, 30, 0, 500, tzinfo=TOKYO),
    datetime.datetime(2026, 12, 6, 16, 30),
    datetime.date(2026, 12, 6),
    datetime.time(9, 15, 30),
    datetime.timedelta(hours=36, seconds=1),
    decimal.Decimal("12.50"),
    uuid.UUID("12345678-1234-5678-1234-567812345678"),
    gettext_lazy("Not found."),
    {"choice": Colour.RED, "level": Level.HIGH},
    b"bytes",
    (1, "tuple"),
    {"set": {3}, "frozen": frozenset({"a"})},
    ReturnDict({"a": ReturnList([1, 2], serializer=None)}, serializer=None),
    {"big": 2**63 + 5, "negative": -(2**63), "huge": 2**70},
    {1: "an integer key", None: "a null key"},
    [0.1, 100.0, 35.6812, -0.0, 1 / 3, 1e16, 1e22, 1.7976931348623157e308],
    [],
    {},
    "",
    0,
]


@pytest.mark.parametrize("value", VALUES, ids=lambda value: type(value).__name__)
def test_each_kind_of_value_is_written_as_drf_writes_it(value):
    assert ApiJSONRenderer().render(value) == JSONRenderer().render(value)


def test_deep_nesting_is_written_as_drf_writes_it():
    deep: list = []
    for _ in range(300):  # beyond orjson's depth: DRF writes it
        deep = [deep]
    assert ApiJSONRenderer().render(deep) == JSONRenderer().render(deep)


@pytest.mark.parametrize("media_type", ["application/json; indent=2", "application/json; indent=8"])
def test_an_answer_asked_for_indented_is_indented_as_drf_indents_it(media_type):
    value = {"a": [1, {"b": "二"}], "c": datetime.date(2026, 1, 2)}
    written = ApiJSONRenderer().render(value, media_type)
    assert written == JSONRenderer().render(value, media_type)
    assert b"\n" in written
    assert ApiJSONRenderer().render(value, None, {"indent": 4}) == JSONRenderer().render(value, None, {"indent": 4})


def test_nothing_is_written_for_no_data():
    assert ApiJSONRenderer().render(None) == b""


def test_what_json_cannot_write_is_refused_as_drf_refuses_it():
    for value in (Point(1), object(), {"object": object()}):
        with pytest.raises(TypeError):
            JSONRenderer().render(value)
        with pytest.raises(TypeError):
            ApiJSONRenderer().render(value)


def test_the_two_documented_spellings_are_the_same_values():
    small = [1e-05, 1.5e-07, -2.5e-10]
    written = ApiJSONRenderer().render(small)
    assert written != JSONRenderer().render(small)  # decimal notation, where the standard library writes 1e-05
    assert json.loads(written) == small
    assert ApiJSONRenderer().render([math.nan, math.inf]) == b"[null,null]"
    with pytest.raises(ValueError):
        JSONRenderer().render([math.nan])


def _drf_bytes(response) -> bytes:
    return JSONRenderer().render(response.data)


@pytest.mark.django_db
def test_the_demo_wards_answers_are_the_bytes_drf_writes():
    call_command("seed_demo", stdout=io.StringIO())
    compared = 0
    for account in DEMO_ACCOUNTS:
        client = APIClient()
        client.credentials(HTTP_AUTHORIZATION=f"Bearer {account.token}")
        user = User.objects.get(username=account.username)
        paths = ["/api/v1/me", "/api/v1/cases", "/api/v1/notes", "/api/v1/visits", "/api/v1/referrals/inbox",
                 "/api/v1/referrals/sent", "/api/v1/tasks/queue", "/api/v1/tasks/mine", "/api/v1/notifications",
                 "/api/v1/residents", "/api/v1/cases/999999999"]
        paths += [f"/api/v1/cases/{case_id}" for case_id in
                  cases_visible_to(user=user).values_list("id", flat=True)[:3]]
        for path in paths:
            response = client.get(path, HTTP_ACCEPT_LANGUAGE="ja")
            if not hasattr(response, "data") or response.data is None:
                continue
            assert response.content == _drf_bytes(response), (account.username, path)
            compared += 1
    assert compared > 60
