"""Disclosure control: which figures of a release may be published, and proof that nothing small can be recovered.

Everything that decides what is withheld lives here (ADR 0016). The input is every *instance* a release
touches — one table for one area and one period, with its true counts — plus the instances already frozen
by earlier releases that are linked to them; the output is, for each new instance, which of its figures are
withheld and whether the area is published at all.

1. **Primary suppression**: a count from 1 to k-1 (k = `STATISTICS_MIN_CELL`, default 10) is withheld —
   inner cells, row and column totals and the grand total alike. Zero is published: a zero tells nobody
   anything about a person.
2. **The next level up**: below the ward, the areas under one parent (the districts of a council area, the
   council areas of the ward) are published all together or not at all, per table and period. When any of
   them is *mostly suppressed* (more than `MOSTLY_SUPPRESSED` of its non-zero cells withheld, or its total
   withheld), none is, and the parent's figures stand for them. All or none, because one unpublished
   child among published siblings would be the parent minus the others.
3. **Secondary suppression, checked by an exact audit**: an adversary knows every published figure and
   every linear identity between figures — the totals of a table, a parent = the sum of its children,
   a fiscal year = the sum of its twelve months, two tables over one population sharing their totals
   (`Link`). `audit` finds every withheld figure those identities pin to one value; the release then
   withholds one more figure next to each pinned one (the smallest non-zero published figure sharing
   an identity with it, in an instance of this release) and audits again, until nothing is pinned.

Why the audit is exact (and cheap). The true table is a point of the adversary's feasible set
{x ≥ 0 : A x = b}. Every withheld figure is positive there: primary ones are 1..k-1, secondary ones are
chosen non-zero, and the audit hands the adversary every zero as if published (more than it knows,
so it can only over-protect). A point strictly inside the bounds can move along any direction d with
A d = 0, so a withheld figure is pinned exactly when every such d leaves it unchanged: when its unit
vector lies in the row space of A restricted to the withheld figures. That is linear algebra on small
blocks: published figures are moved to the right-hand side, the withheld ones fall apart into connected
components, and each component's row space is read from an SVD. Non-negativity cannot pin anything
more, so no LP is needed here; the attack tests solve the LP independently and find the same.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field

import numpy as np

MOSTLY_SUPPRESSED = 0.5
TOLERANCE = 1e-9

Position = tuple  # ("c", r, c) an inner cell, ("r", r) a row total, ("k", c) a column total, ("t",) the total


def positions(rows: int, cols: int) -> list[Position]:
    """Every figure of a rows × cols table: inner cells, then row totals (when there are columns to add up),
    column totals and the grand total."""
    found: list[Position] = [("c", r, c) for r in range(rows) for c in range(cols)]
    if cols > 1:
        found += [("r", r) for r in range(rows)]
        found += [("k", c) for c in range(cols)]
    found.append(("t",))
    return found


def figures_of(cells: list[list[int]]) -> dict[Position, int]:
    """The true figures of a table: its cells with their totals."""
    rows, cols = len(cells), len(cells[0]) if cells else 0
    values: dict[Position, int] = {("c", r, c): cells[r][c] for r in range(rows) for c in range(cols)}
    if cols > 1:
        values.update({("r", r): sum(cells[r]) for r in range(rows)})
        values.update({("k", c): sum(cells[r][c] for r in range(rows)) for c in range(cols)})
    values[("t",)] = sum(map(sum, cells))
    return values


def identities(rows: int, cols: int) -> list[dict[Position, int]]:
    """A table's own identities, each as {figure: coefficient} summing to zero."""
    found: list[dict[Position, int]] = []
    if cols > 1:
        for r in range(rows):
            found.append({**{("c", r, c): 1 for c in range(cols)}, ("r", r): -1})
        for c in range(cols):
            found.append({**{("c", r, c): 1 for r in range(rows)}, ("k", c): -1})
        found.append({**{("k", c): 1 for c in range(cols)}, ("t",): -1})
        found.append({**{("r", r): 1 for r in range(rows)}, ("t",): -1})
    else:
        found.append({**{("c", r, 0): 1 for r in range(rows)}, ("t",): -1})
    return found


@dataclass
class Instance:
    """One table for one area and one period: its true figures and what is withheld of them."""

    table: str
    period: str  # the period key: "2025-04", "FY2025", or "as_of:2026-03-31" for tables measured at a date
    area: str  # "ward:1", "council:3", "district:17"
    parent: str | None
    rows: int
    cols: int
    values: dict[Position, int]
    personal: bool = True
    frozen: bool = False  # released earlier: nothing of it may change now
    published: bool = True
    withheld: set[Position] = field(default_factory=set)

    @property
    def key(self) -> tuple[str, str, str]:
        return (self.table, self.period, self.area)

    def unknown(self) -> set[Position]:
        """What the adversary does not read: withheld figures, or all of an unpublished area."""
        return set(self.values) if not self.published else set(self.withheld)


