"""Rules about one kind of row written once, as lookups: the filter and the field of one row both read them.

`Task.objects.overdue(now=)` filters by a rule; `task.is_overdue(now=)` answers it for the row in hand;
`lookups_hold` makes the second out of the first, so the two cannot drift apart.
"""

from __future__ import annotations

from cases.models.audited import AuditedQuerySet


class OverdueQuerySet(AuditedQuerySet):
    """The rows of a model whose `overdue_lookups(now)` says when one of its rows is overdue."""

    def overdue(self, *, now):
        return self.filter(**self.model.overdue_lookups(now))

    def not_overdue(self, *, now):
        return self.exclude(**self.model.overdue_lookups(now))


def lookups_hold(row, lookups: dict) -> bool:
    """Whether one row (a model instance, or a dict of `values()`) meets `lookups` as `filter(**lookups)` would.

    So that a rule written once as lookups answers both the filter and the field of one row. Only what the
    rules use: `field` (equal) and `field__lt`; a null is never less than anything (as in SQL).
    """
    for lookup, expected in lookups.items():
        name, _, operator = lookup.partition("__")
        value = row[name] if isinstance(row, dict) else getattr(row, name)
        if operator == "":
            if value != expected:
                return False
        elif operator == "lt":
            if value is None or expected is None or not value < expected:
                return False
        else:
            raise ValueError(f"lookups_hold does not know __{operator}")
    return True
