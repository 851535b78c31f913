"""Reading releases: only the published figures, only the areas the reader may see, every read logged.

Readers are found by `authorize_statistics_read` (permissions/guards.py); a release the reader may not
see answers 404 like a missing one. Each read of a release's figures writes an access-log entry naming the
release (`access_log_reads`, kind `statistics_release`): no resident is in them, but who read which
figures when is kept all the same.
"""

from __future__ import annotations

import csv
import io

from django.db.models import QuerySet

from audit.access_log import access_log_reads
from cases.errors import NotFound
from cases.models import User
from permissions.actors import actor_for
from permissions.guards import StatisticsScope, authorize_statistics_read
from plan_statistics.models import PublishedTable, Release
from plan_statistics.tables import BY_CODE, TABLE_CODES


def releases_visible_to(*, user: User) -> QuerySet[Release]:
    """The releases of every ward whose statistics the user may read (in part or whole)."""
    actor = actor_for(user=user)
    ward_ids = set()
    for ward_id in {s.ward_id for s in actor.standings}:
        try:
            authorize_statistics_read(actor=actor, ward_id=ward_id)
        except NotFound:
            continue
        ward_ids.add(ward_id)
    return Release.objects.filter(ward_id__in=ward_ids).select_related("ward", "released_by").order_by("-id")


def release_get_for_user(*, user: User, release_id: int) -> tuple[Release, StatisticsScope]:
    release = Release.objects.select_related("ward", "released_by").filter(pk=release_id).first()
    if release is None:
        raise NotFound()
    return release, authorize_statistics_read(actor=actor_for(user=user), ward_id=release.ward_id)


def _visible(figures: dict, scope: StatisticsScope) -> dict:
    return {**figures, "areas": [area for area in figures["areas"]
                                 if scope.sees(level=area["level"], council_area_id=area["council_area_id"])]}


def release_tables(*, release: Release, scope: StatisticsScope, user: User,
                   only: str | None = None) -> list[dict]:
    """The release's tables (or one) as published, cut to the reader's areas, in the registry's order; logged."""
    if only is not None and only not in BY_CODE:
        raise NotFound(field="table")
    stored = {t.table: t for t in release.tables.all()}
    codes = [only] if only else [code for code in TABLE_CODES if code in stored]
    if only and only not in stored:
        raise NotFound(field="table")
    access_log_reads(kind="statistics_release", resident_ids=[], categories=[], basis=f"statistics:{release.id}",
                     object_ids=[release.id], user=user)
    return [_visible(stored[code].figures, scope) for code in codes]


def release_trend(*, release: Release, scope: StatisticsScope, table: str) -> list[tuple[str, int | None]]:
    """Month by month through the release's fiscal year: the ward's published total of a flow table (None where
    withheld or not released). Readers of some council areas get the sum over their areas only where each is
    published."""
    from plan_statistics.periods import period_parse

    year = period_parse(release.period if release.period.startswith("FY") else period_parse(release.period).fiscal_year)
    months = [month.code for month in year.months()]
    stored = {t.period_key: t.figures for t in PublishedTable.objects.filter(
        ward_id=release.ward_id, table=table, period_key__in=months)}
    points = []
    for month in months:
        figures = stored.get(month)
        value = None
        if figures is not None:
            areas = [a for a in _visible(figures, scope)["areas"]]
            if scope.council_area_ids is None:
                value = next((a["total"] for a in areas if a["level"] == "ward"), None)
            else:
                councils = [a for a in areas if a["level"] == "council"]
                if councils and all(a["published"] and a["total"] is not None for a in councils):
                    value = sum(a["total"] for a in councils)
        points.append((month, value))
    return points


def table_csv(figures: dict) -> str:
    """One table as CSV: one line per area and row; withheld figures are `x` (as in official Japanese tables),
    areas published at the next level up say where."""
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(["area_level", "area_id", "area", "row", *[c["label"] for c in figures["cols"]], "計"])
    for area in figures["areas"]:
        if not area["published"]:
            writer.writerow([area["level"], area["id"], area["name"], f"→ {area['published_at']}"])
            continue
        for r, row in enumerate(figures["rows"]):
            total = area["row_totals"][r] if area["row_totals"] is not None else area["cells"][r][0]
            writer.writerow([area["level"], area["id"], area["name"], row["label"],
                             *["x" if v is None else v for v in area["cells"][r]], "x" if total is None else total])
        column = area["col_totals"] if area["col_totals"] is not None else [area["total"]]
        writer.writerow([area["level"], area["id"], area["name"], "計", *["x" if v is None else v for v in column],
                         "x" if area["total"] is None else area["total"]])
    return out.getvalue()


def share(numerator: int | None, denominator: int | None) -> float | None:
    """A percentage from two published counts; None when either is withheld (or the base is zero)."""
    if numerator is None or not denominator:
        return None
    return round(100 * numerator / denominator, 1)
