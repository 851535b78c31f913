"""A list page's rows read by their ids once its keys are found (`rows_by_id`, through `rows_where_any`): on
PostgreSQL a statement compiled once and prepared, elsewhere the ORM's query. Both must give the template's rows,
in the order asked, each value as the ORM converts it."""

from __future__ import annotations

import pytest
from django.db import connection

from audit.access_log import change_entry
from audit.models import AccessLogEntry
from backend import prepared
from cases.models import Case
from cases.selectors.cases import _caseload_rows
from cases.selectors.names import rows_by_id, rows_template
from tests.factories import CaseFactory, ResidentFactory


@pytest.fixture
def cases(world):
    return [CaseFactory(resident=ResidentFactory(district=world.district_a, registered_by=world.council),
                        lead_organization=world.care_centre, team=[world.care_centre]) for _ in range(4)]


def test_the_rows_come_in_the_order_asked_and_an_id_with_no_row_is_left_out(cases):
    ids = [cases[2].id, cases[0].id, 2**40, cases[3].id]
    rows = rows_by_id(_caseload_rows, ids)
    assert [row["id"] for row in rows] == [cases[2].id, cases[0].id, cases[3].id]
    by_orm = {row["id"]: row for row in _caseload_rows().filter(pk__in=ids)}
    assert rows == [by_orm[row["id"]] for row in rows]
    assert rows_by_id(_caseload_rows, []) == []


def test_a_case_row_is_what_the_orm_reads_value_for_value(world, cases):
    ids = list(Case.objects.order_by("-id").values_list("id", flat=True))
    rows = rows_by_id(_caseload_rows, ids)
    assert len(rows) == Case.objects.count()
    assert rows == sorted(_caseload_rows().filter(pk__in=ids), key=lambda row: ids.index(row["id"]))
    assert {row["lead_organization__name"] for row in rows} >= {world.care_centre.name}


@pytest.mark.services
def test_on_postgresql_the_caseload_rows_are_read_by_one_prepared_statement(cases):
    assert connection.vendor == "postgresql"
    sql, _, _, _, _, columns = prepared._statement(_caseload_rows, "pk")
    assert sql.count("= ANY(%s)") == 1 and " IN (" not in sql
    assert columns[0] == "id" and "lead_worker__display_name" in columns


@pytest.mark.services
def test_a_value_django_converts_after_reading_is_converted_as_the_orm_does(world):
    """A JSON column is decoded by Django after PostgreSQL returns it: the prepared statement's rows are converted
    by the compiled query's converters, or they would hold text."""
    assert connection.vendor == "postgresql"
    change_entry(kind="case", action="create", resident_ids=[world.tanaka.id], object_id=7, categories=[],
                 changes={"status": ["", "open"]})
    entries = rows_template(lambda: AccessLogEntry.objects.values("id", "object_ids", "changes"))
    _, _, _, _, converters, _ = prepared._statement(entries, "pk")
    assert converters
    entry = AccessLogEntry.objects.latest("id")
    assert rows_by_id(entries, [entry.id]) == [{"id": entry.id, "object_ids": [7], "changes": {"status": ["", "open"]}}]
    assert rows_by_id(entries, [entry.id]) == list(entries().filter(pk=entry.id))

