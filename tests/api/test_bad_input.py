"""Bad input on every write route and list filter: a 400 problem that names the field, and no change.

Each route gets a table of bad requests (malformed JSON, the wrong JSON type,
wrong field types, unknown and read-only fields, over-long text, impossible
dates, kana that is not kana, markup and SQL in names, NUL bytes, lone
surrogates and control characters sent as raw bytes, bad enums, huge ids ...).
Every one must answer 400 `application/problem+json` with code
`validation_error` (a field-level `errors` list naming the fields) or
`malformed_request`, never a 5xx, and must change nothing: the row counts and
Mr Tanaka's resident and case rows are compared before and after each request.
Messages follow Accept-Language.
"""

from __future__ import annotations

import base64
import datetime
import itertools
import json
import re
import uuid
from dataclasses import dataclass
from urllib.parse import parse_qs, quote, urlparse

import pytest
from django.utils import timezone

from api.limits import MAX_BODY_BYTES
from api.models import ApiToken, IdempotencyRecord
from cases import services
from cases.models import Case, CaseTeamMember, Resident, Visit
from cases.models.visits import WarningSign
from cases.services.visits import BATCH_LIMIT
from tests.helpers import API, openapi_document

PROBLEM = "application/problem+json"
INVALID = "validation_error"
MALFORMED = "malformed_request"
NON_FIELD = None  # `field` of an error about the body as a whole
HUGE = 10**20
PERSONA = "care_worker"  # sees Mr Tanaka and may change him and his case
_keys = itertools.count()


# --- How a bad body is built from a valid one -----------------------------------------------------

@dataclass(frozen=True)
class Merge:
    """The valid body with these fields changed."""

    changes: dict

    def render(self, base: dict) -> bytes:
        return json.dumps({**base, **self.changes}).encode()


@dataclass(frozen=True)
class RawField:
    """The valid body with one field set to a raw JSON literal (escapes the encoder would never write)."""

    name: str
    literal: str

    def render(self, base: dict) -> bytes:
        body = json.dumps({**base, self.name: "@@RAW@@"})
        return body.replace('"@@RAW@@"', self.literal).encode()


@dataclass(frozen=True)
class Raw:
    """Exactly these bytes."""

    data: bytes

    def render(self, base: dict) -> bytes:
        return self.data


@dataclass(frozen=True)
class Body:
    """Some other JSON value instead of the object."""

    value: object

    def render(self, base: dict) -> bytes:
        return json.dumps(self.value).encode()


def _future_date() -> str:
    return (timezone.localdate() + datetime.timedelta(days=365)).isoformat()


# Shapes that every JSON body route refuses the same way.
NOT_AN_OBJECT = [
    ("malformed JSON", Raw(b'{"name": "x",'), MALFORMED, None),
    ("invalid UTF-8", Raw(b'{"name": "\xff\xfe"}'), MALFORMED, None),
    ("JSON array", Body([{"name": "x"}]), INVALID, {NON_FIELD}),
    ("JSON string", Body("x"), INVALID, {NON_FIELD}),
    ("JSON number", Body(42), INVALID, {NON_FIELD}),
]
SQL = "'; DROP TABLE cases_resident;--"
MARKUP = "<script>alert(1)</script>"

