"""The service's PostgreSQL backend reads dates and times with psycopg's compiled loader, and reads the same values
Django's own loader would: the same instants, labelled `datetime.UTC`. Its health check asks the socket before it
asks the server: a connection in good health costs no round trip, one the server ended is found and replaced."""

from __future__ import annotations

import datetime
import time

import psycopg
import pytest
from django.db import connection
from django.db.backends.postgresql import base as django_postgresql
from psycopg.postgres import types
from psycopg.pq import Format

from backend.postgresql.base import _PARSE, _UtcTimestamptzLoader, _waiting
from cases.models import Case

pytestmark = pytest.mark.services

TIMESTAMPTZ = types["timestamptz"].oid


def test_every_cursor_reads_timestamps_with_the_compiled_loader(db):
    with connection.cursor() as cursor:
        assert cursor.cursor.adapters.get_loader(TIMESTAMPTZ, Format.TEXT) is _UtcTimestamptzLoader
    # The speed-up is there only when psycopg's compiled implementation is installed (requirements.txt).
    assert psycopg.pq.__impl__ in ("binary", "c")
    assert not _PARSE.__module__.startswith("psycopg.types")


def test_an_instant_reads_back_the_same_in_utc(db):
    instants = [
        datetime.datetime(2026, 3, 31, 23, 59, 59, 999999, tzinfo=datetime.UTC),
        datetime.datetime(2026, 4, 1, 8, 0, tzinfo=datetime.timezone(datetime.timedelta(hours=9))),
        datetime.datetime(9999, 12, 31, 0, 0, tzinfo=datetime.UTC),  # the end of an open grant window
        datetime.datetime(1970, 1, 1, tzinfo=datetime.UTC),
    ]
    with connection.cursor() as cursor:
        for instant in instants:
            cursor.execute("SELECT %s::timestamptz", [instant])
            (read,) = cursor.fetchone()
            assert read == instant
            assert read.tzinfo is datetime.UTC
            assert read.isoformat() == instant.astimezone(datetime.UTC).isoformat()


def test_a_record_reads_back_its_own_time(world):
    case = Case.objects.get(pk=world.tanaka_case.pk)
    assert Case.objects.values_list("opened_at", flat=True).get(pk=case.pk) == case.opened_at
    assert case.opened_at.tzinfo is datetime.UTC


def test_a_session_in_another_time_zone_still_reads_the_same_instant(db):
    with connection.cursor() as cursor:
        cursor.execute("SET TIME ZONE 'Asia/Tokyo'")
        try:
            cursor.execute("SELECT '2026-04-01 00:30:00+00'::timestamptz")
            (read,) = cursor.fetchone()
        finally:
            cursor.execute("SET TIME ZONE 'UTC'")
    assert read == datetime.datetime(2026, 4, 1, 0, 30, tzinfo=datetime.UTC)
    assert read.tzinfo is datetime.UTC


# The tests below that need a connection outside any transaction commit, so they roll back serialised, as every
# committing test of the suite does: a plain flush would recreate the content types with new ids under the
# fault tests that restore the serialised ones.


def _pings(monkeypatch) -> list[bool]:
    """Every `SELECT 1` Django's own health check sends from now on (what it answered)."""
    sent: list[bool] = []
    ping = django_postgresql.DatabaseWrapper.is_usable

    def counted(self):
        sent.append(ping(self))
        return sent[-1]

    monkeypatch.setattr(django_postgresql.DatabaseWrapper, "is_usable", counted)
    return sent


def _ended_by_the_server() -> None:
    """PostgreSQL ends this connection, as a restart ends every connection (another session asks it to)."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        (pid,) = cursor.fetchone()
    settings = connection.get_connection_params()
    with psycopg.connect(**{**settings, "autocommit": True}) as other:
        assert other.execute("SELECT pg_terminate_backend(%s)", [pid]).fetchone() == (True,)
    deadline = time.monotonic() + 10
    while not _waiting(connection.connection.fileno()):
        assert time.monotonic() < deadline, "the ended connection's socket never had anything to read"
        time.sleep(0.01)


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_an_idle_connection_in_good_health_is_usable_without_a_round_trip(monkeypatch):
    connection.ensure_connection()
    pings = _pings(monkeypatch)
    assert connection.is_usable()
    assert pings == []


def test_inside_a_transaction_the_server_is_asked(db, monkeypatch):
    """Inside a transaction the socket alone does not say enough (an open transaction may be one that failed)."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")  # the test's transaction begins at its first statement
    pings = _pings(monkeypatch)
    assert connection.is_usable()
    assert pings == [True]


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_a_connection_the_server_ended_is_found_and_replaced(monkeypatch):
    assert connection.health_check_enabled or connection.connection is None  # CONN_HEALTH_CHECKS, as deployed
    _ended_by_the_server()
    assert connection.health_check_enabled
    pings = _pings(monkeypatch)
    assert not connection.is_usable()
    assert pings == [False]  # what came on the socket was read by the ping, which failed

    # What a request does before its first query when the connection is reused (CONN_HEALTH_CHECKS).
    connection.health_check_done = False
    connection.close_if_health_check_failed()
    assert connection.connection is None
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
        assert cursor.fetchone() == (1,)


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_a_closed_connection_is_not_usable():
    connection.ensure_connection()
    connection.connection.close()
    assert not connection.is_usable()
    connection.close()
