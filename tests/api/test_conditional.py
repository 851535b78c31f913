"""ETag / If-Match on shared records: no update without the version read, no lost update."""

from __future__ import annotations

import pytest

from api import conditional
from cases.models import Case, Resident
from tests.helpers import fixture_update

pytestmark = pytest.mark.django_db

# (persona, url, model, a change, the field it changes)
RESOURCES = {
    "resident": ("commissioner_a", "/api/v1/residents/{id}", Resident, {"phone": "044-111-2222"}, "phone"),
    "case": ("care_worker", "/api/v1/cases/{id}", Case, {"risk_level": "high"}, "risk_level"),
}


@pytest.fixture(params=sorted(RESOURCES))
def resource(request, world, client_for):
    persona, url, model, change, field = RESOURCES[request.param]
    obj = world.tanaka if model is Resident else world.tanaka_case
    return {
        "client": client_for(persona),
        "url": url.format(id=obj.pk),
        "obj": obj,
        "change": change,
        "field": field,
    }


def problem_code(response) -> str:
    assert response["Content-Type"] == "application/problem+json", response.content
    return response.json()["code"]


def test_get_returns_the_version_as_etag(resource):
    response = resource["client"].get(resource["url"])

    assert response.status_code == 200, response.content
    resource["obj"].refresh_from_db()
    assert response["ETag"] == f'"v{resource["obj"].version}"'
    assert response.json()["version"] == resource["obj"].version


def test_patch_without_if_match_is_428(resource):
    before = getattr(resource["obj"], resource["field"])

    response = resource["client"].patch(resource["url"], resource["change"], format="json")

    assert response.status_code == 428, response.content
    assert problem_code(response) == "precondition_required"
    resource["obj"].refresh_from_db()
    assert getattr(resource["obj"], resource["field"]) == before
    assert resource["obj"].version == 1


def test_patch_with_a_stale_etag_is_412_and_changes_nothing(resource):
    client, url = resource["client"], resource["url"]
    etag = client.get(url)["ETag"]
    fixture_update(resource["obj"].__class__.objects.filter(pk=resource["obj"].pk), version=2)  # someone else saved
    before = getattr(resource["obj"], resource["field"])

    response = client.patch(url, resource["change"], format="json", HTTP_IF_MATCH=etag)

    assert response.status_code == 412, response.content
    assert problem_code(response) == "precondition_failed"
    resource["obj"].refresh_from_db()
    assert getattr(resource["obj"], resource["field"]) == before
    assert resource["obj"].version == 2


def test_patch_with_the_current_etag_updates_and_returns_the_new_etag(resource):
    client, url = resource["client"], resource["url"]
    etag = client.get(url)["ETag"]

    response = client.patch(url, resource["change"], format="json", HTTP_IF_MATCH=etag)

    assert response.status_code == 200, response.content
    assert response["ETag"] == '"v2"'
    assert response.json()["version"] == 2
    assert response.json()[resource["field"]] == resource["change"][resource["field"]]
    resource["obj"].refresh_from_db()
    assert resource["obj"].version == 2
    assert getattr(resource["obj"], resource["field"]) == resource["change"][resource["field"]]
    assert client.get(url)["ETag"] == '"v2"'


def test_the_old_etag_is_refused_after_an_update(resource):
    client, url = resource["client"], resource["url"]
    etag = client.get(url)["ETag"]
    assert client.patch(url, resource["change"], format="json", HTTP_IF_MATCH=etag).status_code == 200

    response = client.patch(url, resource["change"], format="json", HTTP_IF_MATCH=etag)

    assert response.status_code == 412
    resource["obj"].refresh_from_db()
    assert resource["obj"].version == 2


def test_if_match_star_is_accepted(resource):
    response = resource["client"].patch(resource["url"], resource["change"], format="json", HTTP_IF_MATCH="*")

    assert response.status_code == 200, response.content
    assert response["ETag"] == '"v2"'


def test_if_match_with_a_list_containing_the_current_etag_is_accepted(resource):
    response = resource["client"].patch(
        resource["url"], resource["change"], format="json", HTTP_IF_MATCH='"v7", "v1"'
    )

    assert response.status_code == 200, response.content


@pytest.mark.parametrize("header", ['"garbage"', "v1", '"v1', " "])
def test_malformed_if_match_is_refused(resource, header):
    response = resource["client"].patch(resource["url"], resource["change"], format="json", HTTP_IF_MATCH=header)

    assert response.status_code in (412, 428), response.content
    resource["obj"].refresh_from_db()
    assert resource["obj"].version == 1


def test_each_update_increments_the_version(resource):
    client, url = resource["client"], resource["url"]
    for expected in (2, 3, 4):
        etag = client.get(url)["ETag"]
        response = client.patch(url, resource["change"], format="json", HTTP_IF_MATCH=etag)
        assert response.status_code == 200, response.content
        assert response["ETag"] == f'"v{expected}"'
    resource["obj"].refresh_from_db()
    assert resource["obj"].version == 4


def test_a_write_between_the_check_and_the_update_is_not_lost(resource, monkeypatch):
    """The If-Match check passes, then another writer commits: the conditional UPDATE still refuses."""
    obj, field = resource["obj"], resource["field"]
    model = type(obj)
    before = getattr(obj, field)
    module = "api.views.residents" if model is Resident else "api.views.cases"
    check = conditional.expected_version

    def check_then_lose_the_race(request, current):
        version = check(request, current)
        fixture_update(model.objects.filter(pk=current.pk), version=current.version + 1)
        return version

    monkeypatch.setattr(f"{module}.expected_version", check_then_lose_the_race)

    response = resource["client"].patch(resource["url"], resource["change"], format="json", HTTP_IF_MATCH='"v1"')

    assert response.status_code == 412, response.content
    assert problem_code(response) == "precondition_failed"
    obj.refresh_from_db()
    assert getattr(obj, field) == before
    assert obj.version == 2
