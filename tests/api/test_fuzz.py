"""Schema-driven fuzzing (schemathesis) of every operation in the OpenAPI schema.

The schema is generated in-process from the code (what /api/schema/ serves), and
requests go through the WSGI application in this process, so they share the
test's database transaction. Each operation is fuzzed as three personas
(care_worker, commissioner_a, ward_caseworker), and half of the generated requests are steered onto
those real records (ids, resident, case, district, If-Match: *, a fresh
Idempotency-Key, and real values for the few rules a JSON schema cannot say:
name scripts, kana, postal codes) so the fuzzer reaches the code behind the
404s and the validators, not only them.

Checks: every one schemathesis has (`--checks all`): no 5xx, documented status
codes, content types, headers and bodies, invalid data refused and valid data
accepted, auth enforced (each 2xx is re-sent without and with a wrong token), and
in `make fuzz` the coverage phase's missing-header and unexpected-method checks.
docs/fuzzing.md lists each check, what it found and what became of it.
"""

from __future__ import annotations

import contextlib
import itertools
import json
import os
import re
import zlib

import pytest
import schemathesis
from django.core.signals import request_finished, request_started
from django.core.wsgi import get_wsgi_application
from django.db import close_old_connections, transaction
from django.urls import URLPattern, URLResolver, get_resolver
from hypothesis import HealthCheck, settings
from schemathesis.checks import CHECKS as REGISTERED_CHECKS
from schemathesis.core.failures import FailureGroup
from schemathesis.openapi.checks import RejectedPositiveData

from api.tokens import token_issue
from cases.models import Consent
from tests import conftest
from tests.helpers import openapi_document

# Three who see differently: on Mr Tanaka's case team; the district's commissioner; the ward section
# (not on the team, sees him only through a referral or a legal basis).
PERSONAS = ("care_worker", "commissioner_a", "ward_caseworker")
# Bounded so the file runs in about a minute on an idle machine although the API has grown to ~80
# operations: every operation gets MAX_EXAMPLES random requests (positive and negative); the core
# routes (residents, cases, /me) also get the coverage phase's deterministic sweep of schema-valid
# boundary values for every field. The systematic sweep of invalid values is test_bad_input.py's
# (it was two thirds of the requests), and unexpected methods are test_persona_matrix.py's.
MAX_EXAMPLES = int(os.environ.get("FUZZ_MAX_EXAMPLES", "10"))
CORE_PATHS = r"^/api/v1/(residents|cases)(/\{id\})?$|^/api/v1/me(/tokens(/\{id\})?)?$"
# `make fuzz` (FUZZ_COVERAGE=1) adds the coverage phase for every operation, negative values and
# unexpected methods included: the checks that only that phase feeds (missing_required_header,
# unsupported_method) then run too.
FULL_COVERAGE = os.environ.get("FUZZ_COVERAGE") == "1"
CONFIG = schemathesis.Config.from_dict({
    # The fuzzer authenticates with the persona's token; no random Cookie/Authorization values.
    "generation": {"with-security-parameters": False},
    "phases": {"coverage": {"enabled": FULL_COVERAGE}},
    "operations": [] if FULL_COVERAGE else [{
        "include-path-regex": CORE_PATHS,
        "phases": {"coverage": {"enabled": True, "generation": {"mode": "positive"}, "unexpected-methods": []}},
    }],
})
# Every check this schemathesis has (`--checks all`): docs/fuzzing.md says what each found.
CHECKS = REGISTERED_CHECKS.get_all()


SCHEMA_DICT = openapi_document()
schema = schemathesis.openapi.from_dict(SCHEMA_DICT, config=CONFIG)
schema.app = get_wsgi_application()


@pytest.fixture
def in_process_wsgi():
    """Keep the test's connection open across in-process WSGI requests (as Django's test client does)."""
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    yield
    request_started.connect(close_old_connections)
    request_finished.connect(close_old_connections)


@pytest.fixture(scope="module")
def shared_world(django_db_setup, django_db_blocker):
    """The suite's world (tests/conftest.py), built once for all operations, not once per operation.

    It lives in a transaction opened here and rolled back when the module ends; each operation's
    test runs inside it in pytest-django's own (savepoint) transaction, so what one operation writes
    is gone before the next starts.
    """
    with django_db_blocker.unblock(), transaction.atomic():
        yield conftest.world.__wrapped__(db=None)
        transaction.set_rollback(True)


