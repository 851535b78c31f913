"""No table of ours keeps an index that another of its indexes already leads with.

PostgreSQL weighs every index of a table each time it plans a query that reads it, and writes every one with
each row. A foreign key gets an index of its own by default (`db_index`); where a composite index or a
uniqueness constraint of the same table begins with that column, the key's own index serves no query the other
does not, and only costs planning and writes (on the city, a note page's scoped query planned 8 % faster and a
five-row grant INSERT took a third less time without them). Such a key is declared with `db_index=False`.
"""

from __future__ import annotations

from django.apps import apps
from django.db import models

OURS = {"cases", "permissions", "api", "audit", "notifications", "integrations", "plan_statistics", "demo",
        "service_directory"}


def _indexes(model: type[models.Model]) -> list[tuple[str, bool, tuple[str, ...]]]:
    """(name, unique, columns) of every plain index the model's table has: its keys' own, its `Meta.indexes`
    and its uniqueness constraints (partial ones and ones on expressions left out: they serve other queries)."""
    meta, found = model._meta, []
    for field in meta.local_fields:
        if field.primary_key:
            continue
        if field.unique:
            found.append((field.name, True, (field.column,)))
        elif field.db_index:
            found.append((field.name, False, (field.column,)))
    for index in meta.indexes:
        if index.fields and index.condition is None and not index.opclasses:
            columns = tuple(meta.get_field(name.lstrip("-")).column for name in index.fields)
            found.append((index.name or "index", False, columns))
    for constraint in meta.constraints:
        if isinstance(constraint, models.UniqueConstraint) and constraint.fields and constraint.condition is None:
            found.append((constraint.name, True, tuple(meta.get_field(name).column for name in constraint.fields)))
    for fields in meta.unique_together:
        found.append(("unique_together", True, tuple(meta.get_field(name).column for name in fields)))
    return found


def _redundant(model: type[models.Model]) -> list[str]:
    indexes, redundant = _indexes(model), []
    for name, unique, columns in indexes:
        if unique:
            continue
        for other, _, other_columns in indexes:
            if other != name and other_columns != columns and other_columns[:len(columns)] == columns:
                redundant.append(f"{model._meta.db_table}: {name} {columns} is led by {other} {other_columns}")
                break
    return redundant


def test_no_index_of_ours_is_led_by_another_of_its_table():
    found = [line for model in apps.get_models() if model._meta.app_label in OURS and not model._meta.auto_created
             for line in _redundant(model)]
    assert found == []


def test_the_check_finds_a_foreign_key_led_by_a_composite_index():
    class Probe(models.Model):  # noqa: DJ008
        group = models.ForeignKey("auth.Group", on_delete=models.CASCADE)
        kind = models.CharField(max_length=4)

        class Meta:
            app_label = "cases"
            indexes = [models.Index(fields=["group", "-kind"], name="probe_group_kind")]

    try:
        assert _redundant(Probe) == [
            "cases_probe: group ('group_id',) is led by probe_group_kind ('group_id', 'kind')"]
    finally:
        apps.all_models["cases"].pop("probe", None)
        apps.clear_cache()
