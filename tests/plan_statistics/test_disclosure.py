"""Disclosure control on hand-made tables: primary and secondary suppression, the next level up, the year
as the sum of its months, linked tables; each checked by the audit and by the adversary's LP."""

from __future__ import annotations

from plan_statistics.disclosure import (
    Instance,
    Link,
    audit,
    equations,
    figures_of,
    leaks,
    protect,
)

K = 10


def _table(cells, *, table="t", period="2024-04", area="ward:1", parent=None, **kwargs) -> Instance:
    return Instance(table, period, area, parent, len(cells), len(cells[0]), figures_of(cells), **kwargs)


def test_small_cells_are_withheld_zeros_are_not():
    table = _table([[3, 0, 40], [25, 30, 12]])
    protect([table], k=K)
    assert ("c", 0, 0) in table.withheld and ("c", 0, 1) not in table.withheld
    assert leaks(audit([table], equations([table])), k=K) == []


def test_a_lone_small_cell_gets_a_partner_in_its_row_and_column():
    table = _table([[3, 50, 40], [25, 30, 12], [20, 20, 20]])
    protect([table], k=K)
    row = [pos for pos in table.withheld if pos[0] == "c" and pos[1] == 0]
    column = [pos for pos in table.withheld if pos[0] == "c" and pos[2] == 0]
    assert len(row) >= 2 and len(column) >= 2


def test_the_audit_finds_a_cell_pinned_by_totals():
    table = _table([[3, 50], [25, 30]])
    table.withheld = {("c", 0, 0)}
    (pinned,) = audit([table], equations([table]))
    assert (pinned.position, pinned.value) == (("c", 0, 0), 3)


def test_the_audit_sees_through_a_bridge_that_the_line_rule_misses():
    """Every withheld cell has a withheld partner in its row and its column, yet one is pinned: two 2×2
    cycles joined by one cell (a bridge) — the cell is the difference of what each side must hold."""
    cells = [[3, 4, 0, 0, 20], [5, 6, 0, 0, 20], [0, 7, 8, 9, 20], [0, 0, 2, 4, 20]]
    table = _table(cells)
    table.withheld = {("c", 0, 0), ("c", 0, 1), ("c", 1, 0), ("c", 1, 1), ("c", 2, 1), ("c", 2, 2), ("c", 2, 3),
                      ("c", 3, 2), ("c", 3, 3)}
    pinned = {p.position for p in audit([table], equations([table]))}
    assert ("c", 2, 1) in pinned


def test_an_area_mostly_withheld_is_published_at_the_next_level_up_with_its_siblings():
    ward = _table([[30, 25], [22, 40]])
    small = _table([[3, 2], [1, 4]], area="council:1", parent="ward:1")
    big = _table([[27, 23], [21, 36]], area="council:2", parent="ward:1")
    protect([ward, small, big], k=K, children={("t", "ward:1"): ["council:1", "council:2"]})
    assert ward.published and not small.published and not big.published


def test_the_year_minus_eleven_months_does_not_give_the_twelfth():
    months = [f"2024-{m:02d}" for m in range(4, 13)] + [f"2025-{m:02d}" for m in range(1, 4)]
    instances = [_table([[4 if m == 0 else 20, 30], [25, 30]], period=month, frozen=False)
                 for m, month in enumerate(months)]
    for instance in instances:
        protect([instance], k=K)
        instance.frozen = True
    year = _table([[4 + 11 * 20, 11 * 30 + 30], [12 * 25, 12 * 30]], period="FY2024")
    everything = [*instances, year]
    found = protect(everything, k=K, months={"FY2024": months})
    assert leaks(audit(everything, found), k=K) == []
    assert ("c", 0, 0) in year.withheld  # 224 is safe alone, but with eleven published Aprils it gives April


def test_linked_tables_share_their_withheld_total():
    left = _table([[2], [3]], table="ack")
    right = _table([[1], [4]], table="esc")
    link = Link("ack", "esc", ((("t",), ("t",)),))
    found = protect([left, right], k=K, links=[link])
    assert ("t",) in left.withheld and ("t",) in right.withheld
    assert leaks(audit([left, right], found), k=K) == []


def test_tables_of_districts_are_not_suppressed():
    fill = _table([[2], [1]], table="fill", personal=False)
    protect([fill], k=K)
    assert fill.withheld == set()
