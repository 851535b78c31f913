"""The manager of every audited model: a bulk write that would skip its change entries is refused.

Change entries are written by model signals (`audit/changes.py`): a create, a
`save()`, a delete. `QuerySet.update()`, `bulk_create()` and `bulk_update()` send
no signal, so a bulk write on a resident's records would leave no trace unless
its caller remembered to record one. On the models `audit.subjects.SUBJECTS`
lists, those three methods refuse (`UnrecordedWrite`) unless they run inside
`bulk_writes_permitted()`, which only the change-recording helpers of
`audit/changes.py` open (`changes_update`, `changes_create`, and `seed_create`
for synthetic seed data that nobody wrote). ADR 0022.

Kept without imports from `audit` (which imports these models).
"""

from __future__ import annotations

import contextlib
import contextvars
from collections.abc import Iterator

from django.db import models

_permitted: contextvars.ContextVar[bool] = contextvars.ContextVar("audited_bulk_writes", default=False)


class UnrecordedWrite(RuntimeError):
    """A bulk write on an audited model outside the helpers that record its change entries."""


@contextlib.contextmanager
def bulk_writes_permitted() -> Iterator[None]:
    """Let the bulk writes inside run: for `audit/changes.py`'s helpers only, which record what they write."""
    token = _permitted.set(True)
    try:
        yield
    finally:
        _permitted.reset(token)


def _refuse_unless_permitted(queryset: models.QuerySet, method: str) -> None:
    if not _permitted.get():
        raise UnrecordedWrite(
            f"{queryset.model.__name__}.objects…{method}() writes a resident's records without change entries: "
            "use audit.changes.changes_update / changes_create")


class AuditedQuerySet(models.QuerySet):
    """`update`, `bulk_create` and `bulk_update` only through `audit/changes.py` (they bypass the signals)."""

    def update(self, **kwargs):
        _refuse_unless_permitted(self, "update")
        return super().update(**kwargs)

    def bulk_create(self, objs, *args, **kwargs):
        _refuse_unless_permitted(self, "bulk_create")
        return super().bulk_create(objs, *args, **kwargs)

    def bulk_update(self, objs, fields, *args, **kwargs):
        _refuse_unless_permitted(self, "bulk_update")
        return super().bulk_update(objs, fields, *args, **kwargs)


class AuditedManager(models.Manager.from_queryset(AuditedQuerySet)):
    pass


def seed_create(model, objs, **options) -> list:
    """A seed's synthetic rows (the demo ward, the city-scale data set, a test's world): inserted in bulk with
    no change entries, since nobody wrote them. Never for a product write: that is `audit.changes.changes_create`."""
    with bulk_writes_permitted():
        return model.objects.bulk_create(objs, **options)
