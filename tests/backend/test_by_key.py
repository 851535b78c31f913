"""`by_key`: a `.values()` query narrowed to one key's rows (a case's notes, a case by its id), run as a prepared
statement on PostgreSQL and as the ORM runs it elsewhere. Whichever runs, the rows are the ORM's, value for value,
and a page that searches (every note the reader may see) is never prepared."""

from __future__ import annotations

import pytest
from django.db import connection
from django.db.models.query import ValuesIterable

from backend import prepared
from backend.prepared import by_key
from cases.models import Case
from cases.selectors import notes_visible_to
from cases.selectors.cases import case_row_get_for_user
from tests.helpers import API


def _write_notes(world, client_for, count: int = 3) -> None:
    client = client_for("commissioner_a")
    for n, category in zip(range(count), ["health", "living_situation", "basic", "health"], strict=False):
        body = {"resident": world.tanaka.id, "case": world.tanaka_case.id, "category": category,
                "body": f"訪問 {n} 回目。変わりなし。"}
        assert client.post(f"{API}/notes", body, format="json").status_code == 201
    amended = client.get(f"{API}/notes", {"case": world.tanaka_case.id}).json()["results"][0]["id"]
    assert client.post(f"{API}/notes/{amended}/amend", {"body": "訂正: 変わりなし。"},
                       format="json").status_code == 201


@pytest.fixture
def unprepared(monkeypatch):
    """Every `by_key` query run as the ORM runs a `.values()` query."""
    def run_as_the_orm():
        monkeypatch.setattr(prepared._PreparedValuesIterable, "__iter__", ValuesIterable.__iter__)
    return run_as_the_orm


def test_a_case_s_note_page_and_a_case_read_answer_the_same_either_way(world, client_for, unprepared):
    _write_notes(world, client_for)
    paths = [(f"{API}/notes", {"case": world.tanaka_case.id, "page_size": 2}),
             (f"{API}/notes", {"resident": world.tanaka.id}),
             (f"{API}/cases/{world.tanaka_case.id}", {})]
    readers = ["commissioner_a", "care_worker", "ward_caseworker", "npo_worker"]
    clients = {persona: client_for(persona) for persona in readers}

    def answers():
        out = []
        for persona in readers:
            for path, params in paths:
                response = clients[persona].get(path, params)
                answer = response.json()
                answer.pop("request_id", None)  # a problem's own, new every request
                out.append((persona, path, response.status_code, answer))
                following = response.json().get("next") if response.status_code == 200 else None
                if following:
                    out.append((persona, "next", clients[persona].get(following).json()))
        return out

    prepared_answers = answers()
    assert any(answer[2] == 200 and answer[3].get("results") for answer in prepared_answers)
    assert any(answer[2] == 404 for answer in prepared_answers)  # the NPO sees neither
    unprepared()
    assert answers() == prepared_answers


def test_the_rows_are_the_orms_value_for_value(world, client_for):
    _write_notes(world, client_for)
    user = world.users["care_worker"]
    notes = notes_visible_to(user=user, rows=True).filter(case_id=world.tanaka_case.id)
    rows = list(by_key(notes))
    assert rows and rows == list(notes)
    assert all(row["held_through"] for row in rows)  # the bases JSON, decoded alike
    assert case_row_get_for_user(user=user, case_id=world.tanaka_case.id)["id"] == world.tanaka_case.id
    assert list(by_key(Case.objects.filter(pk=-1).values("id"))) == []
    assert list(by_key(Case.objects.filter(pk__in=[]).values("id"))) == []  # an empty IN: no statement at all


def test_a_query_of_model_instances_is_left_as_it_is():
    queryset = Case.objects.all()
    assert by_key(queryset) is queryset


def _prepared_note_pages(narrowed_by: str) -> int:
    """Note pages prepared on this connection, of those narrowed by the given column."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM pg_prepared_statements WHERE statement LIKE %s AND statement LIKE %s",
                       ['%"held_through" FROM "cases_note"%', f'%"cases_note"."{narrowed_by}" = $%'])
        return cursor.fetchone()[0]


@pytest.mark.services
def test_on_postgresql_a_case_s_note_page_is_prepared_and_a_search_is_not(world, client_for):
    assert connection.vendor == "postgresql"
    _write_notes(world, client_for)
    client = client_for("care_worker")
    assert client.get(f"{API}/notes", {"category": "health"}).json()["results"]
    assert client.get(f"{API}/notes").json()["results"]
    assert _prepared_note_pages("category") == 0
    for narrowed_by, params in (("case_id", {"case": world.tanaka_case.id}),
                                ("resident_id", {"resident": world.tanaka.id, "category": "health"})):
        assert client.get(f"{API}/notes", params).json()["results"]
        assert _prepared_note_pages(narrowed_by) >= 1
