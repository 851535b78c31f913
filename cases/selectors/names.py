"""What a list row shows of the records it points at (an organisation's kind and name, a person's display name),
read by scalar sub-select rather than by join.

PostgreSQL searches every order of a query's joins before it runs it, and that search grows fast with the
tables: on the seeded city, planning a caseload page with its resident, district, lead organisation and lead
worker joined took 2.4-2.8 ms (the page itself 1-4 ms), and the referral inbox with its eight tables 6.5 ms
against 0.35 ms with sub-selects. A list's query therefore joins only what it filters or orders on; each name
it shows is a sub-select by primary key, planned on its own and run once per row of the page.

Each sub-select is written as SQL here rather than as the ORM's `Subquery(...filter(pk=OuterRef(ref)))`:
resolving and compiling one of those copies a whole inner query each time, and a caseload page's five names
cost 0.9 ms of Python per request, against about 0.1 ms for the query's PostgreSQL to run them.

A list's rows query is built once per process (`rows_template`); a page whose keys were found first reads its
rows by id through one prepared statement (`rows_by_id`).
"""

from __future__ import annotations

import functools
from collections.abc import Callable

from django.db.models import Expression, F, Model, QuerySet

from backend.prepared import rows_where_any


class NameOf(Expression):
    """`field` of the `model` row whose primary key is the outer query's `ref`: `(SELECT field FROM table WHERE
    pk = ref)`, NULL when `ref` is NULL or names no row. Resolving it resolves only `ref` in the outer query."""

    def __init__(self, model: type[Model], field: str, ref):
        self.source, self.column = model, model._meta.get_field(field)  # (Expression.field is its output)
        super().__init__(output_field=self.column)
        self.ref = F(ref) if isinstance(ref, str) else ref

    def get_source_expressions(self):
        return [self.ref]

    def set_source_expressions(self, exprs):
        (self.ref,) = exprs

    def as_sql(self, compiler, connection):
        ref_sql, ref_params = compiler.compile(self.ref)
        quote, meta = connection.ops.quote_name, self.source._meta
        return (f"(SELECT {quote(self.column.column)} FROM {quote(meta.db_table)} "
                f"WHERE {quote(meta.pk.column)} = {ref_sql})"), ref_params


def name_of(model: type[Model], field: str, ref: str) -> NameOf:
    """`field` of the `model` row whose id is the outer query's `ref` (NULL when `ref` is NULL)."""
    return NameOf(model, field, ref)


def rows_template(build: Callable[[], QuerySet]) -> Callable[[], QuerySet]:
    """A list's rows (`.values(...)` with its names), built once per process by `build` and handed out as a
    fresh clone each time: the reader's scope, the filters and the page are added to the clone.

    Resolving a caseload row's 23 values and 5 names cost 0.5 ms of Python on every page; cloning the built
    query costs a tenth of that, and its SQL is the same (the values' joins and the filters' are one set).
    The built query is never run itself, so no rows are cached in it."""
    built = functools.cache(build)

    @functools.wraps(build)
    def template() -> QuerySet:
        return built().all()

    return template


def rows_by_id(template: Callable[[], QuerySet], ids: list[int]) -> list[dict]:
    """The rows of `template` (a `rows_template`) whose ids are `ids`, in that order (an id with no row is left
    out): a list page's rows once its keys are found. It checks no access: the ids must come from a query the
    policy scoped to the reader (`permissions.access.scope`) in the same request.

    On PostgreSQL the query is compiled once per process and prepared on the connection (`rows_where_any`): its
    text is the same for every page, so neither Python (0.23 ms for a caseload page) nor PostgreSQL (0.25 ms)
    builds it again."""
    by_id = {row["id"]: row for row in rows_where_any(template, "pk", ids)}
    return [by_id[row_id] for row_id in ids if row_id in by_id]