RESIDENT_FIELDS = [
    ("chome as text", Merge({"chome": "one"}), INVALID, {"chome"}),
    ("district as text", Merge({"district": "A"}), INVALID, {"district"}),
    ("date as a number", Merge({"date_of_birth": 19400401}), INVALID, {"date_of_birth"}),
    ("flag as text", Merge({"interpreter_needed": "maybe"}), INVALID, {"interpreter_needed"}),
    ("list as text", Merge({"special_care": "dementia"}), INVALID, {"special_care"}),
    ("name as an object", Merge({"name_kanji": {"family": "山田"}}), INVALID, {"name_kanji"}),
    ("unknown field", Merge({"is_admin": True}), INVALID, {"is_admin"}),
    ("read-only fields", Merge({"registered_by": 1, "version": 99}), INVALID, {"registered_by", "version"}),
    ("over-long name", Merge({"name_kanji": "山" * 61}), INVALID, {"name_kanji"}),
    ("over-long town", Merge({"town": "登" * 41}), INVALID, {"town"}),
    ("over-long building", Merge({"building": "棟" * 61}), INVALID, {"building"}),
    ("February 30th", Merge({"date_of_birth": "2026-02-30"}), INVALID, {"date_of_birth"}),
    ("born next year", Merge({"date_of_birth": _future_date()}), INVALID, {"date_of_birth"}),
    ("born in 1800", Merge({"date_of_birth": "1800-01-01"}), INVALID, {"date_of_birth"}),
    ("kanji as kana", Merge({"name_kana": "田中"}), INVALID, {"name_kana"}),
    ("latin as kana", Merge({"name_kana": "tanaka"}), INVALID, {"name_kana"}),
    ("markup in name", Merge({"name_kanji": MARKUP}), INVALID, {"name_kanji"}),
    ("SQL in name", Merge({"name_kanji": SQL}), INVALID, {"name_kanji"}),
    ("markup in kana", Merge({"name_kana": "<b>ヤマダ</b>"}), INVALID, {"name_kana"}),
    ("markup in address", Merge({"town": "<b>登戸</b>"}), INVALID, {"town"}),
    ("markup in building", Merge({"building": "<i>棟</i>"}), INVALID, {"building"}),
    ("a lone angle bracket in room", Merge({"room": "101>"}), INVALID, {"room"}),
    ("NUL byte", RawField("name_kanji", '"山田\\u0000花子"'), INVALID, {"name_kanji"}),
    ("lone surrogate", RawField("name_kanji", '"\\ud800"'), INVALID, {"name_kanji"}),
    ("control character", RawField("town", '"登戸\\u0007"'), INVALID, {"town"}),
    ("postal code too short", Merge({"postal_code": "214-001"}), INVALID, {"postal_code"}),
    ("postal code in letters", Merge({"postal_code": "ABC-DEFG"}), INVALID, {"postal_code"}),
    ("phone in letters", Merge({"phone": "call me"}), INVALID, {"phone"}),
    ("bad household type", Merge({"household_type": "castle"}), INVALID, {"household_type"}),
    ("bad special care", Merge({"special_care": ["wizard"]}), INVALID, {"special_care.0"}),
    ("bad language", Merge({"preferred_language": "klingon"}), INVALID, {"preferred_language"}),
    ("huge district id", Merge({"district": HUGE}), INVALID, {"district"}),
    ("huge chome", Merge({"chome": 10**30}), INVALID, {"chome"}),
    ("negative chome", Merge({"chome": -1}), INVALID, {"chome"}),
    ("huge organisation id", Merge({"organization": HUGE}), INVALID, {"organization"}),
]

CASE_FIELDS = [
    ("cadence as text", Merge({"visit_cadence_days": "monthly"}), INVALID, {"visit_cadence_days"}),
    ("cadence zero", Merge({"visit_cadence_days": 0}), INVALID, {"visit_cadence_days"}),
    ("cadence over a year", Merge({"visit_cadence_days": 366}), INVALID, {"visit_cadence_days"}),
    ("team as a number", Merge({"team_organizations": 5}), INVALID, {"team_organizations"}),
    ("huge team member id", Merge({"team_organizations": [HUGE]}), INVALID, {"team_organizations"}),
    ("huge lead worker id", Merge({"lead_worker": HUGE}), INVALID, {"lead_worker"}),
    ("unknown field", Merge({"priority": 1}), INVALID, {"priority"}),
    ("over-long concern", Merge({"concern": "見" * 201}), INVALID, {"concern"}),
    ("markup in concern", Merge({"concern": MARKUP}), INVALID, {"concern"}),
    ("bad risk level", Merge({"risk_level": "apocalyptic"}), INVALID, {"risk_level"}),
    ("February 30th due", Merge({"next_visit_due": "2026-02-30"}), INVALID, {"next_visit_due"}),
    ("NUL byte", RawField("concern", '"見守り\\u0000"'), INVALID, {"concern"}),
    ("lone surrogate", RawField("concern", '"\\udfff"'), INVALID, {"concern"}),
]

