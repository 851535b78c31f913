"""Idempotency-Key on every POST: a retried request never acts twice, and its replay is a fresh read.

One mechanism for every route: the router (api/urls.py) registers only viewsets
that carry `IdempotentPosts`, which puts each POST under the protocol before
the handler runs. Same user + key + body: the first answer's status and headers
come back with `Idempotent-Replayed: true`, and its body is *read again* through
the read side (the view's `retrieve`, or its permission-scoped queryset), so the
caller sees only what they may see now — a record they lost access to answers
404 — and the replay is access-logged like any read. Nothing of the answer's body
is stored: only the id of the record it showed. Same key with another body or
path: 409. The record is written in the same transaction as the change it
describes; two concurrent requests with one key: the unique constraint makes the
second wait for the first, then replay it.
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
from cases.errors import NotFound

HEADER = "Idempotency-Key"
_VALID = re.compile(r"^[\x21-\x7e]{1,255}$")
_REPLAYED_HEADERS = ("Location",)


def _fingerprint(request) -> str:
    try:
        body = json.dumps(request.data, sort_keys=True, ensure_ascii=False, default=str)
    except (TypeError, ValueError):
        body = repr(request.data)
    # surrogatepass: a body with a lone surrogate must reach the serializer (400), not fail here (500).
    return hashlib.sha256(f"{request.method} {request.path}\n{body}".encode("utf-8", "surrogatepass")).hexdigest()


def _subject(data) -> int | None:
    """The id of the record an answer shows (a nested `request` for a cessation's result)."""
    if not isinstance(data, dict):
        return None
    for candidate in (data.get("id"), (data.get("request") or {}).get("id") if isinstance(data.get("request"), dict)
                      else None):
        if isinstance(candidate, int):
            return candidate
    return None


class IdempotentPosts:
    """Puts every POST of a DRF viewset under the Idempotency-Key protocol.

    `replay_readers` maps an action to the method that reads its answer again when the default (the
    view's `retrieve`, else its scoped queryset and serializer) does not fit; `replay_reruns` names the
    actions whose replay simply runs again (each item is idempotent on its own, e.g. a visit batch).
    """

    replay_readers: dict[str, str] = {}
    replay_reruns: frozenset[str] = frozenset()

    def initial(self, request, *args, **kwargs):
        super().initial(request, *args, **kwargs)
        if request.method == "POST" and hasattr(self, "post"):
            handler = self.post
            self.post = lambda *a, **k: self._idempotent(request, lambda: handler(*a, **k))

    def _idempotent(self, request, run: Callable[[], Response]) -> Response:
        key = request.headers.get(HEADER)
        if key is None:
            return run()
        if not _VALID.match(key):
            raise ProblemAPIException("invalid_header")
        fingerprint = _fingerprint(request)
        for attempt in range(2):
            existing = IdempotencyRecord.objects.filter(user=request.user, key=key).first()
            if existing is not None:
                return self._replay(request, existing, fingerprint, run)
            try:
                with transaction.atomic():
                    response = run()
                    if 200 <= response.status_code < 300:
                        IdempotencyRecord.objects.create(
                            user=request.user, key=key, fingerprint=fingerprint,
                            response_status=response.status_code, subject_id=_subject(response.data),
                            response_headers={h: response[h] for h in _REPLAYED_HEADERS if response.has_header(h)},
                        )
                return response
            except IntegrityError:
                if attempt:
                    raise
        raise AssertionError("unreachable")

    def _replay(self, request, record: IdempotencyRecord, fingerprint: str, run) -> Response:
        if record.fingerprint != fingerprint:
            raise ProblemAPIException("idempotency_key_reused")
        if self.action in self.replay_reruns:
            response = run()
        else:
            response = self.replay_read(request, record.subject_id)
        response.status_code = record.response_status
        for header, value in record.response_headers.items():
            if not response.has_header(header):
                response[header] = value
        response["Idempotent-Replayed"] = "true"
        return response

    def replay_read(self, request, subject_id: int | None) -> Response:
        """The answer read again, as the caller may see it now (404 when they may not)."""
        reader = self.replay_readers.get(self.action)
        if reader is not None:
            return getattr(self, reader)(request, subject_id)
        if subject_id is None:
            raise NotFound()
        if hasattr(self, "retrieve"):
            return self.retrieve(request, pk=subject_id)
        record = self.get_queryset().filter(pk=subject_id).first()
        if record is None:
            raise NotFound()
        return Response(self.get_serializer(record).data)
