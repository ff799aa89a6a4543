"""Vega-Lite charts for the SLA page, from the pure series in `checks.metrics`.

Vega-Lite, not Plotly: the browser loads Streamlit's Plotly bundle (4.7 MB of JavaScript) on the first
chart of a session and was busy over a second with it, on top of the page; Vega's is a fifth of that.
The specs are plain dicts (`st.vega_lite_chart`), not Altair objects: building and validating two
Altair charts took a third of a second of the server's CPU per render. Both for the figure "Chromium,
menu link: SLA metrics" in README "Console figures".
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import streamlit as st

from checks.metrics import BreachCount, RatePoint

Spec = dict[str, Any]

COLORS = {
    "on_time": "#2e7d32",
    "late": "#c62828",
    "open_breach": "#ef6c00",
    "open": "#90a4ae",
    "naive": "#b0bec5",
    "true": "#c62828",
}
# One name per outcome, the same as the page's figures (SPEC §6 `open_breach` is "open, late").
OUTCOME_NAMES = {"on_time": "on time", "late": "shipped late", "open_breach": "open, late"}
HEIGHT = 280
EMPTY = "No orders were due in this period."


@dataclass(frozen=True)
class Chart:
    title: str
    spec: Spec  # a Vega-Lite specification, its data inline
    empty: bool  # nothing to draw: the page says so instead of drawing empty axes


def round_ticks(top: int, ticks: int = 5) -> list[int]:
    """Axis values from 0 in whole, round steps (1, 2, 5 × 10ⁿ), never ticks such as 19.9 or 39.7."""
    step = 1
    while top / step > ticks:
        step = _next_round(step)
    return list(range(0, max(step, -(-top // step) * step) + 1, step))


def _next_round(step: int) -> int:
    digits = str(step)
    head, zeros = int(digits[0]), len(digits) - 1
    return {1: 2, 2: 5, 5: 10}[head] * 10**zeros


def _counts(field: str, top: int, orient: str) -> Spec:
    """A quantitative channel of order counts, from 0 with round ticks."""
    values = round_ticks(top)
    return {
        "field": field,
        "type": "quantitative",
        "stack": "zero",
        "scale": {"domain": [0, values[-1]]},
        "axis": {"values": values, "title": "orders", "orient": orient, "format": "d"},
    }


def _colors(names: dict[str, str]) -> Spec:
    return {"domain": list(names.values()), "range": [COLORS[k] for k in names]}


def _chart(title: str, rows: list[dict[str, Any]], *, empty: bool, **spec: Any) -> Chart:
    return Chart(
        title,
        {
            "title": title,
            "height": HEIGHT,
            "data": {"values": rows},
            "config": {"legend": {"orient": "bottom"}},
            **spec,
        },
        empty=empty,
    )


def rate_chart(points: Sequence[RatePoint], title: str) -> Chart:
    """Orders per period by outcome as stacked bars (right axis), the on-time rate as a line (left)."""
    names = {o: OUTCOME_NAMES[o] for o in ("on_time", "late", "open_breach")}
    rows = [
        {"period": str(p.period), "outcome": name, "orders": getattr(p, o), "rate": p.rate}
        for p in points
        for o, name in names.items()
    ]
    top = max((p.on_time + p.late + p.open_breach for p in points), default=0)
    period = {"field": "period", "type": "ordinal", "title": None}
    bars = {
        "mark": {"type": "bar", "opacity": 0.35},
        "encoding": {
            "x": period,
            "y": _counts("orders", top, "right"),
            "color": {"field": "outcome", "type": "nominal", "title": None, "scale": _colors(names)},
            "tooltip": [{"field": "period"}, {"field": "outcome"}, {"field": "orders"}],
        },
    }
    line = {  # one point per period: the rows of its first outcome
        "transform": [{"filter": {"field": "outcome", "equal": names["on_time"]}}],
        "mark": {"type": "line", "point": True, "color": "#1565c0", "strokeWidth": 3},
        "encoding": {
            "x": period,
            "y": {
                "field": "rate",
                "type": "quantitative",
                "title": "on-time rate",
                "scale": {"domain": [0, 1]},
                "axis": {"format": ".0%", "orient": "left"},
            },
            "tooltip": [{"field": "period"}, {"field": "rate", "format": ".1%"}],
        },
    }
    return _chart(title, rows, empty=top == 0, layer=[bars, line], resolve={"scale": {"y": "independent"}})


def breach_chart(counts: Sequence[BreachCount], title: str) -> Chart:
    """Breaches per value of a breakdown key, most first, as stacked horizontal bars."""
    names = {"late": "shipped late", "open_breach": OUTCOME_NAMES["open_breach"]}
    rows = [
        {"value": c.value or "unknown", "outcome": name, "orders": getattr(c, o)}
        for c in counts
        for o, name in names.items()
    ]
    top = max((c.late + c.open_breach for c in counts), default=0)
    return _chart(
        title,
        rows,
        empty=top == 0,
        mark="bar",
        encoding={
            "y": {
                "field": "value",
                "type": "nominal",
                "title": None,
                "sort": [c.value or "unknown" for c in counts],
            },
            "x": _counts("orders", top, "bottom"),
            "color": {"field": "outcome", "type": "nominal", "title": None, "scale": _colors(names)},
            "tooltip": [{"field": "value"}, {"field": "outcome"}, {"field": "orders"}],
        },
    )


def ship_time_chart(histogram: Sequence[tuple[int, int]]) -> Chart:
    """Bars of (whole hours from order to shipment, orders), counted by the database."""
    return _chart(
        "Time to ship",
        [{"hours": h, "orders": n} for h, n in histogram],
        empty=not any(n for _, n in histogram),
        mark={"type": "bar", "color": "#1565c0"},
        encoding={
            "x": {"field": "hours", "type": "quantitative", "title": "hours from order to shipment"},
            "y": {"field": "orders", "type": "quantitative", "title": "orders"},
            "tooltip": [{"field": "hours"}, {"field": "orders"}],
        },
    )


def naive_chart(series: Sequence[dict[str, object]]) -> Chart:
    """At each day's end: what a naive dashboard calls overdue against the true queue."""
    names = {"naive": "naive dashboard", "true": "true overdue (queue)"}
    return _chart(
        "Naive versus true overdue, at each day's end",
        [{"day": str(s["day"]), "series": name, "orders": s[k]} for s in series for k, name in names.items()],
        empty=not any(s[k] for s in series for k in names),
        mark={"type": "area", "opacity": 0.45, "line": True},
        encoding={
            "x": {"field": "day", "type": "ordinal", "title": None},
            "y": {"field": "orders", "type": "quantitative", "title": "orders", "stack": None},
            "color": {"field": "series", "type": "nominal", "title": None, "scale": _colors(names)},
            "tooltip": [{"field": "day"}, {"field": "series"}, {"field": "orders"}],
        },
    )


def show(chart: Chart, key: str, empty: str = EMPTY) -> None:
    """The chart, or under its title a plain note when there is nothing to draw (never empty axes)."""
    if chart.empty:
        with st.container(key=f"{key}.empty", height=HEIGHT + 40, border=False):
            st.markdown(f"**{chart.title}**")
            st.info(empty, icon=":material/event_busy:")
        return
    st.vega_lite_chart(chart.spec, key=key, width="stretch")