@dataclass(frozen=True)
class Link:
    """Two tables over the same population share figures: `a`'s figure equals `b`'s, in each area and period."""

    a: str
    b: str
    pairs: tuple[tuple[Position, Position], ...]


@dataclass(frozen=True)
class Pinned:
    table: str
    period: str
    area: str
    position: Position
    value: int


Variable = tuple[str, str, str, Position]


def primary_suppress(instance: Instance, *, k: int) -> None:
    """Withhold every figure from 1 to k-1 (tables that count no people — districts — withhold nothing)."""
    if instance.personal:
        instance.withheld = {pos for pos, value in instance.values.items() if 0 < value < k}


def mostly_suppressed(instance: Instance) -> bool:
    if not instance.personal:
        return False
    if ("t",) in instance.withheld:
        return True
    nonzero = [pos for pos, value in instance.values.items() if value > 0 and pos[0] == "c"]
    withheld = [pos for pos in nonzero if pos in instance.withheld]
    return bool(nonzero) and len(withheld) > MOSTLY_SUPPRESSED * len(nonzero)


def areas_decide(instances: Iterable[Instance]) -> None:
    """Publish the children of a parent all together or not at all (per table and period); the top is always
    published. A frozen instance keeps what it was released as."""
    siblings: dict[tuple[str, str, str], list[Instance]] = defaultdict(list)
    for instance in instances:
        if instance.parent is not None and not instance.frozen:
            siblings[(instance.table, instance.period, instance.parent)].append(instance)
    # Top-down: a child of an unpublished parent is not published either.
    by_key = {instance.key: instance for instance in instances}
    for (table, period, parent), children in sorted(siblings.items(), key=lambda item: _depth(item[0][2])):
        parent_instance = by_key.get((table, period, parent))
        publish = (parent_instance is None or parent_instance.published) and not any(map(mostly_suppressed, children))
        for child in children:
            child.published = publish


def _depth(area: str) -> int:
    return {"ward": 0, "council": 1, "district": 2}.get(area.split(":")[0], 3)


def equations(instances: list[Instance], *, links: Iterable[Link] = (),
              children: dict[tuple[str, str], list[str]] | None = None,
              months: dict[str, list[str]] | None = None) -> list[dict[Variable, int]]:
    """Every identity an adversary may use between the figures of these instances.

    `children` maps (table, parent area) → the child areas that exist (so parent = Σ children holds only
    when all of them are among the instances); `months` maps a fiscal-year period → its twelve months
    (flow tables only: the year is the sum of its months when all twelve are among the instances).
    """
    by_key = {instance.key: instance for instance in instances}
    found: list[dict[Variable, int]] = []
    for instance in instances:
        table, period, area = instance.key
        for identity in identities(instance.rows, instance.cols):
            found.append({(table, period, area, pos): coef for pos, coef in identity.items()})
    for (table, parent), kids in (children or {}).items():
        for period in {i.period for i in instances if i.table == table and i.area == parent}:
            members = [by_key.get((table, period, kid)) for kid in kids]
            if not kids or any(member is None for member in members):
                continue
            top = by_key[(table, period, parent)]
            for pos in top.values:
                identity = {(table, period, parent, pos): -1}
                for kid in kids:
                    identity[(table, period, kid, pos)] = identity.get((table, period, kid, pos), 0) + 1
                found.append(identity)
    for year, parts in (months or {}).items():
        for instance in instances:
            if instance.period != year:
                continue
            members = [by_key.get((instance.table, month, instance.area)) for month in parts]
            if any(member is None for member in members):
                continue
            for pos in instance.values:
                identity = {(instance.table, year, instance.area, pos): -1}
                for month in parts:
                    identity[(instance.table, month, instance.area, pos)] = 1
                found.append(identity)
    for link in links:
        for instance in instances:
            if instance.table != link.a:
                continue
            other = by_key.get((link.b, instance.period, instance.area))
            if other is None:
                continue
            for pos_a, pos_b in link.pairs:
                found.append({(link.a, instance.period, instance.area, pos_a): 1,
                              (link.b, instance.period, instance.area, pos_b): -1})
    return found


