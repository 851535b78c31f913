"""The one renderer: every problem body the service answers is built here.

`problem_for(exc)` turns any exception (a domain error, a DRF error, Django's 404 / 403 /
too-large, anything else) into its body, status and headers; `problem_body(code)` builds the body
of a code. DRF's exception handler, Django's error pages, the middleware's refusals, the login
throttle and the batch endpoints' per-item problems all go through them, so a body has the same
fields everywhere: `type`, `title`, `status`, `detail`, `code`, `instance`, `request_id` and, when
fields are at fault, `errors` as a flat list of `{field, code, message}`. Messages are in the
request's language (LocaleMiddleware, from Accept-Language): a code's from the catalogue, a field's
from the serializer or validator that raised it (marked for translation where it is written).
"""

from __future__ import annotations

import logging
from typing import NamedTuple

from django.core.exceptions import PermissionDenied, RequestDataTooBig
from django.http import Http404, JsonResponse
from rest_framework import exceptions
from rest_framework.response import Response

from api.problems.catalogue import CATALOGUE, code_for
from backend.request_id import current_request_id
from cases.errors import DomainError

logger = logging.getLogger("api.problems")

PROBLEM_CONTENT_TYPE = "application/problem+json"


class ProblemAPIException(exceptions.APIException):
    """An API-layer (not domain) error with a catalogue code, e.g. a missing If-Match."""

    def __init__(self, code: str):
        self.problem_code = code
        self.status_code = CATALOGUE[code].status
        super().__init__(detail=code, code=code)


class Problem(NamedTuple):
    body: dict
    status: int
    headers: dict[str, str]


def problem_body(code: str, *, status_code: int | None = None, instance: str = "", errors=None) -> dict:
    entry = code_for(code)
    text = entry.message
    body = {
        "type": f"urn:mimamori:problem:{code}",
        "title": text,
        "status": status_code or entry.status,
        "detail": text,
        "code": code,
        "instance": instance,
        "request_id": current_request_id(),
    }
    if errors:
        body["errors"] = errors
    return body


def field_errors(detail, path: str = "") -> list[dict]:
    """DRF's nested error detail as a flat list of {field, code, message}; each message was
    translated when the error was raised (DRF turns a lazy message into text in the active language)."""
    if isinstance(detail, dict):
        items = []
        for key, value in detail.items():
            # DRF's and Django forms' (query filters) names for errors of no single field.
            non_field = key in ("non_field_errors", "__all__")
            name = path if non_field and not path else (f"{path}.{key}" if path else str(key))
            items += field_errors(value, name)
        return items
    if isinstance(detail, list):
        items = []
        for index, value in enumerate(detail):
            nested = isinstance(value, (dict, list))
            items += field_errors(value, f"{path}[{index}]" if nested else path)
        return items
    return [{"field": path or None, "code": getattr(detail, "code", "invalid"), "message": str(detail)}]


_DRF_CODES = {
    exceptions.ParseError: "malformed_request",
    exceptions.NotAuthenticated: "not_authenticated",
    exceptions.AuthenticationFailed: "authentication_failed",
    exceptions.PermissionDenied: "not_permitted",
    exceptions.NotFound: "not_found",
    exceptions.MethodNotAllowed: "method_not_allowed",
    exceptions.NotAcceptable: "not_acceptable",
    exceptions.UnsupportedMediaType: "unsupported_media_type",
    exceptions.Throttled: "throttled",
}


def problem_for(exc: BaseException, *, instance: str = "") -> Problem:
    """The problem for any exception. An exception that is not an error of ours or DRF's is logged
    (with its traceback) and answers `server_error`, which names nothing of it."""
    headers: dict[str, str] = {}
    errors = None
    if isinstance(exc, Http404):
        exc = exceptions.NotFound()
    elif isinstance(exc, RequestDataTooBig):
        exc = ProblemAPIException("request_too_large")
    elif isinstance(exc, PermissionDenied):
        exc = exceptions.PermissionDenied()

    if isinstance(exc, DomainError):
        code, status_code = exc.code, exc.status
        if exc.field:
            errors = [{"field": exc.field, "code": exc.code, "message": code_for(exc.code).message}]
    elif isinstance(exc, exceptions.ValidationError):
        code, status_code = "validation_error", 400
        errors = field_errors(exc.detail)
    elif isinstance(exc, exceptions.APIException):
        code = getattr(exc, "problem_code", None) or next(
            (c for cls, c in _DRF_CODES.items() if isinstance(exc, cls)), "server_error"
        )
        status_code = exc.status_code
        if getattr(exc, "auth_header", None):
            headers["WWW-Authenticate"] = exc.auth_header
        if getattr(exc, "wait", None):
            headers["Retry-After"] = str(int(exc.wait))
    else:
        logger.error("unhandled error in %s", type(exc).__name__, exc_info=exc)
        code, status_code = "server_error", 500
    return Problem(problem_body(code, status_code=status_code, instance=instance, errors=errors), status_code, headers)


def problem_response(request, code: str) -> JsonResponse:
    """A code's problem outside DRF (Django's error pages, middleware, the login throttle)."""
    body = problem_body(code, instance=request.path)
    return JsonResponse(body, status=body["status"], content_type=PROBLEM_CONTENT_TYPE,
                        json_dumps_params={"ensure_ascii": False})


def problem_exception_handler(exc, context):
    """DRF's EXCEPTION_HANDLER."""
    request = context.get("request")
    problem = problem_for(exc, instance=request.path if request is not None else "")
    return Response(problem.body, status=problem.status, headers=problem.headers, content_type=PROBLEM_CONTENT_TYPE)
