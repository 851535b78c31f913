"""Making a release: count every table for every area of the ward, control disclosure, freeze, record.

`release_publish` is the only writer. It runs in one transaction holding the ward's row lock, so two
releases of one ward never audit against each other's half-written tables; a period already released
answers the stored release (nothing is recounted).
"""

from __future__ import annotations

from collections import defaultdict

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from cases.errors import NotFound, RuleViolation
from cases.models import District, User, Ward
from permissions.actors import actor_for
from permissions.guards import authorize_statistics_release
from plan_statistics import disclosure
from plan_statistics.disclosure import Instance, figures_of
from plan_statistics.models import PublishedTable, Release
from plan_statistics.periods import Period, period_parse
from plan_statistics.tables import BY_CODE, LINKS, TABLES, TableSpec, statistic_of


class Areas:
    """A ward's areas: the ward, its council areas, their districts, with names and parents."""

    def __init__(self, ward: Ward) -> None:
        self.ward = ward
        self.top = f"ward:{ward.id}"
        self.names: dict[str, str] = {self.top: ward.name}
        self.parent: dict[str, str | None] = {self.top: None}
        self.council_of: dict[str, int | None] = {self.top: None}
        self.districts: dict[int, str] = {}
        self.children: dict[str, list[str]] = defaultdict(list)
        for district_id, code, name, area_id, area_name in District.objects.filter(
                council_area__ward=ward).order_by("council_area_id", "code").values_list(
                "id", "code", "name", "council_area_id", "council_area__name"):
            council, district = f"council:{area_id}", f"district:{district_id}"
            if council not in self.names:
                self.names[council], self.parent[council], self.council_of[council] = area_name, self.top, area_id
                self.children[self.top].append(council)
            self.names[district], self.parent[district], self.council_of[district] = f"{code} {name}", council, area_id
            self.children[council].append(district)
            self.districts[district_id] = district

    def levels(self, levels: tuple[str, ...]) -> list[str]:
        return [key for key in self.names if key.split(":")[0] in levels]


def _key(spec: TableSpec, period: Period) -> str:
    return period.code if spec.flow else period.as_of_key


def _count(spec: TableSpec, period: Period, areas: Areas, *, k: int) -> tuple[list[Instance], dict[str, dict]]:
    """The table's true figures for every area (districts counted, the rest summed), and its statistics."""
    rows, cols = len(spec.rows), len(spec.cols)
    by_district = spec.count(areas.ward, period)
    grids: dict[str, list[list[int]]] = {key: [[0] * cols for _ in range(rows)] for key in areas.names}
    samples: dict[str, list[float]] = defaultdict(list)
    found = spec.samples(areas.ward, period) if spec.samples else {}
    for district_id, area in areas.districts.items():
        grid = by_district.get(district_id)
        chain = [area, areas.parent[area], areas.top]
        for key in chain:
            if grid is not None:
                target = grids[key]
                for r in range(rows):
                    for c in range(cols):
                        target[r][c] += grid[r][c]
            samples[key].extend(found.get(district_id, []))
    levels = areas.levels(spec.levels_for(period))
    instances = [Instance(spec.code, _key(spec, period), key, areas.parent[key] if areas.parent[key] in levels
                          or areas.parent[key] is None else None, rows, cols, figures_of(grids[key]),
                          personal=spec.personal) for key in levels]
    statistics = {key: statistic_of(samples[key], statistic=spec.statistic, k=k)
                  for key in levels} if spec.statistic else {}
    return instances, statistics


def _frozen(stored: PublishedTable) -> list[Instance]:
    kept = stored.withheld
    return [Instance(stored.table, stored.period_key, area, entry["parent"], kept["rows"], kept["cols"],
                     {tuple(pos): value for pos, value in entry["values"]}, personal=kept["personal"], frozen=True,
                     published=entry["published"], withheld={tuple(pos) for pos in entry["withheld"]})
            for area, entry in kept["areas"].items()]