def audit(instances: list[Instance], identities_: list[dict[Variable, int]]) -> list[Pinned]:
    """Every figure the adversary cannot read but can compute exactly (see the module's docstring)."""
    by_key = {instance.key: instance for instance in instances}
    unknown: set[Variable] = set()
    for instance in instances:
        for pos in instance.unknown():
            if instance.values[pos] > 0:
                unknown.add((*instance.key, pos))
    reduced: list[list[Variable]] = []
    rows: list[dict[Variable, int]] = []
    for identity in identities_:
        terms = {var: coef for var, coef in identity.items() if var in unknown}
        if terms:
            rows.append(terms)
            reduced.append(list(terms))
    parent: dict[Variable, Variable] = {var: var for var in unknown}

    def find(var: Variable) -> Variable:
        while parent[var] != var:
            parent[var] = parent[parent[var]]
            var = parent[var]
        return var

    for variables in reduced:
        first = find(variables[0])
        for var in variables[1:]:
            root = find(var)
            if root != first:
                parent[root] = first
    blocks: dict[Variable, list[int]] = defaultdict(list)
    for index, variables in enumerate(reduced):
        blocks[find(variables[0])].append(index)
    pinned: list[Pinned] = []
    for row_ids in blocks.values():
        columns = sorted({var for index in row_ids for var in rows[index]})
        column_of = {var: j for j, var in enumerate(columns)}
        matrix = np.zeros((len(row_ids), len(columns)))
        for i, index in enumerate(row_ids):
            for var, coef in rows[index].items():
                matrix[i, column_of[var]] = coef
        _, singular, vt = np.linalg.svd(matrix, full_matrices=False)
        rank = int((singular > TOLERANCE * max(1.0, singular[0] if len(singular) else 1.0)).sum())
        leverage = (vt[:rank] ** 2).sum(axis=0)
        for j, var in enumerate(columns):
            if leverage[j] > 1 - 1e-7:
                table, period, area, pos = var
                pinned.append(Pinned(table, period, area, pos, by_key[(table, period, area)].values[pos]))
    return sorted(pinned, key=lambda p: (p.table, p.period, p.area, p.position))


def leaks(pinned: Iterable[Pinned], *, k: int) -> list[Pinned]:
    """The pinned figures that matter: those from 1 to k-1 (a pinned figure of k or more could have been
    published; a pinned zero was handed to the adversary as published)."""
    return [found for found in pinned if 0 < found.value < k]


def secondary_suppress(instances: list[Instance], identities_: list[dict[Variable, int]], *, k: int,
                       limit: int = 100_000) -> int:
    """Withhold more figures of the unfrozen, published instances until the audit pins no figure below k;
    returns how many were added. Each round withholds, next to every pinned figure, the smallest non-zero published
    figure of this release that shares an identity with it (else the smallest in its table and period)."""
    by_key = {instance.key: instance for instance in instances}
    touching: dict[Variable, list[int]] = defaultdict(list)
    for index, identity in enumerate(identities_):
        for var in identity:
            touching[var].append(index)
    added = 0
    for _ in range(limit):
        pinned = leaks(audit(instances, identities_), k=k)
        if not pinned:
            return added
        chosen: set[Variable] = set()
        for found in pinned:
            var = (found.table, found.period, found.area, found.position)
            candidates = {other for index in touching[var] for other in identities_[index]
                          if _candidate(by_key, other)}
            if not candidates:
                candidates = {(*instance.key, pos) for instance in instances
                              if instance.table == found.table and instance.period == found.period
                              for pos in instance.values if _candidate(by_key, (*instance.key, pos))}
            if not candidates:
                candidates = {(*instance.key, pos) for instance in instances for pos in instance.values
                              if _candidate(by_key, (*instance.key, pos))}
            if not candidates:
                raise RuntimeError("nothing left to withhold, yet a figure is pinned: the frozen releases leak")
            chosen.add(min(candidates, key=lambda v: (by_key[v[:3]].values[v[3]], _order(v))))
        for table, period, area, pos in chosen:
            by_key[(table, period, area)].withheld.add(pos)
            added += 1
    raise RuntimeError("secondary suppression did not converge")


def _candidate(by_key: dict, var: Variable) -> bool:
    instance = by_key.get(var[:3])
    return (instance is not None and not instance.frozen and instance.published and instance.personal
            and var[3] not in instance.withheld and instance.values[var[3]] > 0)


def _order(var: Variable) -> tuple:
    table, period, area, pos = var
    return (table, period, area, tuple(str(p) for p in pos))


def modelled(instances: list[Instance], children: dict[tuple[str, str], list[str]]
             ) -> tuple[list[Instance], dict[tuple[str, str], list[str]]]:
    """The instances the audit must model, and the parent → children identities among them.

    A group of siblings (one table, one parent) that is unpublished in every period at hand tells the
    adversary only that its members add up to the parent: with two or more members each may hold anything
    from 0 to the parent's figure, so nothing in it can be pinned and it is left out (the attack tests
    keep it in and confirm). A group published in some period is modelled in every period, unpublished
    members too: the year minus eleven published months would otherwise give the twelfth."""
    published_groups = {(i.table, i.parent) for i in instances if i.parent is not None and i.published}
    kept = [i for i in instances if i.parent is None or (i.table, i.parent) in published_groups]
    return kept, {group: kids for group, kids in children.items() if group in published_groups}


def protect(instances: list[Instance], *, k: int, links: Iterable[Link] = (),
            children: dict[tuple[str, str], list[str]] | None = None,
            months: dict[str, list[str]] | None = None) -> list[dict[Variable, int]]:
    """The whole control for the unfrozen instances, in order: primary, the next level up, secondary.
    Returns the identities it audited against."""
    for instance in instances:
        if not instance.frozen:
            primary_suppress(instance, k=k)
    areas_decide(instances)
    kept, groups = modelled(instances, children or {})
    found = equations(kept, links=links, children=groups, months=months)
    secondary_suppress(kept, found, k=k)
    return found
