"""Every log line carries the request id; no resident's name reaches a log line."""

from __future__ import annotations

import io
import logging
import re

import pytest
from django.test import Client
from rest_framework.test import APIClient

from backend.request_id import RedactQueryStringFilter, RequestIdLogFilter

NAMES = ("タナカ", "たなか", "ﾀﾅｶ", "田中", "%E3%82%BF")  # the last: タ percent-encoded


@pytest.fixture
def console_handler() -> logging.Handler:
    """The handler LOGGING configures on the root logger."""
    handlers = [h for h in logging.getLogger().handlers if h.get_name() == "console"]
    assert len(handlers) == 1, logging.getLogger().handlers
    return handlers[0]


@pytest.fixture
def log_output(console_handler):
    """What the console handler would print: same filters, same format, captured in memory."""
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(console_handler.formatter)
    for log_filter in console_handler.filters:
        handler.addFilter(log_filter)
    root = logging.getLogger()
    root.addHandler(handler)
    yield stream
    root.removeHandler(handler)


def lines(stream: io.StringIO) -> list[str]:
    return [line for line in stream.getvalue().splitlines() if line.strip()]


def assert_no_names(text: str) -> None:
    for name in NAMES:
        assert name not in text, text


def test_console_handler_has_the_request_id_and_redaction_filters(console_handler):
    kinds = {type(f) for f in console_handler.filters}
    assert {RequestIdLogFilter, RedactQueryStringFilter} <= kinds
    assert "request_id=%(request_id)s" in console_handler.formatter._fmt


def _handlers_reached_by(name: str) -> list[logging.Handler]:
    """The handlers a record logged on `name` reaches (pytest's own capture handlers left out)."""
    found, logger = [], logging.getLogger(name)
    while logger is not None:
        found += [
            h for h in logger.handlers
            if not type(h).__module__.startswith("_pytest") and not isinstance(h, logging.NullHandler)
        ]
        logger = logger.parent if logger.propagate else None
    return found


@pytest.mark.parametrize("name", ["django.server", "django.request", "django.security.csrf", "api.problems", "celery"])
def test_every_handler_that_prints_a_line_redacts_and_adds_the_request_id(name, console_handler):
    handlers = [h for h in _handlers_reached_by(name) if h is not console_handler]

    assert console_handler in _handlers_reached_by(name)
    for handler in handlers:
        kinds = {type(f) for f in handler.filters}
        assert {RequestIdLogFilter, RedactQueryStringFilter} <= kinds, (name, handler)


def test_response_carries_a_fresh_request_id():
    first = Client().get("/healthz")["X-Request-ID"]
    second = Client().get("/healthz")["X-Request-ID"]

    assert re.fullmatch(r"[0-9a-f]{32}", first)
    assert first != second


def test_a_well_formed_client_request_id_is_kept():
    response = Client().get("/healthz", HTTP_X_REQUEST_ID="phone-7f3a-retry.2")

    assert response["X-Request-ID"] == "phone-7f3a-retry.2"


@pytest.mark.parametrize(
    "incoming",
    ["short", "x" * 65, "has space in it", "new\nline-injected", "<script>alert(1)</script>", "タナカタナカタナカ",
     "well-formed-id\n", "well-formed-id\r\nSet-Cookie: x=1"],
)
def test_a_malformed_client_request_id_is_replaced(incoming):
    response = Client().get("/healthz", HTTP_X_REQUEST_ID=incoming)

    assert response["X-Request-ID"] != incoming
    assert re.fullmatch(r"[0-9a-f]{32}", response["X-Request-ID"])


@pytest.mark.django_db
@pytest.mark.parametrize("incoming", ["well-formed-id\n", "x" * 65, "<b>id</b>", "id with spaces"])
def test_the_access_log_keeps_only_a_well_formed_request_id(incoming, client_for, world):
    from audit.models import AccessLogEntry

    response = client_for("commissioner_a").get(f"/api/v1/residents/{world.tanaka.id}", HTTP_X_REQUEST_ID=incoming)

    assert response.status_code == 200
    stored = set(AccessLogEntry.objects.exclude(request_id="").values_list("request_id", flat=True))
    assert stored == {response["X-Request-ID"]}
    assert re.fullmatch(r"[0-9a-f]{32}", response["X-Request-ID"])


