"""`rows_where_any`: a `.values_list()` query's rows whose key is one of an array, compiled once per process and
prepared on PostgreSQL, the ORM's query elsewhere. Whichever runs, the rows are the ORM's, value for value."""

from __future__ import annotations

import pytest
from django.db import connection

from backend import prepared
from backend.prepared import rows_where_any
from cases.models import Case, Consent, Referral, ReferralStatus, Visit
from tests.factories import CaseFactory, ResidentFactory


def _open_cases():
    """A template with a value of its own (the status), compiled with it."""
    return Case.objects.exclude(status="closed").values_list("id", "resident_id", "status")


def _referrals_received():
    """A template whose own values come before the keys and whose key is a joined column."""
    return Referral.objects.filter(status__in=[ReferralStatus.REQUESTED, ReferralStatus.ACCEPTED]).values_list(
        "id", "case__resident_id", "status", "categories")


def _consents():
    return Consent.objects.values_list("id", "resident_id", "categories", "valid_from", "withdrawn_at")


def _visits():
    return Visit.objects.values_list("id", "case__resident_id", "occurred_at")


@pytest.fixture
def residents(world):
    extra = [ResidentFactory(district=world.district_a, registered_by=world.council) for _ in range(3)]
    for resident in extra:
        CaseFactory(resident=resident, lead_organization=world.care_centre, team=[world.care_centre])
    CaseFactory(resident=extra[0], lead_organization=world.care_centre, status="closed")
    return [world.tanaka.id, *(resident.id for resident in extra)]


@pytest.mark.parametrize(("template", "column"), [
    (_open_cases, "resident_id"), (_referrals_received, "case__resident_id"), (_consents, "resident_id"),
    (_visits, "case__resident_id"),
], ids=["own-value", "own-values-and-joined-key", "json-and-times", "joined-key"])
def test_the_rows_are_the_orms_whichever_runs(residents, template, column):
    wanted = residents[:3] + [2**40]
    rows = rows_where_any(template, column, wanted)
    by_orm = list(template().filter(**{f"{column}__in": wanted}))
    assert sorted(rows) == sorted(by_orm)
    last = residents[3:]
    assert sorted(rows_where_any(template, column, last)) == sorted(template().filter(**{f"{column}__in": last}))
    assert rows_where_any(template, column, []) == []


def test_a_template_s_own_value_is_kept_when_the_keys_change(world, residents):
    closed = Case.objects.filter(status="closed").values_list("id", flat=True)
    assert closed
    for keys in (residents, residents[:1], residents[1:]):
        assert not {row[0] for row in rows_where_any(_open_cases, "resident_id", keys)} & set(closed)


@pytest.mark.services
def test_on_postgresql_one_statement_is_compiled_with_the_keys_as_one_array(residents):
    assert connection.vendor == "postgresql"
    sql, params, at, _, converters, names = prepared._statement(_referrals_received, "case__resident_id")
    assert sql.count("= ANY(%s)") == 1
    assert params[at] == [] and len(params) == 3  # the two statuses, then the keys
    assert converters and names is None  # the categories are JSON; the rows are tuples


def test_rows_where_any_reads_only_values_queries():
    with pytest.raises(TypeError):
        rows_where_any(lambda: Case.objects.all(), "pk", [1])
    with pytest.raises(TypeError):
        rows_where_any(lambda: Case.objects.values_list("id", flat=True), "pk", [1])