@pytest.fixture(params=PERSONAS)
def fuzz_session(request, db, shared_world, in_process_wsgi):
    world, persona = shared_world, request.param
    _, plaintext = token_issue(user=world.users[persona], name="fuzz")
    # DELETE /me/tokens/{id} is steered onto a spare token, never onto the one the fuzzer authenticates with.
    spare, _ = token_issue(user=world.users[persona], name="spare")
    real_path_ids = {
        "resident_id": world.tanaka.id,
        "case_id": world.tanaka_case.id,
        "/api/v1/residents/{id}": world.tanaka.id,
        "/api/v1/cases/{id}": world.tanaka_case.id,
        "/api/v1/districts/{id}": world.district_a.id,
        "/api/v1/organizations/{id}": world.care_centre.id,
        "/api/v1/me/tokens/{id}": spare.id,
        "/api/v1/residents/{resident_id}/consents/{id}": Consent.objects.filter(resident=world.tanaka).first().id,
    }
    real_body_ids = {
        "resident": world.tanaka.id,
        "case": world.tanaka_case.id,
        "district": world.district_a.id,
        "organization": world.care_centre.id,
        "lead_worker": world.users[persona].id,
        "team_organizations": [world.care_centre.id],
        # Rules the schema cannot express (name scripts, kana, Japanese postal codes and phone numbers):
        # without real values here the fuzzer would never get past the validators of POST /residents.
        "name_kanji": "山田 花子",
        "name_kana": "やまだ はなこ",
        "postal_code": "214-0014",
        "phone": "044-900-1234",
        "block_number": "2-15",
        "date_of_birth": "1940-04-01",
    }
    return {
        "headers": {"Authorization": f"Bearer {plaintext}"},
        "path_ids": real_path_ids,
        "body_ids": real_body_ids,
        "keys": itertools.count(),
    }


def _steer(case, session) -> None:
    """Deterministically point half of the generated requests at records the persona can see."""
    seed = repr((case.path_parameters, case.query, case.body, case.headers)).encode()
    if zlib.crc32(seed) % 2:
        return
    path = case.operation.path
    for name in case.path_parameters or {}:
        key = path if name == "id" else name
        if key in session["path_ids"]:
            case.path_parameters[name] = session["path_ids"][key]
    if isinstance(case.body, dict):
        for name, value in session["body_ids"].items():
            if isinstance(case.body.get(name), type(value)):
                case.body[name] = value
    if case.method.upper() == "PATCH":
        case.headers = {**(case.headers or {}), "If-Match": "*"}
    if case.headers and "Idempotency-Key" in case.headers:
        # A fresh key, so the request reaches the handler instead of replaying (or 409ing on) an earlier one.
        case.headers["Idempotency-Key"] = f"fuzz-{next(session['keys'])}"


@pytest.mark.django_db
@schema.parametrize()
@settings(
    max_examples=MAX_EXAMPLES,
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow, HealthCheck.filter_too_much],
)
def test_operation_conforms_to_schema(case, fuzz_session):
    _steer(case, fuzz_session)
    response = case.call(headers=fuzz_session["headers"])
    with _accepted_failures_set_aside(response):
        case.validate_response(response, checks=CHECKS, transport_kwargs={"headers": fuzz_session["headers"]})


# docs/fuzzing.md, accepted: a schema-valid request refused (400) by a rule no JSON Schema can state. Each error of
# such an answer names one of these codes (for `cursor`, DRF's `invalid`); any other error still fails the test.
RULES_NO_SCHEMA_STATES = {
    # The one unsafe-text rule (api/text.py): control characters, lone surrogates, markup's < and >; a pattern
    # matches code points, so "no lone surrogates" cannot be said.
    "invalid_characters", "null_characters_not_allowed",
    # A record named in the body or a filter must exist and be one the caller may name.
    "does_not_exist", "invalid_choice", "taxonomy_term_unknown",
    # Rules between two values, or against the clock: since before until, at most 366 days apart; a visit
    # neither in the future nor more than a year old.
    "period_invalid", "period_too_long", "visit_in_future", "visit_too_old",
}


def _refused_by_a_rule_no_schema_states(failure, response) -> bool:
    if not isinstance(failure, RejectedPositiveData) or response.status_code != 400:
        return False
    try:
        errors = json.loads(response.content or b"{}").get("errors") or []
    except ValueError:
        return False
    # A cursor is base64 (the schema says so), but what it decodes to can only be checked by decoding it.
    return bool(errors) and all(
        error.get("code") in RULES_NO_SCHEMA_STATES or (error.get("field"), error.get("code")) == ("cursor", "invalid")
        for error in errors)


@contextlib.contextmanager
def _accepted_failures_set_aside(response):
    try:
        yield
    except FailureGroup as group:
        remaining = [failure for failure in group.exceptions
                     if not _refused_by_a_rule_no_schema_states(failure, response)]
        if remaining:
            raise FailureGroup(remaining) from None


def _api_routes(resolver=None, prefix: str = "") -> set[str]:
    """Every /api/v1 URL pattern as an OpenAPI path template (`/api/v1/cases/{id}`)."""
    resolver = resolver or get_resolver()
    found = set()
    for entry in resolver.url_patterns:
        piece = str(entry.pattern).lstrip("^").rstrip("$")
        piece = re.sub(r"\(\?P<(\w+)>[^)]*\)", r"{\1}", piece)
        piece = re.sub(r"<(?:\w+:)?(\w+)>", r"{\1}", piece)
        if isinstance(entry, URLResolver):
            found |= _api_routes(entry, prefix + piece)
        elif isinstance(entry, URLPattern):
            route = "/" + prefix + piece
            if route.startswith("/api/v1/"):
                found.add(route.replace("{pk}", "{id}"))
    return found


def test_every_route_is_in_the_schema_and_fuzzed():
    """A route missing from the schema would escape the fuzzer (and the client generators)."""
    routes = _api_routes()
    assert len(routes) >= 11, routes
    assert routes <= set(SCHEMA_DICT["paths"]), routes - set(SCHEMA_DICT["paths"])

