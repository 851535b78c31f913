"""Every HTTP request (API, admin, export) writes what it disclosed to the access log before it answers."""

from __future__ import annotations

from audit.access_log import access_log_flush, access_log_request
from permissions.access import groups_remembered


def _route(request) -> str:
    match = getattr(request, "resolver_match", None)
    name = match.view_name if match is not None else request.path_info[:80]
    return f"{request.method} {name}"


class AccessLogMiddleware:
    """Opens the request's collector; on a successful answer writes it in one INSERT.

    If the log cannot be written the response is not sent (the error propagates and
    Django answers 500): a read that is not logged must not be delivered.
    Error responses disclosed nothing, so what they collected is dropped.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        with groups_remembered(), access_log_request(request) as context:
            response = self.get_response(request)
            if response.status_code < 400:
                access_log_flush(context, route=_route(request))
        return response