@pytest.mark.django_db
def test_log_lines_of_a_request_carry_its_request_id(client_for, world, log_output):
    response = client_for("commissioner_a").get(
        "/api/v1/residents/999999", HTTP_X_REQUEST_ID="req-for-log-test-1"
    )

    assert response.status_code == 404
    logged = lines(log_output)
    assert logged, "a 404 is logged by django.request"
    assert all("request_id=req-for-log-test-1" in line for line in logged), logged


@pytest.mark.django_db
def test_django_level_errors_carry_the_request_id(log_output):
    response = Client().get("/api/no-such-thing", HTTP_X_REQUEST_ID="req-for-log-test-2")

    assert response.status_code == 404
    logged = lines(log_output)
    assert logged
    assert all("request_id=req-for-log-test-2" in line for line in logged), logged


@pytest.mark.django_db
def test_server_error_lines_carry_the_request_id(client_for, world, log_output, monkeypatch):
    def broken(**kwargs):
        raise RuntimeError("boom")

    monkeypatch.setattr("api.views.residents.residents_visible_to", broken)

    response = client_for("commissioner_a").get("/api/v1/residents", HTTP_X_REQUEST_ID="req-for-log-test-3")

    assert response.status_code == 500
    first_lines = [line for line in lines(log_output) if " ERROR " in line or " WARNING " in line]
    assert first_lines
    assert all("request_id=req-for-log-test-3" in line for line in first_lines), first_lines


def test_lines_outside_a_request_have_a_placeholder(log_output):
    logging.getLogger("mimamori.test").warning("outside any request")

    [line] = [line for line in lines(log_output) if "outside any request" in line]
    assert "request_id=- " in line


def test_a_query_string_is_redacted_from_a_server_style_line(log_output):
    logging.getLogger("django.server").warning(
        '"%s" %s %s', "GET /api/v1/residents?name_kana=タナカ&date_of_birth=1944-05-03 HTTP/1.1", 200, 1234
    )
    logging.getLogger("django.request").warning(
        "Not Found: %s", "/api/v1/residents?name_kana=%E3%82%BF%E3%83%8A%E3%82%AB"
    )

    output = log_output.getvalue()
    assert_no_names(output)
    assert "1944-05-03" not in output
    assert "/api/v1/residents?[redacted]" in output
    assert "HTTP/1.1" in output


def test_a_full_url_with_a_query_string_is_redacted(log_output):
    logging.getLogger("mimamori.test").warning("calling http://testserver/api/v1/residents?name_kana=たなか now")

    output = log_output.getvalue()
    assert_no_names(output)
    assert "now" in output


@pytest.mark.django_db
def test_kana_search_writes_no_name_to_the_logs(client_for, world, log_output, caplog):
    caplog.set_level(logging.DEBUG)
    client = client_for("commissioner_a")

    found = client.get("/api/v1/residents", {"name_kana": "タナカ"})
    invalid = client.get("/api/v1/residents", {"name_kana": "田中"})

    assert found.status_code == 200
    assert [r["id"] for r in found.json()["results"]] == [world.tanaka.id]
    assert invalid.status_code == 400
    assert lines(log_output), "the 400 is logged"
    assert_no_names(log_output.getvalue())


@pytest.mark.django_db
def test_error_paths_write_no_name_to_the_logs(client_for, world, log_output, monkeypatch):
    client = client_for("commissioner_a")
    not_found = APIClient().get("/api/no-such-thing", {"name_kana": "タナカ"})

    def broken(**kwargs):
        raise RuntimeError("boom")

    monkeypatch.setattr("api.views.residents.residents_visible_to", broken)
    server_error = client.get("/api/v1/residents", {"name_kana": "タナカ"})

    assert not_found.status_code == 404
    assert server_error.status_code == 500
    output = log_output.getvalue()
    assert "Not Found: /api/no-such-thing" in output
    assert "/api/v1/residents" in output
    assert_no_names(output)