TOKEN_FIELDS = [
    ("blank name", Merge({"name": ""}), INVALID, {"name"}),
    ("over-long name", Merge({"name": "n" * 101}), INVALID, {"name"}),
    ("name as an object", Merge({"name": {"a": 1}}), INVALID, {"name"}),
    ("ttl as text", Merge({"ttl_days": "forever"}), INVALID, {"ttl_days"}),
    ("ttl zero", Merge({"ttl_days": 0}), INVALID, {"ttl_days"}),
    ("huge ttl", Merge({"ttl_days": HUGE}), INVALID, {"ttl_days"}),
    ("unknown field", Merge({"scope": "admin"}), INVALID, {"scope"}),
    ("NUL byte", RawField("name", '"phone\\u0000"'), INVALID, {"name"}),
    ("lone surrogate", RawField("name", '"\\ud800"'), INVALID, {"name"}),
]

RESIDENT_FILTERS = [
    ("NUL in name_kana", "name_kana=%00", {"name_kana"}),
    ("control character in name_kana", "name_kana=%07", {"name_kana"}),
    ("kanji as kana", f"name_kana={quote('田中')}", {"name_kana"}),
    ("latin as kana", "name_kana=tanaka", {"name_kana"}),
    ("invalid UTF-8 in name_kana", "name_kana=%ED%A0%80", {"name_kana"}),
    ("over-long name_kana", f"name_kana={quote('タ' * 61)}", {"name_kana"}),
    ("not a date", "date_of_birth=notadate", {"date_of_birth"}),
    ("February 30th", "date_of_birth=2026-02-30", {"date_of_birth"}),
    ("district not a number", "district=abc", {"district"}),
    ("huge district", "district=99999999999999999999", {"district"}),
    ("postal code in letters", "postal_code=abc", {"postal_code"}),
    ("over-long postal code", "postal_code=2140014999", {"postal_code"}),
    ("invalid cursor", "cursor=garbage", {"cursor"}),
    ("NUL in cursor", "cursor=%00", {"cursor"}),
    ("NUL in an unknown parameter", "foo=%00", {NON_FIELD}),
]
CASE_FILTERS = [
    ("bad status", "status=finished", {"status"}),
    ("bad risk level", "risk_level=apocalyptic", {"risk_level"}),
    ("overdue not a boolean", "overdue=maybe", {"overdue"}),
    ("mine not a boolean", "mine=perhaps", {"mine"}),
    ("resident not a number", "resident=abc", {"resident"}),
    ("huge resident", "resident=99999999999999999999", {"resident"}),
    ("negative resident", "resident=-1", {"resident"}),
    ("NUL in resident", "resident=%00", {"resident"}),
    ("invalid cursor", "cursor=garbage", {"cursor"}),
]

PAGE_SIZES = [
    ("page size not a number", "page_size=abc", {"page_size"}),
    ("page size zero", "page_size=0", {"page_size"}),
    ("page size negative", "page_size=-5", {"page_size"}),
    ("page size over the maximum", "page_size=201", {"page_size"}),
    ("page size in full-width digits", "page_size=%EF%BC%95", {"page_size"}),
    ("NUL in page size", "page_size=%00", {"page_size"}),
    ("control character in page size", "page_size=5%07", {"page_size"}),
]


# --- Running a table ------------------------------------------------------------------------------

def snapshot(world) -> dict:
    """Everything a bad request could have changed."""
    return {
        "counts": {model.__name__: model.objects.count()
                   for model in (Resident, Case, CaseTeamMember, ApiToken, IdempotencyRecord)},
        "tanaka": Resident.objects.filter(pk=world.tanaka.pk).values().get(),
        "tanaka_case": Case.objects.filter(pk=world.tanaka_case.pk).values().get(),
        "team": sorted(CaseTeamMember.objects.filter(case=world.tanaka_case).values_list("organization_id",
                                                                                           flat=True)),
    }


def describe(response) -> tuple:
    """(status, code, fields named in `errors`), after checking the problem's shape."""
    assert response.status_code < 500, response.content[:500]
    assert response["Content-Type"] == PROBLEM, (response.status_code, response["Content-Type"])
    body = response.json()
    assert body["status"] == response.status_code
    assert body["title"] and body["detail"] and body["request_id"]
    if "errors" not in body:
        return response.status_code, body["code"], None
    for error in body["errors"]:
        assert error["code"] and error["message"], error
    return response.status_code, body["code"], frozenset(error["field"] for error in body["errors"])


def run_body_table(client, world, method: str, path: str, base: dict, table, **headers) -> None:
    before = snapshot(world)
    expected, observed = {}, {}
    for label, spec, code, fields in table:
        if method == "POST":
            headers["HTTP_IDEMPOTENCY_KEY"] = f"bad-input-{next(_keys)}"
        response = client.generic(method, path, spec.render(base), content_type="application/json", **headers)
        expected[label] = (400, code, None if fields is None else frozenset(fields))
        observed[label] = describe(response)
        assert snapshot(world) == before, f"{label!r} changed data"
    assert observed == expected


