"""The plan committee's report: every table of a release and its charts on one HTML page.

Built from what `release_tables` answers (published figures, the reader's areas), so the page shows
nothing the JSON does not.
"""

from __future__ import annotations

from django.utils.html import escape

from plan_statistics import charts
from plan_statistics.selectors import release_tables, release_trend, share


def _top(figures: dict) -> dict | None:
    """The widest published area the reader sees (the ward, else their first council area)."""
    published = [a for a in figures["areas"] if a["published"]]
    return next((a for level in ("ward", "council", "district") for a in published if a["level"] == level), None)


def release_chart(*, release, scope, user, chart: str) -> str:
    tables = {t["table"]: t for t in release_tables(release=release, scope=scope, user=user)}
    area_name = release.ward.name if scope.council_area_ids is None else "担当の地区協議会"
    if chart == "trend":
        return charts.trend_svg(area=area_name, series={
            "訪問・連絡": release_trend(release=release, scope=scope, table="visits"),
            "安否確認": release_trend(release=release, scope=scope, table="safety_check_acknowledgement"),
            "つなぎ": release_trend(release=release, scope=scope, table="referral_flow"),
        })
    if chart == "referral_flow":
        figures = tables["referral_flow"]
        return charts.referral_flow_svg(figures=figures, area=_top(figures))
    figures = tables["safety_check_acknowledgement"]
    return charts.acknowledgement_svg(figures=figures, area=_top(figures))


def _table_html(figures: dict) -> str:
    cols = figures["cols"]
    single = len(cols) == 1
    parts = [f"<h2>{escape(figures['title'])}</h2>"]
    for area in figures["areas"]:
        if not area["published"]:
            continue
        head = "".join(f"<th>{escape(c['label'])}</th>" for c in cols) + ("" if single else "<th>計</th>")
        body = []
        for r, row in enumerate(figures["rows"]):
            cells = "".join(f"<td>{'x' if v is None else v}</td>" for v in area["cells"][r])
            total = "" if single else f"<td>{'x' if area['row_totals'][r] is None else area['row_totals'][r]}</td>"
            body.append(f"<tr><th>{escape(row['label'])}</th>{cells}{total}</tr>")
        column = [area["total"]] if single else [*area["col_totals"], area["total"]]
        body.append("<tr><th>計</th>" + "".join(f"<td>{'x' if v is None else v}</td>" for v in column) + "</tr>")
        note = ""
        if area.get("statistic"):
            s = area["statistic"]
            unit = "分" if s["unit"] == "minutes" else "時間"
            note = f"<p>{escape(s['label'])}: 中央値 {s['median']}{unit}、90パーセンタイル {s['p90']}{unit}</p>"
        if figures["table"] == "safety_check_acknowledgement":
            cells = [row[0] for row in area["cells"]]
            within_hour = None if None in cells[:2] else cells[0] + cells[1]
            within_day = None if None in cells[:4] else sum(cells[:4])
            note += (f"<p>1時間以内の受付 {_pct(share(within_hour, area['total']))}、"
                     f"24時間以内 {_pct(share(within_day, area['total']))}</p>")
        if figures["table"] == "commissioner_fill":
            note += f"<p>充足率 {_pct(share(area['cells'][0][0], area['total']))}</p>"
        parts.append(f"<h3>{escape(area['name'])}</h3><table><tr><th></th>{head}</tr>{''.join(body)}</table>{note}")
    return "\n".join(parts)


def _pct(value: float | None) -> str:
    return "x" if value is None else f"{value}%"


def report_html(*, release, scope, user) -> str:
    tables = release_tables(release=release, scope=scope, user=user)
    svgs = [release_chart(release=release, scope=scope, user=user, chart=chart) for chart in charts.CHARTS]
    svgs = [svg[svg.index("<svg"):] for svg in svgs]  # inline: drop the XML prolog
    style = ("body{font-family:'IPAexGothic','Noto Sans JP',sans-serif;margin:2em}"
             "table{border-collapse:collapse;margin-bottom:1em}td,th{border:1px solid #999;padding:2px 6px}"
             "td{text-align:right}")
    return (f"<!DOCTYPE html><html lang=\"ja\"><head><meta charset=\"utf-8\"><title>地域福祉計画 統計 "
            f"{escape(release.ward.name)} {escape(release.period)}</title><style>{style}</style></head><body>"
            f"<h1>地域福祉計画推進委員会 資料：{escape(release.ward.name)} {escape(release.period)}</h1>"
            f"<p>公表日時 {release.released_at:%Y-%m-%d %H:%M}、秘匿基準 {release.parameters['k']}未満は「x」</p>"
            + "".join(f"<figure>{svg}</figure>" for svg in svgs) + "".join(_table_html(t) for t in tables)
            + "</body></html>")
