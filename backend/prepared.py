"""Prepared statements for the few queries every request runs with the same text (PostgreSQL only).

Who is asking (api/tokens.py), the bases of what was read where a page did not read them with its rows
(permissions/access.py) and the access log's INSERT (audit/access_log.py) run on every request, a caseload
page's rows by id and its teams (cases/selectors/) on every page, the facts of a just-recorded visit's
resident (permissions/policy/facts.py) on every upload, each with the same text and new values; and the ORM's
queries of one key's rows (`by_key`: a case's or a resident's note page, a case read), compiled per request
but the same text for every key. PostgreSQL plans a statement each time it is sent; prepared once per
connection, it is planned for its first runs, then (when a generic plan costs no more) reuses one: on the
city the token look-up went from 0.73 ms to 0.18 ms, a case's note page from 0.70 to 0.09 ms. Every one of
these statements looks rows up by key or by id arrays, so a plan made for one reader fits every other.

Only these statements are prepared: Django's own cursors bind parameters on the client and never
prepare, so no query that searches gets a generic plan (a caseload's page of keys planned once for a
commissioner's 91 cases would be wrong for a care centre's 2,000). A connection pooler in front of PostgreSQL must keep
prepared statements per client connection (session pooling, or PgBouncer's `max_prepared_statements`:
docs/operations.md).
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterable

import psycopg
from django.core.exceptions import EmptyResultSet
from django.db import DEFAULT_DB_ALIAS, connection
from django.db.backends.utils import CursorDebugWrapper, CursorWrapper
from django.db.models import F, Lookup, QuerySet
from django.db.models.query import ValuesIterable, ValuesListIterable


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


class AnyOf(Lookup):
    """`lhs = ANY(%s)`, the values as one array parameter: the statement's text is the same for any number of
    them (Django's `IN` writes one placeholder per value), so PostgreSQL can keep it prepared."""

    lookup_name = "any_of"
    prepare_rhs = False

    def as_sql(self, compiler, connection):
        lhs, params = self.process_lhs(compiler, connection)
        return f"{lhs} = ANY(%s)", [*params, self.rhs]


def rows_where_any(template: Callable[[], QuerySet], column: str, values: Iterable) -> list:
    """The rows of `template` (a `.values()` or `.values_list()` query, built the same way on every call) whose
    `column` (a field path: `pk`, `resident_id`, `case__resident_id`) is one of `values`, as the ORM would give
    them (dicts or tuples, each value converted as Django converts it). It checks no access itself.

    On PostgreSQL the query is compiled once per process for each (template, column) and prepared on the
    connection: a query the ORM builds and compiles anew costs about 1 ms of Python, more than PostgreSQL takes
    to run a look-up by key. The template's own values (a status, a kind) are compiled with it, so they must be
    the same on every call. Elsewhere the ORM runs it."""
    values = list(values)
    if not values:
        return []
    statement = _statement(template, column) if connection.vendor == "postgresql" else None
    if statement is None:
        return list(_values_query(template).filter(**{f"{column}__in": values}))
    sql, params, at, compiler, converters, names = statement
    params = [*params[:at], values, *params[at + 1:]]
    with prepared_cursor() as cursor:
        cursor.execute(sql, params)
        rows = cursor.fetchall()
    if converters:
        rows = compiler.apply_converters(rows, converters)
    if names is not None:
        return [dict(zip(names, row, strict=True)) for row in rows]
    return [tuple(row) for row in rows]


@functools.cache
def _statement(template: Callable[[], QuerySet], column: str):
    """`template`'s query for `column = ANY(%s)`: its SQL, its parameters and where among them the keys go, its
    compiler and converters (to convert the rows it reads), and its names when it gives dicts."""
    keys: list = []  # a placeholder, found among the parameters by identity
    queryset = _values_query(template)
    query = queryset.filter(AnyOf(F(column), keys)).query
    compiler = query.get_compiler(connection=connection)
    sql, params = compiler.as_sql()
    at = next(index for index, param in enumerate(params) if param is keys)
    converters = compiler.get_converters([expression for expression, _, _ in compiler.select])
    names = ([*query.extra_select, *query.values_select, *query.annotation_select]
             if queryset._iterable_class is ValuesIterable else None)
    return sql, tuple(params), at, compiler, converters, names


def _values_query(template: Callable[[], QuerySet]) -> QuerySet:
    queryset = template()
    if queryset._iterable_class not in (ValuesIterable, ValuesListIterable):
        raise TypeError("rows_where_any reads .values() or .values_list() queries (not flat or named ones)")
    return queryset


class _PreparedValuesIterable(ValuesIterable):
    """The rows of a `.values()` query as `ValuesIterable` gives them, the statement prepared on the connection."""

    def __iter__(self):
        query = self.queryset.query
        compiler = query.get_compiler(self.queryset.db)
        if compiler.connection.vendor != "postgresql" or self.queryset.db != DEFAULT_DB_ALIAS:  # the cursor's
            yield from super().__iter__()
            return
        try:
            sql, params = compiler.as_sql()
        except EmptyResultSet:
            return
        with prepared_cursor() as cursor:
            cursor.execute(sql, params)
            rows = cursor.fetchall()
        names = list(query.selected) if query.selected else [
            *query.extra_select, *query.values_select, *query.annotation_select]
        for row in compiler.results_iter(results=[rows]):
            yield dict(zip(names, row, strict=True))


def by_key(queryset: QuerySet) -> QuerySet:
    """`queryset` (a `.values()` query) run as a prepared statement on PostgreSQL, for a query narrowed to the
    rows of one key (a case's notes, a case by its id): every value of the key gets the same plan, so the
    statement is planned for its first runs and then (when a generic plan costs no more) not again. Never
    for a query that searches (the plan for one reader's whole caseload would be wrong for another's). A query
    of model instances is given back as it is."""
    if queryset._iterable_class is not ValuesIterable:
        return queryset
    queryset = queryset._chain()
    queryset._iterable_class = _PreparedValuesIterable
    return queryset
