"""Prepared statements for the few queries every request runs with the same text (PostgreSQL only).

Who is asking (api/tokens.py), the bases of what was read (permissions/access.py) and the access log's
INSERT (audit/access_log.py) run on every request, a caseload page's rows by id and its teams
(cases/selectors/) on every page, each with the same text and new values. PostgreSQL
plans a statement each time it is sent; prepared once per connection, it is planned for its first runs,
then (when a generic plan costs no more) reuses one: on the city the token look-up went from 0.73 ms to
0.18 ms. Every one of these statements looks rows up by key or by id arrays, so a plan made for one
reader fits every other.

Only these statements are prepared: Django's own cursors bind parameters on the client and never
prepare, so no query that searches gets a generic plan (a caseload's page of keys planned once for a
commissioner's 91 cases would be wrong for a care centre's 2,000). A connection pooler in front of PostgreSQL must keep
prepared statements per client connection (session pooling, or PgBouncer's `max_prepared_statements`:
docs/operations.md).
"""

from __future__ import annotations

import psycopg
from django.db import connection
from django.db.backends.utils import CursorDebugWrapper, CursorWrapper


class _PreparingCursor(psycopg.Cursor):
    """A server-side-binding cursor whose every statement is prepared on the connection at its first use."""

    def execute(self, query, params=None, *, prepare=None, binary=None):
        return super().execute(query, params, prepare=True, binary=binary)


class _LoggedPreparedCursor(CursorDebugWrapper):
    """Logs a prepared statement like any other (with DEBUG, and in tests that count queries): its text with the
    values composed, as Django writes a client-side cursor's (a prepared execution keeps no text to read back)."""

    def execute(self, sql, params=None):
        with self.debug_sql(self.db.ops.compose_sql(sql, params), params):
            return CursorWrapper.execute(self, sql, params)


def prepared_cursor():
    """A cursor like `connection.cursor()` (the health check, Django's error wrapping, query logging in
    tests and with DEBUG) whose statements PostgreSQL prepares once per connection."""
    connection.close_if_health_check_failed()
    connection.ensure_connection()
    connection.validate_thread_sharing()
    with connection.wrap_database_errors:
        cursor = _PreparingCursor(connection.connection)
    return _LoggedPreparedCursor(cursor, connection) if connection.queries_logged else connection.make_cursor(cursor)