def run_filter_table(client, path: str, table) -> None:
    expected, observed = {}, {}
    for label, query, fields in table:
        expected[label] = (400, INVALID, frozenset(fields))
        observed[label] = describe(client.get(f"{path}?{query}"))
    assert observed == expected


def resident_body(world) -> dict:
    return {
        "name_kanji": "山田 花子", "name_kana": "ヤマダ ハナコ", "date_of_birth": "1940-04-01",
        "postal_code": "214-0014", "town": "登戸", "chome": 1, "block_number": "2-15", "building": "",
        "district": world.district_a.id, "household_type": "lives_alone", "phone": "044-900-1234",
    }


# --- The routes -----------------------------------------------------------------------------------

def test_the_valid_bodies_are_valid(world, client_for):
    """The tables change one thing in a valid body: prove the bodies are valid to begin with."""
    client = client_for(PERSONA)
    assert client.post(f"{API}/residents", resident_body(world), format="json").status_code == 201
    assert client.post(f"{API}/cases", {"resident": world.tanaka.id, "concern": "見守り"},
                       format="json").status_code == 201
    assert client.post(f"{API}/me/tokens", {"name": "phone", "ttl_days": 30}, format="json").status_code == 201
    assert client.get(f"{API}/residents?name_kana=たなか&date_of_birth=1944-05-03&postal_code=214-0014"
                      f"&district={world.district_a.id}").json()["results"][0]["id"] == world.tanaka.id
    assert client.get(f"{API}/cases?status=open&risk_level=medium&overdue=false&mine=true"
                      f"&resident={world.tanaka.id}").json()["results"][0]["id"] == world.tanaka_case.id


def test_post_residents(world, client_for):
    run_body_table(client_for(PERSONA), world, "POST", f"{API}/residents", resident_body(world),
                   NOT_AN_OBJECT + [("JSON null", Body(None), INVALID, {NON_FIELD})] + RESIDENT_FIELDS)


def test_patch_resident(world, client_for):
    path = f"{API}/residents/{world.tanaka.id}"
    table = NOT_AN_OBJECT + [
        ("resident is not movable to nowhere", Merge({"district": None}), INVALID, {"district"}),
    ] + RESIDENT_FIELDS
    run_body_table(client_for(PERSONA), world, "PATCH", path, {}, table,
                   HTTP_IF_MATCH=f'"v{world.tanaka.version}"')


def test_post_cases(world, client_for):
    base = {"resident": world.tanaka.id, "concern": "見守り"}
    table = NOT_AN_OBJECT + [
        ("resident as text", Merge({"resident": "tanaka"}), INVALID, {"resident"}),
        ("huge resident id", Merge({"resident": HUGE}), INVALID, {"resident"}),
        ("negative resident id", Merge({"resident": -5}), INVALID, {"resident"}),
        ("status is not set on opening", Merge({"status": "closed"}), INVALID, {"status"}),
        ("huge organisation id", Merge({"organization": HUGE}), INVALID, {"organization"}),
    ] + CASE_FIELDS
    run_body_table(client_for(PERSONA), world, "POST", f"{API}/cases", base, table)


def test_patch_case(world, client_for):
    path = f"{API}/cases/{world.tanaka_case.id}"
    table = NOT_AN_OBJECT + [
        ("the resident is not changeable", Merge({"resident": world.suzuki.id}), INVALID, {"resident"}),
        ("the lead is read-only", Merge({"lead_organization": world.npo.id}), INVALID, {"lead_organization"}),
        ("bad status", Merge({"status": "finished"}), INVALID, {"status"}),
    ] + CASE_FIELDS
    run_body_table(client_for(PERSONA), world, "PATCH", path, {}, table,
                   HTTP_IF_MATCH=f'"v{world.tanaka_case.version}"')


def test_post_tokens(world, client_for):
    run_body_table(client_for(PERSONA), world, "POST", f"{API}/me/tokens", {"name": "phone"},
                   NOT_AN_OBJECT + TOKEN_FIELDS)


