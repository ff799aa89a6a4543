"""Plotly figures for the SLA page, from the pure series in `checks.metrics`."""

from __future__ import annotations

from collections.abc import Sequence

import plotly.express as px
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
LAYOUT = {
    "margin": {"l": 10, "r": 10, "t": 40, "b": 10},
    "height": 320,
    "legend": {"orientation": "h", "y": -0.2},
}


def rate_chart(points: Sequence[RatePoint], title: str) -> go.Figure:
    figure = go.Figure()
    for outcome in ("on_time", "late", "open_breach"):
        figure.add_bar(
            x=[p.period for p in points],
            y=[getattr(p, outcome) for p in points],
            name=outcome.replace("_", " "),
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
        yaxis2={"overlaying": "y", "side": "right", "showgrid": False, "title": "orders"},
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
        name="still open, late",
        orientation="h",
        marker_color=COLORS["open_breach"],
    )
    figure.update_layout(title=title, barmode="stack", yaxis={"autorange": "reversed"}, **LAYOUT)
    return figure


def ship_time_chart(histogram: Sequence[tuple[int, int]]) -> go.Figure:
    """Bars of (whole hours from order to shipment, orders), counted by the database."""
    figure = px.bar(x=[h for h, _ in histogram], y=[n for _, n in histogram],
                    labels={"x": "hours from order to shipment", "y": "orders"})
    figure.update_traces(marker_color="#1565c0")
    figure.update_layout(title="Time to ship", yaxis_title="orders", **LAYOUT)
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


def show(figure: go.Figure, key: str) -> None:
    st.plotly_chart(figure, key=key, config={"displayModeBar": False}, width="stretch")
