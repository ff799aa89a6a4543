"""The report's charts as self-contained images: inline SVG for HTML, PNG data URIs for PDF.

matplotlib (Agg) draws them with no browser and no network; text is drawn as paths, so the file needs no
font on the reader's machine. The SVG's RDF metadata (which names external vocabularies) is dropped.
"""

from __future__ import annotations

import base64
import io
import re
from collections.abc import Sequence
from typing import Any, Literal

import matplotlib
from matplotlib.figure import Figure
from matplotlib.ticker import PercentFormatter

from checks.metrics import BreachCount, RatePoint
from services.reports.stages import STAGE_TITLES, STAGES, StageFigure

Format = Literal["svg", "png"]
COLORS = {"on_time": "#2e7d32", "late": "#c62828", "open_breach": "#ef6c00", "rate": "#1565c0"}
STAGE_COLORS = {"handoff": "#5c6bc0", "3pl": "#26a69a", "first_scan": "#8d6e63"}
matplotlib.rcParams.update({"svg.fonttype": "path", "svg.hashsalt": "order-recon", "font.size": 9})
_METADATA = re.compile(r"<metadata>.*?</metadata>", re.DOTALL)


def _figure(width: float, height: float) -> tuple[Figure, Any]:
    # A Figure without pyplot: no global figure registry, so pages drawing at once do not interfere.
    figure = Figure(figsize=(width, height))
    return figure, figure.subplots()


def _export(figure: Figure, fmt: Format) -> str:
    """The figure as inline SVG markup or as a PNG data URI."""
    buffer = io.BytesIO()
    figure.tight_layout()
    if fmt == "svg":
        figure.savefig(buffer, format="svg", metadata={"Date": None})
        svg = buffer.getvalue().decode()
        return _METADATA.sub("", svg[svg.index("<svg") :])
    figure.savefig(buffer, format="png", dpi=110)
    return "data:image/png;base64," + base64.b64encode(buffer.getvalue()).decode()


def rate_chart(points: Sequence[RatePoint], title: str, fmt: Format) -> str:
    """Outcomes per period as stacked bars, the on-time rate as a line on its own axis."""
    figure, bars = _figure(7.5, 2.8)
    labels = [p.period.strftime("%b %d") for p in points]
    positions = range(len(points))
    bottom = [0] * len(points)
    for outcome in ("on_time", "late", "open_breach"):
        values = [getattr(p, outcome) for p in points]
        bars.bar(
            positions,
            values,
            bottom=bottom,
            color=COLORS[outcome],
            alpha=0.45,
            label=outcome.replace("_", " "),
        )
        bottom = [b + v for b, v in zip(bottom, values, strict=True)]
    bars.set_ylabel("orders")
    rate = bars.twinx()
    rate.plot(
        positions,
        [p.rate if p.rate is not None else float("nan") for p in points],
        color=COLORS["rate"],
        marker="o",
    )
    rate.set_ylim(0, 1.05)
    rate.yaxis.set_major_formatter(PercentFormatter(1.0))
    rate.set_ylabel("on-time rate")
    step = max(1, len(points) // 10)
    bars.set_xticks(list(positions)[::step], labels[::step])
    bars.legend(loc="lower left", fontsize=7, ncols=3)
    bars.set_title(title)
    return _export(figure, fmt)


def bar_chart(labels: Sequence[str], values: Sequence[int], title: str, fmt: Format, color: str) -> str:
    figure, axes = _figure(3.6, 0.6 + 0.28 * max(1, len(labels)))
    axes.barh(list(reversed(labels)), list(reversed(values)), color=color)
    for y, value in enumerate(reversed(values)):
        axes.annotate(
            f"{value:,}", (value, y), xytext=(3, 0), textcoords="offset points", va="center", fontsize=7
        )
    axes.set_title(title)
    axes.margins(x=0.15)
    return _export(figure, fmt)


def breach_chart(counts: Sequence[BreachCount], title: str, fmt: Format, top: int = 10) -> str:
    shown = list(counts[:top])
    return bar_chart(
        [c.value or "unknown" for c in shown], [c.breaches for c in shown], title, fmt, COLORS["late"]
    )


def stage_chart(figures: Sequence[StageFigure], fmt: Format) -> str:
    """Per warehouse, one bar per stage at its median, with a tick at its 90th percentile."""
    warehouses = list(dict.fromkeys(f.warehouse for f in figures))
    by_key = {(f.warehouse, f.stage): f for f in figures}
    figure, axes = _figure(7.5, 1.0 + 0.55 * max(1, len(warehouses)))
    height = 0.8 / len(STAGES)
    for index, stage in enumerate(STAGES):
        ys = [w_index + (index - 1) * height for w_index in range(len(warehouses))]
        stats = [by_key.get((w, stage)) for w in warehouses]
        medians = [s.median_hours if s and s.median_hours is not None else 0.0 for s in stats]
        p90s = [s.p90_hours if s and s.p90_hours is not None else float("nan") for s in stats]
        axes.barh(
            ys, medians, height=height, color=STAGE_COLORS[stage], label=f"{STAGE_TITLES[stage]}: median"
        )
        axes.scatter(p90s, ys, marker="|", s=120, color="#212121", zorder=3)
    axes.scatter([], [], marker="|", s=120, color="#212121", label="90th percentile")
    axes.set_yticks(range(len(warehouses)), warehouses)
    axes.invert_yaxis()
    axes.set_xlabel("hours")
    axes.legend(loc="lower right", fontsize=7)
    axes.set_title("Where the time went, per warehouse")
    return _export(figure, fmt)
