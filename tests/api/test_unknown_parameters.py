"""Every list route refuses a query parameter it does not know: 400 naming it, never the unfiltered list; and
asked with no filter (no parameter, or only how to page it) it answers what its filter set would (which it then
skips building).

The routes are read from the generated schema (every GET with a `cursor` parameter is a list),
so a list added later is covered without a new row here."""

from __future__ import annotations

import re

import pytest
from django.core.exceptions import EmptyResultSet
from django_filters.rest_framework import DjangoFilterBackend
from drf_spectacular.generators import SchemaGenerator
from rest_framework.test import APIClient

from api.filters import CaseFilter, FilterBackend, SafeFilterSet
from api.tokens import token_issue
from cases import services
from cases.models import Consent
from cases.models.choices import Role
from integrations.webhooks import webhook_register
from tests.factories import MembershipFactory, UserFactory
from tests.helpers import make_listed

PERSONAS = ("care_worker", "commissioner_a", "ward_caseworker", "privacy_officer", "ward_supervisor")


def _list_routes() -> list[str]:
    paths = SchemaGenerator().get_schema(request=None, public=True)["paths"]
    return sorted(path for path, item in paths.items()
                  if "get" in item and any(p["name"] == "cursor" for p in item["get"].get("parameters", [])))


LIST_ROUTES = _list_routes()


def _org_admin(world) -> tuple[APIClient, int]:
    """Care centre 1's org admin, who alone reads its webhook endpoints' delivery logs, and one endpoint."""
    admin = UserFactory(username="care_admin")
    MembershipFactory(user=admin, organization=world.care_centre, role=Role.ORG_ADMIN)
    webhook = webhook_register(actor=admin, url="https://hooks.example.jp/care", event_types=["task.assigned"])
    _, plaintext = token_issue(user=admin, name="test")
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {plaintext}")
    return client, webhook.id


def _fill(path: str, world, record_id: int | None = None) -> str:
    if record_id is not None:
        record = None
    elif path.startswith("/api/v1/evacuation-entries/"):
        record = make_listed(world).tanaka
    elif path.startswith("/api/v1/notes/"):
        record = services.note_write(actor=world.users["commissioner_a"], resident=world.tanaka, category="family",
                                     body="長女が月1回来訪")
    else:
        record = Consent.objects.filter(resident=world.tanaka).first()
    ids = {"resident_id": world.tanaka.id, "case_id": world.tanaka_case.id,
           "id": record_id if record is None else record.id}
    return re.sub(r"\{(\w+)\}", lambda m: str(ids[m.group(1)]), path)


def test_the_schema_has_the_list_routes():
    assert len(LIST_ROUTES) >= 10, LIST_ROUTES


def _reader_of(route: str, world, client_for) -> tuple[APIClient, str]:
    if route.startswith("/api/v1/integrations/"):
        admin, webhook_id = _org_admin(world)
        url, candidates = _fill(route, world, webhook_id), [admin]
    else:
        url, candidates = _fill(route, world), map(client_for, PERSONAS)
    client = next((c for c in candidates if c.get(url).status_code == 200), None)
    assert client is not None, f"no persona may read {url}"
    return client, url


@pytest.mark.parametrize("route", LIST_ROUTES)
def test_an_unknown_parameter_is_refused_naming_it(route, world, client_for):
    client, url = _reader_of(route, world, client_for)
    response = client.get(url, {"date_of_brith": "1940-04-01", "page_size": "5"}, HTTP_ACCEPT_LANGUAGE="en")
    assert response.status_code == 400, response.content
    assert response["Content-Type"].startswith("application/problem+json")
    assert response.json()["errors"] == [
        {"field": "date_of_brith", "code": "unknown_parameter", "message": "Unknown query parameter."}]
    assert client.get(url, {"page_size": "5", "format": "json"}).status_code == 200


# Lists of one record's versions or deliveries, written without the filter backend (they take no filter).
WITHOUT_FILTER_BACKEND = {"/api/v1/evacuation-entries/{id}/plans", "/api/v1/integrations/webhooks/{id}/deliveries",
                          "/api/v1/notes/{id}/history"}


@pytest.mark.parametrize("params", [{}, {"page_size": "5"}], ids=["no parameter", "a page size"])
@pytest.mark.parametrize("route", LIST_ROUTES)
def test_with_no_filter_a_list_is_what_its_filter_set_answers(route, params, world, client_for, monkeypatch):
    client, url = _reader_of(route, world, client_for)
    compared = []
    skipping = FilterBackend.filter_queryset

    def both(self, request, queryset, view):
        skipped = skipping(self, request, queryset, view)
        compared.append((_sql(skipped), _sql(DjangoFilterBackend.filter_queryset(self, request, queryset, view))))
        return skipped

    monkeypatch.setattr(FilterBackend, "filter_queryset", both)
    assert client.get(url, params).status_code == 200
    assert bool(compared) is (route not in WITHOUT_FILTER_BACKEND)
    for skipped, filtered in compared:
        assert skipped == filtered


def _sql(queryset) -> str:
    try:
        return str(queryset.query)
    except EmptyResultSet:
        return "nothing"


def test_the_filter_set_is_built_only_when_a_filter_is_given(world, client_for, monkeypatch):
    built = []
    init = SafeFilterSet.__init__

    def counted(self, *args, **kwargs):
        built.append(type(self))
        init(self, *args, **kwargs)

    monkeypatch.setattr(SafeFilterSet, "__init__", counted)
    client = client_for("care_worker")
    for body in ("長女が月1回来訪", "民生委員が訪問"):
        services.note_write(actor=world.users["commissioner_a"], resident=world.tanaka, category="family", body=body)
    commissioner = client_for("commissioner_a")
    first = commissioner.get("/api/v1/notes", {"page_size": "1"})
    assert first.status_code == 200 and first.json()["next"], first.content
    assert commissioner.get(first.json()["next"]).status_code == 200  # the next page: a cursor and the page size
    assert client.get("/api/v1/cases").status_code == 200
    assert built == []
    # The paginator refuses a malformed cursor or page size itself, control characters included.
    for params in ({"cursor": "bad\x00"}, {"page_size": "5\x07"}):
        response = client.get("/api/v1/cases", params, HTTP_ACCEPT_LANGUAGE="en")
        assert response.status_code == 400, response.content
        assert [error["field"] for error in response.json()["errors"]] == list(params)
    assert built == []
    assert client.get("/api/v1/cases", {"status": "open", "page_size": "5"}).status_code == 200
    assert built == [CaseFilter]
    assert client.get("/api/v1/cases", {"cursor": "bad", "foo": "\x00"}).status_code == 400  # the filter set's form
    assert built == [CaseFilter, CaseFilter]