def _figures(spec: TableSpec, instances: list[Instance], statistics: dict[str, dict], areas: Areas, *,
             k: int) -> dict:
    rows, cols = len(spec.rows), len(spec.cols)
    shown = []
    for instance in instances:
        level, area_id = instance.area.split(":")
        entry = {"area": instance.area, "level": level, "id": int(area_id), "name": areas.names[instance.area],
                 "parent": instance.parent, "council_area_id": areas.council_of[instance.area],
                 "published": instance.published}
        if instance.published:
            def shown_value(pos, instance=instance):
                return None if pos in instance.withheld else instance.values[pos]
            entry.update({
                "cells": [[shown_value(("c", r, c)) for c in range(cols)] for r in range(rows)],
                "row_totals": [shown_value(("r", r)) for r in range(rows)] if cols > 1 else None,
                "col_totals": [shown_value(("k", c)) for c in range(cols)] if cols > 1 else None,
                "total": shown_value(("t",)),
                "statistic": statistics.get(instance.area),
            })
        else:
            entry["published_at"] = next(
                (a for a in _ancestors(instance, {i.area: i for i in instances}) if a.published), None).area
        shown.append(entry)
    return {"table": spec.code, "title": spec.title, "period_key": instances[0].period, "k": k,
            "flow": spec.flow, "personal": spec.personal,
            "rows": [{"code": code, "label": label} for code, label in spec.rows],
            "cols": [{"code": code, "label": label} for code, label in spec.cols], "areas": shown}


def _ancestors(instance: Instance, by_area: dict[str, Instance]):
    parent = instance.parent
    while parent is not None:
        yield by_area[parent]
        parent = by_area[parent].parent


def _withheld(spec: TableSpec, instances: list[Instance]) -> dict:
    return {"rows": len(spec.rows), "cols": len(spec.cols), "personal": spec.personal, "areas": {
        instance.area: {"parent": instance.parent, "published": instance.published,
                        "values": [[list(pos), value] for pos, value in instance.values.items()],
                        "withheld": sorted(list(pos) for pos in instance.withheld)} for instance in instances}}


def release_publish(*, actor: User, ward_id: int, period: str) -> tuple[Release, bool]:
    """Release the ward's tables for a period that has ended; (the release, whether it was made now).

    A period released before answers its stored release. Tables a release shares with an earlier one
    (March's and the fiscal year's tables measured on 31 March) are read back, not recounted."""
    authorize_statistics_release(actor=actor_for(user=actor), ward_id=ward_id)
    try:
        parsed = period_parse(period)
    except ValueError:
        raise RuleViolation("statistics_period_invalid", field="period") from None
    if parsed.end > timezone.now():
        raise RuleViolation("statistics_period_not_ended", field="period")
    k = settings.STATISTICS_MIN_CELL
    with transaction.atomic():
        ward = Ward.objects.select_for_update().filter(pk=ward_id).first()
        if ward is None:
            raise NotFound(field="ward")
        existing = Release.objects.filter(ward=ward, period=parsed.code).first()
        if existing is not None:
            return existing, False
        areas = Areas(ward)
        year = period_parse(parsed.fiscal_year)
        linked_keys = {year.code, *(month.code for month in year.months())} - {parsed.code}
        stored = {(t.table, t.period_key): t for t in PublishedTable.objects.filter(ward=ward).filter(
            period_key__in=linked_keys | {parsed.code, parsed.as_of_key})}
        instances: list[Instance] = []
        fresh: dict[str, tuple[list[Instance], dict]] = {}
        reused: list[PublishedTable] = []
        for spec in TABLES:
            key = _key(spec, parsed)
            if (spec.code, key) in stored:
                reused.append(stored[(spec.code, key)])
                instances += _frozen(stored[(spec.code, key)])
            else:
                counted, statistics = _count(spec, parsed, areas, k=k)
                fresh[spec.code] = (counted, statistics)
                instances += counted
            if spec.flow:
                for other in sorted(linked_keys):
                    if (spec.code, other) in stored:
                        instances += _frozen(stored[(spec.code, other)])
        children = {(spec.code, parent): kids for spec in TABLES for parent, kids in areas.children.items()
                    if all(kid.split(":")[0] in spec.levels for kid in kids) and kids}
        disclosure.protect(instances, k=k, links=LINKS, children=children,
                           months={year.code: [month.code for month in year.months()]})
        release = Release.objects.create(ward=ward, period=parsed.code, released_by=actor, parameters={
            "k": k, "mostly_suppressed": disclosure.MOSTLY_SUPPRESSED, "tables": [spec.code for spec in TABLES],
            "reused": sorted(f"{t.table}:{t.period_key}" for t in reused),
        })
        made = [PublishedTable(ward=ward, table=code, period_key=counted[0].period,
                               figures=_figures(BY_CODE[code], counted, statistics, areas, k=k),
                               withheld=_withheld(BY_CODE[code], counted))
                for code, (counted, statistics) in fresh.items()]
        PublishedTable.objects.bulk_create(made)
        release.tables.set([*made, *reused])
    return release, True
