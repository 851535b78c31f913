"""The service's PostgreSQL backend reads dates and times with psycopg's compiled loader, and reads the same values
Django's own loader would: the same instants, labelled `datetime.UTC`."""

from __future__ import annotations

import datetime

import psycopg
import pytest
from django.db import connection
from psycopg.postgres import types
from psycopg.pq import Format

from backend.postgresql.base import _PARSE, _UtcTimestamptzLoader
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
