"""On the SLA page: where the time went, as a chart, and the leadership report to download (SPEC §9).

The download is the very file `order-recon report sla` writes, made when clicked (never on render);
`services.reports.render_report` checks the role again and audits it.

`services.reports` is imported only where it is used: the package loads matplotlib for the report's
charts, 1.2 s of imports that the SLA page's first render waited for (figure "Chromium, menu link: SLA
metrics" in README "Console figures"). The server's background warm-up (ui.warmup) loads it after the
first page is drawn.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, date, datetime
from typing import TYPE_CHECKING

import plotly.graph_objects as go
import streamlit as st

from services.permissions import Actor, Permission, allowed
from ui import charts, resources

if TYPE_CHECKING:
    from services.reports.stages import StageFigure

STAGE_COLORS = {"handoff": "#5c6bc0", "3pl": "#26a69a", "first_scan": "#8d6e63"}


@st.cache_data(ttl=300, show_spinner=False, max_entries=16)
def _stages(url: str, date_from: date, date_to: date) -> list[StageFigure]:
    from services.reports.stages import stages

    with resources.connect() as conn:
        return stages(conn, date_from=date_from, date_to=date_to)


def stage_figure(figures: Sequence[StageFigure]) -> go.Figure:
    """Median hours per warehouse and stage as bars, the 90th percentile as a marker on each."""
    from services.reports.stages import ALL_WAREHOUSES, STAGE_TITLES, STAGES

    shown = [f for f in figures if f.warehouse != ALL_WAREHOUSES]
    figure = go.Figure()
    for stage in STAGES:
        rows = [f for f in shown if f.stage == stage and f.median_hours is not None]
        figure.add_bar(
            y=[f.warehouse for f in rows],
            x=[f.median_hours for f in rows],
            name=f"{STAGE_TITLES[stage]}: median",
            orientation="h",
            marker_color=STAGE_COLORS[stage],
            customdata=[[f.p90_hours, f.orders] for f in rows],
            hovertemplate="%{y}: median %{x:.1f} h, p90 %{customdata[0]:.1f} h, %{customdata[1]} orders",
        )
    figure.update_layout(
        title="Where the time went: median hours per stage (p90 on hover)",
        barmode="group",
        xaxis_title="hours",
        **charts.LAYOUT,
    )
    return figure


def _build(actor: Actor, date_from: date, date_to: date, fmt: str) -> bytes:
    from services.reports import render_report

    now = datetime.now(UTC)
    report = render_report(
        resources.engine(),
        date_from=date_from,
        date_to=date_to,
        as_of=resources.as_of(),
        policy=resources.policy(),
        settings=resources.settings(),
        actor=actor,
        now=now,
        fmt="pdf" if fmt == "pdf" else "html",
    )
    return report.content


def stage_chart(date_from: date, date_to: date) -> None:
    """The stage breakdown chart of the period (a query of its own, cached a few minutes)."""
    figures = _stages(resources.settings().database_url, date_from, date_to)
    charts.show(stage_figure(figures), "sla.stages")


def report_buttons(actor: Actor, date_from: date, date_to: date) -> None:
    """For roles that may: the leadership report as HTML and as PDF, made when clicked."""
    if not allowed(actor.role, Permission.METRICS):
        return
    buttons = st.container(horizontal=True)
    for fmt, mime in (("html", "text/html"), ("pdf", "application/pdf")):
        buttons.download_button(
            f"Leadership report ({fmt.upper()})",
            data=lambda fmt=fmt: _build(actor, date_from, date_to, fmt),  # type: ignore[misc]
            file_name=f"sla-report-{date_from}-{date_to}.{fmt}",
            mime=mime,
            key=f"sla.report.{fmt}",
            icon=":material/download:",
            on_click="ignore",
        )
