"""Plotly figures for the SLA page, from the pure series in `checks.metrics`."""

from __future__ import annotations

from collections.abc import Sequence

import plotly.graph_objects as go
import streamlit as st

from checks.metrics import BreachCount, RatePoint

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
LAYOUT = {
    "margin": {"l": 10, "r": 10, "t": 40, "b": 10},
    "height": 320,
    "legend": {"orientation": "h", "y": -0.2},
}


def round_ticks(top: int, ticks: int = 5) -> dict[str, object]:
    """An axis from 0 with whole, round steps (1, 2, 5 × 10ⁿ), never ticks such as 19.9 or 39.7."""
    step = 1
    while top / step > ticks:
        step = _next_round(step)
    return {"tickmode": "linear", "tick0": 0, "dtick": step, "range": [0, max(step, -(-top // step) * step)]}


def _next_round(step: int) -> int:
    digits = str(step)
    head, zeros = int(digits[0]), len(digits) - 1
    return {1: 2, 2: 5, 5: 10}[head] * 10**zeros


def rate_chart(points: Sequence[RatePoint], title: str) -> go.Figure:
    figure = go.Figure()
    for outcome in ("on_time", "late", "open_breach"):
        figure.add_bar(
            x=[p.period for p in points],
            y=[getattr(p, outcome) for p in points],
            name=OUTCOME_NAMES[outcome],
            marker_color=COLORS[outcome],
            yaxis="y2",
            opacity=0.35,
        )
    figure.add_scatter(
        x=[p.period for p in points],
        y=[p.rate for p in points],
        name="on-time rate",
        mode="lines+markers",
        line={"color": "#1565c0", "width": 3},
    )
    figure.update_layout(
        title=title,
        barmode="stack",
        yaxis={"tickformat": ".0%", "range": [0, 1.05]},
        yaxis2={
            "overlaying": "y",
            "side": "right",
            "showgrid": False,
            "title": "orders",
            **round_ticks(max((p.on_time + p.late + p.open_breach for p in points), default=0)),
        },
        **LAYOUT,
    )
    return figure


def breach_chart(counts: Sequence[BreachCount], title: str) -> go.Figure:
    labels = [c.value or "unknown" for c in counts]
    figure = go.Figure()
    figure.add_bar(
        y=labels,
        x=[c.late for c in counts],
        name="shipped late",
        orientation="h",
        marker_color=COLORS["late"],
    )
    figure.add_bar(
        y=labels,
        x=[c.open_breach for c in counts],
        name=OUTCOME_NAMES["open_breach"],
        orientation="h",
        marker_color=COLORS["open_breach"],
    )
    figure.update_layout(
        title=title,
        barmode="stack",
        yaxis={"autorange": "reversed"},
        xaxis={"title": "orders", **round_ticks(max((c.late + c.open_breach for c in counts), default=0))},
        **LAYOUT,
    )
    return figure


def ship_time_chart(histogram: Sequence[tuple[int, int]]) -> go.Figure:
    """Bars of (whole hours from order to shipment, orders), counted by the database."""
    figure = go.Figure()
    figure.add_bar(
        x=[h for h, _ in histogram], y=[n for _, n in histogram], name="orders", marker_color="#1565c0"
    )
    figure.update_layout(
        title="Time to ship", xaxis_title="hours from order to shipment", yaxis_title="orders", **LAYOUT
    )
    return figure


def naive_chart(series: Sequence[dict[str, object]]) -> go.Figure:
    figure = go.Figure()
    figure.add_scatter(
        x=[s["day"] for s in series],
        y=[s["naive"] for s in series],
        name="naive dashboard",
        fill="tozeroy",
        line={"color": COLORS["naive"]},
    )
    figure.add_scatter(
        x=[s["day"] for s in series],
        y=[s["true"] for s in series],
        name="true overdue (queue)",
        fill="tozeroy",
        line={"color": COLORS["true"], "width": 3},
    )
    figure.update_layout(title="Naive versus true overdue, at each day's end", yaxis_title="orders", **LAYOUT)
    return figure


EMPTY = "No orders were due in this period."


def is_empty(figure: go.Figure) -> bool:
    """True when no trace has a value to draw (an empty period, or one whose values are all zero)."""
    for trace in figure.data:
        values = trace.x if getattr(trace, "orientation", None) == "h" else trace.y
        if values is not None and any(v for v in values if v is not None):
            return False
    return True


def show(figure: go.Figure, key: str, empty: str = EMPTY) -> None:
    """The chart, or under its title a plain note when there is nothing to draw (never empty axes)."""
    if is_empty(figure):
        title = figure.layout.title.text or ""
        with st.container(key=f"{key}.empty", height=LAYOUT["height"], border=False):
            if title:
                st.markdown(f"**{title}**")
            st.info(empty, icon=":material/event_busy:")
        return
    st.plotly_chart(figure, key=key, config={"displayModeBar": False}, width="stretch")
