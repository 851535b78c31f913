"""A request id on every request, response and log line; no query strings in logs."""

from __future__ import annotations

import contextvars
import logging
import re
import uuid

_request_id: contextvars.ContextVar[str] = contextvars.ContextVar("request_id", default="-")
# fullmatch: `$` alone would let a trailing newline through, into the access log and the response header.
_VALID = re.compile(r"[A-Za-z0-9._-]{8,64}")
_QUERY = re.compile(r"(/[^\s?\"']*)\?[^\s\"']*")


def current_request_id() -> str:
    return _request_id.get()


class RequestIdMiddleware:
    """Take a well-formed X-Request-ID from the client (a retrying phone keeps its id), else make one."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        incoming = request.headers.get("X-Request-ID", "")
        request_id = incoming if _VALID.fullmatch(incoming) else uuid.uuid4().hex
        request.request_id = request_id
        token = _request_id.set(request_id)
        try:
            response = self.get_response(request)
        finally:
            _request_id.reset(token)
        response["X-Request-ID"] = request_id
        return response


class RequestIdLogFilter(logging.Filter):
    """Django logs a 4xx/5xx response after the middleware has returned; its record carries the request."""

    def filter(self, record: logging.LogRecord) -> bool:
        record.request_id = getattr(getattr(record, "request", None), "request_id", None) or _request_id.get()
        return True


class RedactQueryStringFilter(logging.Filter):
    """Query strings can carry a resident's name (kana search): drop them from every log line."""

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        redacted = _QUERY.sub(r"\1?[redacted]", message)
        if redacted != message:
            record.msg, record.args = redacted, ()
        return True