def test_resident_filters(world, client_for):
    run_filter_table(client_for(PERSONA), f"{API}/residents", RESIDENT_FILTERS)


def test_case_filters(world, client_for):
    run_filter_table(client_for(PERSONA), f"{API}/cases", CASE_FILTERS)


LISTS = ["residents", "cases", "notes", "visits", "referrals/inbox", "referrals/sent", "tasks/mine", "tasks/queue",
         "notifications", "organizations", "districts", "me/tokens"]


@pytest.mark.parametrize("path", LISTS)
def test_a_bad_page_size_is_refused_not_replaced_by_the_default(path, world, client_for):
    run_filter_table(client_for(PERSONA), f"{API}/{path}", PAGE_SIZES)
    assert client_for(PERSONA).get(f"{API}/{path}?page_size=200").status_code == 200


def test_task_and_notification_flags_are_true_or_false(world, client_for):
    client = client_for(PERSONA)
    run_filter_table(client, f"{API}/tasks/mine", [("overdue not a boolean", "overdue=maybe", {"overdue"})])
    run_filter_table(client, f"{API}/notifications", [("unread not a boolean", "unread=perhaps", {"unread"})])


def test_huge_and_malformed_ids_are_not_found(world, client_for):
    client = client_for(PERSONA)
    before = snapshot(world)
    for path in (f"{API}/residents/{HUGE}", f"{API}/cases/{HUGE}", f"{API}/organizations/{HUGE}",
                 f"{API}/districts/{HUGE}", f"{API}/residents/-1", f"{API}/cases/abc"):
        assert describe(client.get(path))[:2] == (404, "not_found"), path
    for path in (f"{API}/residents/{HUGE}", f"{API}/cases/{HUGE}"):
        response = client.patch(path, {"concern": "x"}, format="json", HTTP_IF_MATCH="*")
        assert describe(response)[:2] == (404, "not_found"), path
    assert describe(client.delete(f"{API}/me/tokens/{HUGE}"))[:2] == (404, "not_found")
    assert snapshot(world) == before


def test_sql_looking_text_in_free_text_is_stored_verbatim(world, client_for):
    """Free text (a case's concern) may contain anything but markup; queries are parameterised."""
    client = client_for(PERSONA)
    response = client.post(f"{API}/cases", {"resident": world.tanaka.id, "concern": SQL}, format="json")
    assert response.status_code == 201
    assert Case.objects.get(pk=response.json()["id"]).concern == SQL
    assert Resident.objects.filter(pk=world.tanaka.pk).exists()


def test_full_width_postal_code_is_stored_as_ascii_digits(world, client_for):
    """Typed on a Japanese keyboard, ２１４－００１４ must be found by a search for 214-0014."""
    client = client_for(PERSONA)
    response = client.post(f"{API}/residents", {**resident_body(world), "postal_code": "２１４－００１４"},
                           format="json")
    assert response.status_code == 201
    assert response.json()["postal_code"] == "2140014"
    found = client.get(f"{API}/residents?postal_code=214-0014").json()["results"]
    assert response.json()["id"] in {r["id"] for r in found}


# --- Language -------------------------------------------------------------------------------------

LANGUAGES = {
    # Accept-Language → (title, DRF's "required", Django's form "invalid choice", Content-Language)
    "en": ("The request has invalid fields.", "This field is required.",
           "Select a valid choice. That choice is not one of the available choices.", "en"),
    "ja": ("リクエストの項目に誤りがあります。", "この項目は必須です。",
           "正しく選択してください。選択したものは候補にありません。", "ja"),
    "en-US,en;q=0.9": ("The request has invalid fields.", "This field is required.",
                       "Select a valid choice. That choice is not one of the available choices.", "en"),
    "": ("リクエストの項目に誤りがあります。", "この項目は必須です。",
         "正しく選択してください。選択したものは候補にありません。", "ja"),  # the default is Japanese
}


