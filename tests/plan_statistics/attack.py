"""The adversary: everything published by every release of a ward, and every identity between the figures,
fed to a linear program that bounds each withheld figure (scipy's HiGHS), independently of the audit in
plan_statistics/disclosure.py.

Unlike the audit it is told nothing it could not read: withheld figures and whole unpublished areas are
unknowns bounded only by 0, every area is modelled (districts that were never published too), and the
identities are all of them: a table's totals, parent = Σ children, the fiscal year = Σ its months, the
tables linked by one population. A withheld figure is *reconstructed* when its minimum and maximum agree.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass

import numpy as np
from scipy.optimize import linprog
from scipy.sparse import lil_matrix

from plan_statistics import disclosure
from plan_statistics.models import PublishedTable
from plan_statistics.periods import period_parse
from plan_statistics.services import Areas, _frozen
from plan_statistics.tables import BY_CODE, LINKS


@dataclass
class AttackReport:
    tables: int = 0
    cells: int = 0
    suppressed: int = 0
    reconstructed: int = 0
    narrowest: float = float("inf")

    def line(self) -> str:
        return (f"tables × cells × suppressed × reconstructed = {self.tables} × {self.cells} × {self.suppressed} × "
                f"{self.reconstructed} (narrowest interval of a withheld figure: {self.narrowest:g})")


def attack(*, ward, k: int) -> AttackReport:
    stored = list(PublishedTable.objects.filter(ward=ward))
    instances = [instance for table in stored for instance in _frozen(table)]
    areas = Areas(ward)
    children = {(code, parent): kids for code, spec in BY_CODE.items() for parent, kids in areas.children.items()
                if kids and all(kid.split(":")[0] in spec.levels for kid in kids)}
    years = {period_parse(i.period).code for i in instances if i.period.startswith("FY")}
    months = {year: [m.code for m in period_parse(year).months()] for year in years}
    identities = disclosure.equations(instances, links=LINKS, children=children, months=months)
    report = AttackReport(tables=len(stored))
    by_key = {i.key: i for i in instances}
    unknown = sorted({(*i.key, pos) for i in instances for pos in i.unknown()}, key=repr)
    report.cells = sum(len(i.values) for i in instances if i.published)
    column = {var: j for j, var in enumerate(unknown)}
    rows, rhs = [], []
    for identity in identities:
        terms = {var: coef for var, coef in identity.items() if var in column}
        if not terms:
            continue
        known = sum(coef * by_key[var[:3]].values[var[3]] for var, coef in identity.items() if var not in column)
        rows.append(terms)
        rhs.append(-known)
    # Solve per connected block of unknowns.
    parent = list(range(len(unknown)))

    def find(i):
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    for terms in rows:
        ids = [column[v] for v in terms]
        for j in ids[1:]:
            a, b = find(ids[0]), find(j)
            if a != b:
                parent[b] = a
    blocks_rows: dict[int, list[int]] = defaultdict(list)
    for index, terms in enumerate(rows):
        blocks_rows[find(column[next(iter(terms))])].append(index)
    blocks_vars: dict[int, list[int]] = defaultdict(list)
    for j in range(len(unknown)):
        blocks_vars[find(j)].append(j)
    targets = [(j, var) for j, var in enumerate(unknown) if 0 < by_key[var[:3]].values[var[3]] < k
               and by_key[var[:3]].personal]
    report.suppressed = len(targets)
    wanted = {find(j) for j, _ in targets}
    for root in wanted:
        members = blocks_vars[root]
        local = {j: i for i, j in enumerate(members)}
        equations = blocks_rows.get(root, [])
        matrix = lil_matrix((max(1, len(equations)), len(members)))
        b = np.zeros(max(1, len(equations)))
        for e, index in enumerate(equations):
            for var, coef in rows[index].items():
                matrix[e, local[column[var]]] = coef
            b[e] = rhs[index]
        matrix = matrix.tocsr()
        for j, var in targets:
            if find(j) != root:
                continue
            cost = np.zeros(len(members))
            cost[local[j]] = 1
            low = linprog(cost, A_eq=matrix, b_eq=b, bounds=(0, None), method="highs")
            high = linprog(-cost, A_eq=matrix, b_eq=b, bounds=(0, None), method="highs")
            if high.status == 3:  # unbounded above: certainly not pinned
                width = float("inf")
            else:
                assert low.status == 0 and high.status == 0, (var, low.message, high.message)
                width = -high.fun - low.fun
            report.narrowest = min(report.narrowest, width)
            if width < 0.5:
                report.reconstructed += 1
    return report
