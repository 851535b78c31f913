"""Charts of a release, drawn server-side from its published figures only (withheld cells are drawn as "x").

SVG with the text kept as text (`svg.fonttype: none`), in IPAex Gothic (the font japanize-matplotlib
ships, as the disclosure PDF uses: ADR 0004), so the labels are Japanese, searchable and checked by the
tests. matplotlib draws with its non-interactive Agg machinery and one lock: pyplot is not thread-safe.
"""

from __future__ import annotations

import io
import threading

import matplotlib

matplotlib.use("Agg")
import japanize_matplotlib  # noqa: E402,F401  (registers IPAex Gothic with matplotlib)
from matplotlib.figure import Figure  # noqa: E402

CHARTS = ("trend", "referral_flow", "acknowledgement")
_LOCK = threading.Lock()
_STYLE = {"svg.fonttype": "none", "font.family": "IPAexGothic", "svg.hashsalt": "mimamori"}


def _svg(figure: Figure) -> str:
    out = io.StringIO()
    with matplotlib.rc_context(_STYLE):
        figure.savefig(out, format="svg", bbox_inches="tight", metadata={"Date": None})
    return out.getvalue()


def _figure(width: float, height: float) -> Figure:
    with matplotlib.rc_context(_STYLE):
        return Figure(figsize=(width, height))


def trend_svg(*, series: dict[str, list[tuple[str, int | None]]], area: str) -> str:
    """Month by month through the fiscal year (gaps where a month is withheld or not released)."""
    with _LOCK, matplotlib.rc_context(_STYLE):
        figure = _figure(7, 3.5)
        axes = figure.subplots()
        months: list[str] = []
        for label, points in series.items():
            months = [f"{int(code[5:])}月" for code, _ in points]
            axes.plot(range(len(points)), [float("nan") if v is None else v for _, v in points], marker="o",
                      label=label)
        axes.set_xticks(range(len(months)), labels=months)
        axes.set_title(f"月別の推移（{area}）")
        axes.set_xlabel("月")
        axes.set_ylabel("件数")
        axes.legend()
        return _svg(figure)


def referral_flow_svg(*, figures: dict, area: dict) -> str:
    """The referral flow between sectors: senders × receivers, a heat map of the published counts."""
    rows = [r["label"] for r in figures["rows"]]
    cols = [c["label"] for c in figures["cols"]]
    cells = area["cells"]
    with _LOCK, matplotlib.rc_context(_STYLE):
        figure = _figure(8, 6)
        axes = figure.subplots()
        values = [[float("nan") if v is None else v for v in row] for row in cells]
        axes.imshow(values, cmap="Blues")
        axes.set_xticks(range(len(cols)), labels=cols, rotation=45, ha="right")
        axes.set_yticks(range(len(rows)), labels=rows)
        for r, row in enumerate(cells):
            for c, value in enumerate(row):
                axes.text(c, r, "x" if value is None else str(value), ha="center", va="center", fontsize=8)
        axes.set_title(f"つなぎの流れ（依頼元→依頼先）{area['name']}")
        axes.set_xlabel("依頼先")
        axes.set_ylabel("依頼元")
        return _svg(figure)


def acknowledgement_svg(*, figures: dict, area: dict) -> str:
    """How long safety checks waited to be acknowledged: one bar per band, "x" where withheld."""
    labels = [r["label"] for r in figures["rows"]]
    counts = [row[0] for row in area["cells"]]
    with _LOCK, matplotlib.rc_context(_STYLE):
        figure = _figure(7, 3.5)
        axes = figure.subplots()
        axes.bar(labels, [0 if v is None else v for v in counts], color="#4a7ab5")
        for i, value in enumerate(counts):
            axes.text(i, 0 if value is None else value, "x" if value is None else str(value), ha="center",
                      va="bottom")
        axes.set_title(f"安否確認の受付までの時間（{area['name']}）")
        axes.set_ylabel("件数")
        axes.tick_params(axis="x", labelrotation=20)
        return _svg(figure)