@pytest.mark.parametrize("accept_language", LANGUAGES)
def test_messages_follow_accept_language(accept_language, world, client_for):
    title, required, invalid_choice, content_language = LANGUAGES[accept_language]
    headers = {"HTTP_ACCEPT_LANGUAGE": accept_language} if accept_language else {}
    client = client_for(PERSONA, **headers)

    body = client.post(f"{API}/residents", {}, format="json")
    assert body["Content-Language"] == content_language
    problem = body.json()
    assert (problem["title"], problem["detail"]) == (title, title)
    assert {e["message"] for e in problem["errors"] if e["code"] == "required"} == {required}

    query = client.get(f"{API}/residents?district=abc").json()
    assert query["title"] == title
    assert query["errors"] == [{"field": "district", "code": "invalid_choice", "message": invalid_choice}]

    malformed = client.generic("POST", f"{API}/cases", b"{", content_type="application/json").json()
    assert malformed["title"] == ("リクエスト本文が正しいJSONではありません。" if content_language == "ja"
                                  else "The request body is not valid JSON.")


def test_the_projects_own_field_messages_are_japanese_too(world, client_for):
    client = client_for(PERSONA, HTTP_ACCEPT_LANGUAGE="ja")
    problem = client.post(f"{API}/residents", {**resident_body(world), "name_kana": "田中"}, format="json").json()
    assert problem["errors"][0]["field"] == "name_kana"
    assert problem["errors"][0]["message"] == "読みがなはかなで入力してください。"


# --- Limits: answered, never a crash ----------------------------------------------------------------

def _largest_visit(world) -> dict:
    """A visit with every field at its longest: 4,000 characters outside the BMP (each written `\\ud83d\\ude00`)."""
    occurred = timezone.localtime() - datetime.timedelta(minutes=35, microseconds=123456)
    return {"case": world.tanaka_case.id, "client_id": str(uuid.uuid4()), "occurred_at": occurred.isoformat(),
            "channel": "via_neighbour", "outcome": "hospitalised", "warning_signs": list(WarningSign.values),
            "note": "😀" * 4000}


def test_the_largest_valid_visit_batch_fits_the_body_limit(world, client_for):
    client = client_for("commissioner_a")
    body = json.dumps({"items": [_largest_visit(world) for _ in range(BATCH_LIMIT)]}).encode()
    assert 0.9 * MAX_BODY_BYTES < len(body) <= MAX_BODY_BYTES, len(body)

    response = client.generic("POST", f"{API}/visits/batch", body, content_type="application/json")

    assert response.status_code == 200, response.content[:500]
    assert [item["status"] for item in response.json()["results"]] == [201] * BATCH_LIMIT
    assert response.json()["results"][0]["visit"]["note"] == "😀" * 4000


@pytest.mark.parametrize("accept_language, title", [
    ("en", "The request body is larger than 5,242,880 bytes (5 MiB); send fewer items per request (a visit batch "
           "holds at most 100)."),
    ("ja", "リクエスト本文が5,242,880バイト（5MiB）を超えています。1回に送る件数を減らしてください"
           "（訪問記録の一括送信は100件まで）。"),
])
def test_a_body_over_the_limit_is_413_naming_the_limit(accept_language, title, world, client_for):
    client = client_for("commissioner_a", HTTP_ACCEPT_LANGUAGE=accept_language)
    visits = Visit.objects.count()
    body = json.dumps({"items": [_largest_visit(world) for _ in range(BATCH_LIMIT + 10)]}).encode()
    assert len(body) > MAX_BODY_BYTES

    response = client.generic("POST", f"{API}/visits/batch", body, content_type="application/json",
                              HTTP_IDEMPOTENCY_KEY="too-large")

    assert describe(response) == (413, "request_too_large", None)
    assert response.json()["title"] == title
    assert response["Cache-Control"] == "no-store"
    assert Visit.objects.count() == visits


@pytest.mark.parametrize("label, body, code", [
    ("arrays nested 1,000 deep", b"[" * 1000 + b"]" * 1000, "body_too_deep"),
    ("objects nested 21 deep", b'{"a":' * 21 + b"1" + b"}" * 21, "body_too_deep"),
    ("unclosed arrays 100 deep", b"[" * 100, "body_too_deep"),
    ("unclosed arrays 100,000 deep", b"[" * 100_000, "body_too_many_values"),
    ("10,001 values", json.dumps({"items": [1] * 10_000}).encode(), "body_too_many_values"),
    ("commas in a flat list", b"[" + b"0," * 20_000 + b"0]", "body_too_many_values"),
])
def test_json_too_deep_or_too_large_is_400_naming_the_limit(label, body, code, world, client_for):
    client = client_for(PERSONA)
    before = snapshot(world)
    for path in (f"{API}/cases", f"{API}/visits/batch", f"{API}/residents/{world.tanaka.id}"):
        method = "PATCH" if path.endswith(str(world.tanaka.id)) else "POST"
        response = client.generic(method, path, body, content_type="application/json", HTTP_IF_MATCH="*")
        assert describe(response) == (400, code, None), (label, path)
    assert snapshot(world) == before


