"""Idempotency-Key on POST: a retried request gets the stored response, never a duplicate.

Same user + key + body → the first response is replayed (`Idempotent-Replayed:
true`). Same key with another body or path → 409. The record is written in the
same transaction as the change it describes, so either both exist or neither.
Two concurrent requests with one key: the unique constraint makes the second
wait for the first and then replay its response.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Callable

from django.db import IntegrityError, transaction
from rest_framework.response import Response

from api.models import IdempotencyRecord
from api.problems import ProblemAPIException

HEADER = "Idempotency-Key"
_VALID = re.compile(r"^[\x21-\x7e]{1,255}$")
_REPLAYED_HEADERS = ("Location", "ETag")


def _fingerprint(request) -> str:
    try:
        body = json.dumps(request.data, sort_keys=True, ensure_ascii=False, default=str)
    except (TypeError, ValueError):
        body = repr(request.data)
    # surrogatepass: a body with a lone surrogate must reach the serializer (400), not fail here (500).
    return hashlib.sha256(f"{request.method} {request.path}\n{body}".encode("utf-8", "surrogatepass")).hexdigest()


def _replay(record: IdempotencyRecord, fingerprint: str) -> Response:
    if record.fingerprint != fingerprint:
        raise ProblemAPIException("idempotency_key_reused")
    headers = {**record.response_headers, "Idempotent-Replayed": "true"}
    return Response(record.response_body, status=record.response_status, headers=headers)


def idempotent(
    request, handler: Callable[[], Response], *, stored_body: Callable[[dict], dict] | None = None
) -> Response:
    """Run `handler` once per user + key. `stored_body` trims what is kept for replays (e.g. a secret shown once)."""
    key = request.headers.get(HEADER)
    if key is None:
        return handler()
    if not _VALID.match(key):
        raise ProblemAPIException("invalid_header")
    fingerprint = _fingerprint(request)
    for attempt in range(2):
        existing = IdempotencyRecord.objects.filter(user=request.user, key=key).first()
        if existing is not None:
            return _replay(existing, fingerprint)
        try:
            with transaction.atomic():
                response = handler()
                if 200 <= response.status_code < 300:
                    IdempotencyRecord.objects.create(
                        user=request.user,
                        key=key,
                        fingerprint=fingerprint,
                        response_status=response.status_code,
                        response_body=stored_body(response.data) if stored_body else response.data,
                        response_headers={h: response[h] for h in _REPLAYED_HEADERS if response.has_header(h)},
                    )
            return response
        except IntegrityError:
            if attempt:
                raise
    raise AssertionError("unreachable")


class IdempotentCreateMixin:
    """For DRF views: wrap `create` (POST) in the idempotency protocol."""

    def create(self, request, *args, **kwargs):
        return idempotent(request, lambda: super(IdempotentCreateMixin, self).create(request, *args, **kwargs))
