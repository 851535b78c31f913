"""Releases of the ward plan's statistics: who released which tables for which ward and period, frozen.

A `PublishedTable` is one table for one ward and one period key (the month or fiscal year of a flow
table; `as_of:<date>` for a table measured at a date, so March and the fiscal year share one). Once it
exists it is never recomputed: a later release of the same period, or of a period that shares it, reads
it back, so a late change to the records cannot leak by difference. `figures` is what is served;
`withheld` keeps the true counts of every area, published or not, for the audit of later releases
linked to it (a fiscal year and its months) and is never served.
"""

from django.conf import settings
from django.db import models
from django.utils import timezone

from cases.models import Ward


class PublishedTable(models.Model):
    ward = models.ForeignKey(Ward, on_delete=models.PROTECT, related_name="+", db_index=False)
    table = models.CharField(max_length=40)
    period_key = models.CharField(max_length=24, help_text="2025-04, FY2025, or as_of:2026-03-31.")
    figures = models.JSONField(help_text="The published, suppressed figures (what readers get).")
    withheld = models.JSONField(help_text="Every area's true counts and what was withheld; never served.")
    created_at = models.DateTimeField(default=timezone.now, editable=False)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["ward", "table", "period_key"],
                                               name="published_table_frozen_once")]

    def __str__(self) -> str:
        return f"{self.table} {self.period_key}"


class Release(models.Model):
    """One release: a ward's full set of tables for one period, with the parameters it was made under."""

    ward = models.ForeignKey(Ward, on_delete=models.PROTECT, related_name="+", db_index=False)
    period = models.CharField(max_length=8, help_text="2025-04 or FY2025.")
    released_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    released_at = models.DateTimeField(default=timezone.now)
    parameters = models.JSONField(help_text="k, the mostly-suppressed share, the tables and which were reused.")
    tables = models.ManyToManyField(PublishedTable, related_name="releases")

    class Meta:
        constraints = [models.UniqueConstraint(fields=["ward", "period"], name="release_once_per_period")]
        ordering = ["-released_at", "-id"]

    def __str__(self) -> str:
        return f"Release {self.pk} ({self.period})"
