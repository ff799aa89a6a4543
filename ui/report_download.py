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


def stage_figure(figures: Sequence[StageFigure]) -> charts.Chart:
    """Median hours per warehouse and stage as grouped bars; the 90th percentile and orders on hover."""
    from services.reports.stages import ALL_WAREHOUSES, STAGE_TITLES, STAGES

    title = "Where the time went: median hours per stage (p90 on hover)"
    rows = [
        {
            "warehouse": f.warehouse,
            "stage": STAGE_TITLES[f.stage],
            "median": f.median_hours,
            "p90": f.p90_hours,
            "orders": f.orders,
        }
        for f in figures
        if f.warehouse != ALL_WAREHOUSES and f.median_hours is not None
    ]
    stages = [STAGE_TITLES[s] for s in STAGES]
    return charts.Chart(
        title,
        {
            "title": title,
            "height": charts.HEIGHT,
            "data": {"values": rows},
            "config": {"legend": {"orient": "bottom"}},
            "mark": "bar",
            "encoding": {
                "y": {"field": "warehouse", "type": "nominal", "title": None},
                "yOffset": {"field": "stage", "type": "nominal", "sort": stages},
                "x": {"field": "median", "type": "quantitative", "title": "hours"},
                "color": {
                    "field": "stage",
                    "type": "nominal",
                    "title": None,
                    "sort": stages,
                    "scale": {"domain": stages, "range": [STAGE_COLORS[s] for s in STAGES]},
                },
                "tooltip": [
                    {"field": "warehouse"},
                    {"field": "stage"},
                    {"field": "median", "format": ".1f", "title": "median hours"},
                    {"field": "p90", "format": ".1f", "title": "p90 hours"},
                    {"field": "orders"},
                ],
            },
        },
        empty=not rows,
    )


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
