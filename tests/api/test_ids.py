"""Record ids are integers everywhere: in paths (the router's `<int:pk>` routes) and in filters."""

from __future__ import annotations

import pytest

from tests.helpers import API


@pytest.mark.parametrize("path", ["cases/abc", "cases/1.5", "cases/-1", "residents/1e3", "tasks/%EF%BC%91"])
def test_a_path_id_that_is_not_a_whole_number_is_404_problem_json(world, client_for, path):
    response = client_for("care_worker").get(f"{API}/{path}")
    assert response.status_code == 404 and response["Content-Type"] == "application/problem+json"
    assert response.json()["code"] == "not_found"


def test_path_ids_reach_the_view_as_integers(world, client_for):
    assert client_for("care_worker").get(f"{API}/cases/{world.tanaka_case.id}").json()["id"] == world.tanaka_case.id


@pytest.mark.parametrize("value", ["1.5", "1e3", "0", str(2**62 + 1), "abc"])
def test_an_id_filter_takes_whole_numbers_from_1_to_2_62(world, client_for, value):
    response = client_for("care_worker").get(f"{API}/visits", {"case": value})
    assert response.status_code == 400, response.content
    assert [(e["field"], response.json()["code"]) for e in response.json()["errors"]] == [("case", "validation_error")]


def test_an_id_filter_filters(world, client_for):
    client = client_for("care_worker")
    assert client.get(f"{API}/cases", {"resident": world.tanaka.id}).json()["results"][0]["id"] == world.tanaka_case.id
    assert client.get(f"{API}/cases", {"resident": world.suzuki.id + 1000}).json()["results"] == []


@pytest.mark.parametrize("method, path", [
    ("post", f"support-meetings/{2**62 + 1}/acknowledge"),
    ("post", "support-meetings/5615105702298012957654504177664/acknowledge"),
    ("get", f"residents/{2**63}/consents"),
    ("get", f"notes/{10**30}/history"),
    ("post", "tasks/0/acknowledge"),
])
def test_a_path_id_beyond_what_the_database_holds_is_404_not_500(world, client_for, method, path):
    response = getattr(client_for("care_worker"), method)(f"{API}/{path}", {}, format="json")
    assert response.status_code == 404 and response.json()["code"] == "not_found", response.content[:300]
