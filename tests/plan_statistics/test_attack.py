"""The attack on the seeded test world: every month of a fiscal year and the year itself released, then an
adversary who knows every published figure tries to pin each withheld one with a linear program."""

from __future__ import annotations

import pytest
from django.conf import settings

from plan_statistics.models import PublishedTable
from plan_statistics.periods import period_parse
from plan_statistics.services import release_publish
from plan_statistics.tables import TABLES
from tests.plan_statistics.attack import attack


@pytest.mark.parametrize("order", ["months_first"])
def test_no_withheld_figure_is_reconstructed(order, stats_world, capsys):
    supervisor = stats_world.users["ward_supervisor"]
    ward_id = stats_world.district_a.council_area.ward_id
    year = period_parse("FY2024")
    periods = [m.code for m in year.months()]
    periods = [*periods, "FY2024"] if order == "months_first" else ["FY2024", *periods]
    for period in periods:
        release_publish(actor=supervisor, ward_id=ward_id, period=period)
    # 12 months × 6 flow tables + FY × 6 + 12 as-of dates × 3 stock tables (March's shared with the year)
    flows = sum(spec.flow for spec in TABLES)
    assert PublishedTable.objects.count() == 13 * flows + 12 * (len(TABLES) - flows)
    report = attack(ward=stats_world.district_a.council_area.ward, k=settings.STATISTICS_MIN_CELL)
    with capsys.disabled():
        print(f"\nattack ({order}): {report.line()}")
    assert report.suppressed > 0, "nothing was withheld: the test world proves nothing"
    assert report.reconstructed == 0
