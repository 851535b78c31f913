"""Every error is application/problem+json (RFC 9457) with a stable code, in the caller's language."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest
from django.utils import translation
from rest_framework.test import APIClient

from api.problems import CATALOGUE

pytestmark = pytest.mark.django_db

PROBLEM_FIELDS = {"type", "title", "status", "detail", "code", "instance", "request_id"}


def assert_problem(response, status: int, code: str) -> dict:
    assert response.status_code == status, response.content
    assert response["Content-Type"] == "application/problem+json"
    body = response.json()
    assert PROBLEM_FIELDS <= set(body), body
    assert body["status"] == status
    assert body["code"] == code
    assert body["type"] == f"urn:mimamori:problem:{code}"
    assert body["request_id"] == response["X-Request-ID"]
    return body


def english(code: str) -> str:
    with translation.override("en"):
        return CATALOGUE[code].message


def japanese(code: str) -> str:
    with translation.override("ja"):
        return CATALOGUE[code].message


def test_unknown_url_under_api_is_a_problem(world):
    response = APIClient().get("/api/no-such-thing")

    body = assert_problem(response, 404, "not_found")
    assert body["instance"] == "/api/no-such-thing"


@pytest.mark.parametrize("debug", [False, True])
@pytest.mark.parametrize(("method", "path"), [
    ("post", "/api/v1/referrals/0/cancel"),  # an id no route's pattern takes
    ("post", "/api/v1/referrals/-21313/start"),
    ("post", "/api/v1/integrations/webhooks/812383442625673731308506841088/pause"),
    ("get", "/api/v1/cases/null"),
    ("delete", "/api/v1/no-such-collection/1"),
    ("get", "/api/hsds/no-such-thing"),
])
def test_an_api_path_no_route_takes_is_the_missing_record_problem(world, settings, debug, method, path):
    """With DEBUG on too, as the demo (`make run`) serves: Django would answer with its HTML page, and a POST
    without a CSRF token would meet its HTML CSRF page first."""
    settings.DEBUG = debug
    response = getattr(APIClient(enforce_csrf_checks=True), method)(path, {}, format="json")

    body = assert_problem(response, 404, "not_found")
    assert body["instance"] == path


def test_unknown_url_problem_follows_accept_language(world):
    assert APIClient().get("/api/nope", HTTP_ACCEPT_LANGUAGE="en").json()["title"] == english("not_found")
    assert APIClient().get("/api/nope", HTTP_ACCEPT_LANGUAGE="ja").json()["title"] == japanese("not_found")
    assert APIClient().get("/api/nope").json()["title"] == japanese("not_found")


def test_drf_not_found_follows_accept_language(client_for, world):
    client = client_for("commissioner_a")

    en = client.get("/api/v1/residents/999999", HTTP_ACCEPT_LANGUAGE="en")
    ja = client.get("/api/v1/residents/999999", HTTP_ACCEPT_LANGUAGE="ja")
    default = client.get("/api/v1/residents/999999")

    assert assert_problem(en, 404, "not_found")["title"] == english("not_found")
    assert assert_problem(ja, 404, "not_found")["detail"] == japanese("not_found")
    assert assert_problem(default, 404, "not_found")["title"] == japanese("not_found")


def test_invisible_record_looks_exactly_like_a_missing_one(client_for, world):
    client = client_for("commissioner_a")

    invisible = client.get(f"/api/v1/residents/{world.suzuki.id}")
    missing = client.get("/api/v1/residents/999999")

    assert assert_problem(invisible, 404, "not_found")["title"] == missing.json()["title"]


def test_401_is_a_problem(world):
    body = assert_problem(APIClient().get("/api/v1/residents", HTTP_ACCEPT_LANGUAGE="en"), 401, "not_authenticated")
    assert body["title"] == english("not_authenticated")


def test_validation_errors_list_each_field(client_for, world):
    response = client_for("commissioner_a").post(
        "/api/v1/residents",
        {"name_kanji": "山田 太郎", "name_kana": "山田", "date_of_birth": "1940-04-01", "postal_code": "abc",
         "town": "登戸", "block_number": "2-15", "district": world.district_a.id, "household_type": "lives_alone",
         "favourite_colour": "blue"},
        format="json",
        HTTP_ACCEPT_LANGUAGE="en",
    )

    body = assert_problem(response, 400, "validation_error")
    assert body["title"] == english("validation_error")
    fields = {error["field"] for error in body["errors"]}
    assert "favourite_colour" in fields
    assert all(set(error) == {"field", "code", "message"} and error["message"] for error in body["errors"])


def test_validation_errors_name_each_bad_field(client_for, world):
    response = client_for("commissioner_a").post(
        "/api/v1/residents",
        {"name_kanji": "山田 太郎", "name_kana": "山田", "date_of_birth": "1940-04-01", "postal_code": "abc",
         "town": "登戸", "block_number": "2-15", "district": world.district_a.id, "household_type": "lives_alone"},
        format="json",
    )

    body = assert_problem(response, 400, "validation_error")
    by_field = {error["field"]: error["code"] for error in body["errors"]}
    assert by_field == {"name_kana": "invalid_kana", "postal_code": "invalid_postal_code"}


def test_missing_fields_are_listed(client_for, world):
    response = client_for("commissioner_a").post("/api/v1/residents", {}, format="json")

    body = assert_problem(response, 400, "validation_error")
    missing = {error["field"] for error in body["errors"] if error["code"] == "required"}
    assert {"name_kanji", "name_kana", "date_of_birth", "district"} <= missing


def test_malformed_json_is_a_problem(client_for, world):
    response = client_for("commissioner_a").post(
        "/api/v1/residents", data='{"name_kanji": ', content_type="application/json"
    )

    assert_problem(response, 400, "malformed_request")


def test_domain_error_is_a_problem_with_its_field(client_for, world):
    response = client_for("commissioner_a").post(
        "/api/v1/residents",
        {"name_kanji": "山田 太郎", "name_kana": "ヤマダ タロウ", "date_of_birth": "1940-04-01",
         "postal_code": "2140014", "town": "登戸", "block_number": "2-15", "district": world.district_b.id,
         "household_type": "lives_alone"},
        format="json",
        HTTP_ACCEPT_LANGUAGE="en",
    )

    body = assert_problem(response, 403, "district_not_assigned")
    assert body["title"] == english("district_not_assigned")
    assert [e["field"] for e in body["errors"]] == ["district"]


def test_delete_on_a_resident_is_405(client_for, world):
    response = client_for("commissioner_a").delete(f"/api/v1/residents/{world.tanaka.id}")

    assert_problem(response, 405, "method_not_allowed")
    assert "DELETE" not in response["Allow"]
    assert "PATCH" in response["Allow"]


def test_form_encoded_post_is_415(client_for, world):
    response = client_for("commissioner_a").post(
        "/api/v1/residents", data="name_kanji=%E5%B1%B1%E7%94%B0", content_type="application/x-www-form-urlencoded"
    )

    assert_problem(response, 415, "unsupported_media_type")


def test_unacceptable_media_type_is_406(client_for, world):
    response = client_for("commissioner_a").get("/api/v1/residents", HTTP_ACCEPT="application/xml")

    assert response.status_code == 406
    assert response.json()["code"] == "not_acceptable"


def test_server_error_in_the_api_is_a_problem_without_a_traceback(client_for, world, monkeypatch):
    def broken(**kwargs):
        raise RuntimeError("database on fire: secret internals")

    monkeypatch.setattr("api.views.residents.residents_visible_to", broken)
    client = client_for("commissioner_a")
    client.raise_request_exception = False

    response = client.get("/api/v1/residents", HTTP_ACCEPT_LANGUAGE="en")

    body = assert_problem(response, 500, "server_error")
    assert body["title"] == english("server_error")
    assert b"Traceback" not in response.content
    assert b"secret internals" not in response.content
    assert b"RuntimeError" not in response.content


def test_server_error_outside_drf_is_a_problem_without_a_traceback(world, monkeypatch):
    def broken():
        raise RuntimeError("secret internals")

    monkeypatch.setattr("api.views.health._database_ok", broken)
    client = APIClient(raise_request_exception=False)

    response = client.get("/readyz")

    body = assert_problem(response, 500, "server_error")
    assert body["title"] == japanese("server_error")
    assert b"Traceback" not in response.content
    assert b"secret internals" not in response.content


def test_every_catalogue_entry_has_both_languages():
    for code, entry in CATALOGUE.items():
        en, ja = english(code), japanese(code)
        assert 400 <= entry.status < 600, code
        assert en and ja and en != ja, code
        assert en.isascii(), code
        assert not ja.isascii(), code
        assert "%(" not in en + ja, code  # every placeholder is filled


ERROR_CLASSES = {"DomainError", "NotFound", "NotPermitted", "Conflict", "PreconditionFailed", "RuleViolation",
                 "ProblemAPIException"}
GENERIC = {"rule_violation", "domain_error", "validation_error"}


def _raised_codes():
    """(where, class, code) of every domain or API error our code constructs; code None for the class default."""
    root = Path(__file__).resolve().parent.parent.parent
    for package in ("api", "cases", "permissions", "audit", "notifications", "integrations", "plan_statistics",
                    "service_directory", "backend"):
        for path in (root / package).rglob("*.py"):
            for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
                if not isinstance(node, ast.Call):
                    continue
                name = getattr(node.func, "id", None) or getattr(node.func, "attr", None)
                if name not in ERROR_CLASSES:
                    continue
                argument = node.args[0] if node.args else next(
                    (k.value for k in node.keywords if k.arg in ("code", "detail")), None)
                code = argument.value if isinstance(argument, ast.Constant) else None
                yield f"{path.relative_to(root)}:{node.lineno}", name, code, argument


def test_every_code_raised_is_in_the_catalogue_and_names_its_rule():
    raised = list(_raised_codes())
    assert len(raised) > 150
    assert [(where, code) for where, _, code, _ in raised if code is not None and code not in CATALOGUE] == []
    assert [(where, code) for where, _, code, _ in raised if code in GENERIC] == []
    # A rule broken without a code of its own would answer the generic rule_violation.
    assert [where for where, name, code, argument in raised if name == "RuleViolation" and argument is None] == []
