"""What a list row shows of the records it points at (an organisation's kind and name, a person's display name),
read by scalar sub-select rather than by join.

PostgreSQL searches every order of a query's joins before it runs it, and that search grows fast with the
tables: on the seeded city, planning a caseload page with its resident, district, lead organisation and lead
worker joined took 2.4-2.8 ms (the page itself 1-4 ms), and the referral inbox with its eight tables 6.5 ms
against 0.35 ms with sub-selects. A list's query therefore joins only what it filters or orders on; each name
it shows is a sub-select by primary key, planned on its own and run once per row of the page.
"""

from __future__ import annotations

from django.db.models import Model, OuterRef, Subquery


def name_of(model: type[Model], field: str, ref: str) -> Subquery:
    """`field` of the `model` row whose id is the outer query's `ref` (NULL when `ref` is NULL)."""
    return Subquery(model.objects.filter(pk=OuterRef(ref)).order_by().values(field))
