"""Answers holding what a JSON Schema `format` is strict about conform to the schema, formats validated as an
outside fuzzer validates them (schemathesis checks answers with jsonschema_rs, formats on): a time of day
("10:00", no offset, where `format: time` would ask for one) and an e-mail address or URL left blank ("").
"""

from __future__ import annotations

import jsonschema_rs
import pytest
from rest_framework.test import APIClient

from api.tokens import token_issue
from tests.helpers import openapi_document

pytestmark = pytest.mark.django_db


def _as_json_schema(node):
    """OpenAPI 3.0's `nullable: true` as JSON Schema says it (the one keyword of it these answers need)."""
    if isinstance(node, list):
        return [_as_json_schema(item) for item in node]
    if not isinstance(node, dict):
        return node
    converted = {key: _as_json_schema(value) for key, value in node.items() if key != "nullable"}
    return {"anyOf": [converted, {"type": "null"}]} if node.get("nullable") else converted


def _conforms(path: str, answer, *, status: str = "200") -> None:
    document = openapi_document()
    schema = document["paths"][path]["get"]["responses"][status]["content"]["application/json"]["schema"]
    validator = jsonschema_rs.Draft4Validator(
        {**_as_json_schema(schema), "components": _as_json_schema(document["components"])}, validate_formats=True)
    errors = [f"{error.message} at {list(error.instance_path)}" for error in validator.iter_errors(answer)]
    assert not errors, errors


def _get(path: str, client: APIClient | None = None):
    response = (client or APIClient()).get(path)
    assert response.status_code == 200, response.content[:300]
    return response.json()


def test_a_listing_with_no_e_mail_or_url_and_its_opening_hours(directory, world):
    _, token = token_issue(user=world.users["npo_worker"], name="test")
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {token}")
    page = _get("/api/v1/directory/listings", client)
    _conforms("/api/v1/directory/listings", page)
    salon = next(listing for listing in page["results"] if listing["id"] == directory.salon.id)
    assert (salon["email"], salon["url"]) == ("", "")
    assert (salon["schedules"][0]["opens_at"], salon["schedules"][0]["closes_at"]) == ("10:00:00", "12:00:00")
    _conforms("/api/v1/directory/listings/{id}", _get(f"/api/v1/directory/listings/{directory.salon.id}", client))


def test_the_public_directory_s_opening_hours(directory):
    _conforms("/api/hsds/organizations", _get("/api/hsds/organizations"))
    service = _get(f"/api/hsds/services/{directory.salon.uuid}")
    _conforms("/api/hsds/services/{service_id}", service)
    assert (service["schedules"][0]["opens_at"], service["schedules"][0]["closes_at"]) == ("10:00", "12:00")
