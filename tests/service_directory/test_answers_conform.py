"""Answers holding what a JSON Schema `format` is strict about conform to the committed schema, checked as an
outside fuzzer checks them (schemathesis' response_schema_conformance, formats validated): a time of day
("10:00", no offset, where `format: time` would ask for one) and an e-mail address or URL left blank ("").
"""

from __future__ import annotations

from pathlib import Path

import pytest
import schemathesis
import yaml
from django.core.signals import request_finished, request_started
from django.core.wsgi import get_wsgi_application
from django.db import close_old_connections
from schemathesis.specs.openapi.checks import response_schema_conformance

from api.tokens import token_issue

pytestmark = pytest.mark.django_db

COMMITTED = Path(__file__).resolve().parents[2] / "docs" / "openapi.yaml"
SCHEMA = schemathesis.openapi.from_dict(yaml.safe_load(COMMITTED.read_text()))
SCHEMA.app = get_wsgi_application()


@pytest.fixture
def in_process_wsgi():
    """Keep the test's connection open across in-process WSGI requests (as Django's test client does)."""
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    yield
    request_started.connect(close_old_connections)
    request_finished.connect(close_old_connections)


def _answer_conforms(path: str, method: str, *, token: str | None = None, **request) -> dict:
    case = SCHEMA[path][method].Case(**request)
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    response = case.call(headers=headers)
    assert 200 <= response.status_code < 300, response.text[:300]
    case.validate_response(response, checks=[response_schema_conformance])
    return response.json()


def test_a_listing_with_no_e_mail_or_url_and_its_opening_hours(directory, world, in_process_wsgi):
    _, token = token_issue(user=world.users["npo_worker"], name="test")
    page = _answer_conforms("/api/v1/directory/listings", "GET", token=token)
    salon = next(listing for listing in page["results"] if listing["id"] == directory.salon.id)
    assert (salon["email"], salon["url"]) == ("", "")
    assert (salon["schedules"][0]["opens_at"], salon["schedules"][0]["closes_at"]) == ("10:00:00", "12:00:00")
    _answer_conforms("/api/v1/directory/listings/{id}", "GET", token=token, path_parameters={"id": directory.salon.id})


def test_the_public_directory_s_opening_hours(directory, in_process_wsgi):
    organizations = _answer_conforms("/api/hsds/organizations", "GET")
    assert organizations["contents"]
    service = _answer_conforms("/api/hsds/services/{service_id}", "GET",
                               path_parameters={"service_id": str(directory.salon.uuid)})
    assert (service["schedules"][0]["opens_at"], service["schedules"][0]["closes_at"]) == ("10:00", "12:00")
