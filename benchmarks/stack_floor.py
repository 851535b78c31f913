"""The least the stack answers: a GET that reads nothing and a POST that writes nothing, both authenticated.

`make bench-request` and `make bench-writes` set each whole request against its floor, the same rows read or
written by hand-written SQL. Part of every request is the stack's own, whatever it reads or writes: the
middleware, DRF, the caller's token with their memberships, the access log's flush, a POST's JSON parser and,
with an Idempotency-Key, the record every keyed POST writes. These two views measure that part, in the same
process, through the same test client and the same middleware, routed ahead of the service's own URLs for the
benchmark's run only (`routed`). A page can take no less than this part plus its floor, so
`(least + floor) / floor` is the ratio the whole request could reach if everything else it does cost nothing.

Nothing here is served by the service: the views exist in the benchmarks only.
"""

from __future__ import annotations

import contextlib
import uuid
from collections.abc import Callable, Iterator

from django.db import transaction
from django.test import Client, override_settings
from django.urls import include, path
from rest_framework.response import Response
from rest_framework.views import APIView

from api.idempotency import HEADER, IdempotentPosts

READS_NOTHING = "/bench/reads-nothing"
WRITES_NOTHING = "/bench/writes-nothing"


class _ReadsNothing(APIView):
    """The service's authentication, permission, throttles, negotiation and renderer around no read at all."""

    def get(self, request):
        return Response({})


class _WritesNothing(IdempotentPosts, APIView):
    """The service's POST protocol (the same, plus the JSON parser and the Idempotency-Key record) around a handler
    that writes nothing."""

    def post(self, request):
        return Response({"id": 1}, status=201)


urlpatterns = [
    path(READS_NOTHING.lstrip("/"), _ReadsNothing.as_view()),
    path(WRITES_NOTHING.lstrip("/"), _WritesNothing.as_view()),
    path("", include("backend.urls")),
]


@contextlib.contextmanager
def routed() -> Iterator[None]:
    """The two views ahead of the service's URLs (which resolve as before: two more patterns tried first)."""
    with override_settings(ROOT_URLCONF=__name__):
        yield


def reads_nothing(client: Client) -> Callable[[], None]:
    def request() -> None:
        response = client.get(READS_NOTHING)
        assert response.status_code == 200, response.content
    return request


def writes_nothing(client: Client, body: dict, *, keyed: bool) -> Callable[[], None]:
    """The POST of `body` (the measured route's own), with a fresh Idempotency-Key when `keyed`; rolled back at once
    like the benchmark's own writes, so every repetition finds the same tables."""
    def request() -> None:
        headers = {HEADER: str(uuid.uuid4())} if keyed else {}
        with transaction.atomic():
            response = client.post(WRITES_NOTHING, body, content_type="application/json", headers=headers)
            assert response.status_code == 201, response.content
            transaction.set_rollback(True)
    return request
