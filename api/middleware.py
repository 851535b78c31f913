"""Refusals made before a view runs: a body over the size limit (413), and `Cache-Control` on API answers."""

from __future__ import annotations

from django.http import JsonResponse
from django.utils.cache import patch_cache_control

from api.limits import MAX_BODY_BYTES
from api.problems import problem_response

API_PREFIX = "/api/"


class RequestLimitsMiddleware:
    """A body longer than MAX_BODY_BYTES answers 413 `request_too_large` before anything reads it.

    The declared Content-Length is checked (Django reads no more than it, and refuses a
    chunked body without one); a malformed length is a 400. A phone that gets 413 knows
    that retrying the same request cannot succeed. Every /api/ answer also carries
    `Cache-Control: no-store`: nearly all of them hold personal data, and a shared or
    browser cache must keep none of it.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        refused = self._refusal(request)
        response = refused or self.get_response(request)
        if request.path.startswith(API_PREFIX):
            patch_cache_control(response, no_store=True)
        return response

    @staticmethod
    def _refusal(request):
        raw = request.META.get("CONTENT_LENGTH") or "0"
        if not raw.isascii() or not raw.isdigit():
            return _problem(request, "invalid_header")
        if int(raw) > MAX_BODY_BYTES:
            return _problem(request, "request_too_large")
        return None


def _problem(request, code: str) -> JsonResponse:
    return problem_response(request, code)