def test_brackets_inside_strings_do_not_count_as_depth(world, client_for):
    client = client_for(PERSONA)
    response = client.post(f"{API}/cases", {"resident": world.tanaka.id, "concern": "[[[[" * 30 + '\\"{'},
                           format="json")
    assert response.status_code == 201, response.content


FORGED_CURSORS = [
    ("a position that is not a number or a date", "cD1hYmM%3D"),  # p=abc
    ("a huge position", quote(base64.b64encode(b"p=99999999999999999999999999").decode())),
    ("year 1 as the position", quote(base64.b64encode(b"p=0001-01-01 00:00:00+14:00").decode())),
    ("a NUL in the position", quote(base64.b64encode(b"p=1%00").decode())),
    ("an offset that is not a number", quote(base64.b64encode(b"o=x&p=1").decode())),
    ("not base64", "%%%"),
    ("empty", ""),
]
PAGINATED = [*LISTS, "consents", "notes/history", "audit/access-log", "audit/provisions", "rights/requests",
             "legal-basis-grants"]


@pytest.mark.parametrize("path", PAGINATED)
def test_a_forged_cursor_is_400_naming_the_cursor_on_every_list(path, world, client_for):
    persona = "privacy_officer" if path.startswith(("audit", "rights")) else PERSONA
    client = client_for(persona)
    if path == "consents":
        path = f"residents/{world.tanaka.id}/consents"
    if path == "notes/history":
        note = services.note_write(actor=world.users[PERSONA], resident=world.tanaka, case=world.tanaka_case,
                                   category="health", body="血圧")
        path = f"notes/{note.id}/history"
    assert client.get(f"{API}/{path}").status_code == 200, path
    run_filter_table(client, f"{API}/{path}", [(label, f"cursor={cursor}", {"cursor"})
                                               for label, cursor in FORGED_CURSORS])


def test_the_cursors_of_a_list_s_links_match_the_pattern_its_schema_documents(world, client_for):
    """The schema says a cursor is padded base64 (a fuzzer then sends nothing else as a valid one): the links'
    cursors, next and previous, are."""
    parameters = openapi_document()["paths"]["/api/v1/notes"]["get"]["parameters"]
    pattern = next(parameter["schema"]["pattern"] for parameter in parameters if parameter["name"] == "cursor")
    for body in ("血圧", "食事"):
        services.note_write(actor=world.users[PERSONA], resident=world.tanaka, case=world.tanaka_case,
                            category="health", body=body)
    client = client_for(PERSONA)
    first = client.get(f"{API}/notes", {"page_size": 1}).json()
    assert first["next"], first
    second = client.get(first["next"]).json()
    cursors = [parse_qs(urlparse(link).query)["cursor"][0] for link in (first["next"], second["previous"])]
    assert all(re.fullmatch(pattern, cursor) for cursor in cursors), cursors
    assert not re.fullmatch(pattern, "0") and not re.fullmatch(pattern, "")


EMPTY_FILTERS = [
    ("residents", ["name_kana", "date_of_birth", "postal_code", "town", "district"]),
    ("cases", ["status", "risk_level", "overdue", "mine", "resident"]),
    ("notes", ["resident", "case", "category"]),
    ("visits", ["case"]),
]


@pytest.mark.parametrize("path, filters", EMPTY_FILTERS)
def test_an_empty_filter_is_refused_not_ignored(path, filters, client_for, world):
    client = client_for(PERSONA)
    run_filter_table(client, f"{API}/{path}", [(f"empty {name}", f"{name}=", {name}) for name in filters]
                     + [(f"blank {name}", f"{name}=%20", {name}) for name in filters])


def test_every_api_answer_says_no_store(world, client_for):
    client = client_for(PERSONA)
    for response in (client.get(f"{API}/residents/{world.tanaka.id}"), client.get(f"{API}/cases"),
                     client.get(f"{API}/residents?district=abc"), client.get(f"{API}/me"),
                     client.post(f"{API}/cases", {}, format="json"), client.get(f"{API}/nowhere")):
        assert response["Cache-Control"] == "no-store", response.status_code
