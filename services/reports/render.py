"""The report as one self-contained HTML file (Jinja2, inline SVG charts) or as PDF (xhtml2pdf, PNG charts).

Nothing in either file is fetched when it is opened: styles are inline, charts are SVG markup or data
URIs, and the only URLs are the oldest breaches' lookup links, which are links, not resources.
"""

from __future__ import annotations

import io
from functools import lru_cache
from pathlib import Path

from jinja2 import Environment, FileSystemLoader, select_autoescape
from markupsafe import Markup

from checks.policy import SlaPolicy
from services.errors import OrderReconError
from services.notify.digest import lookup_link
from services.reports import charts
from services.reports.data import ReportData
from services.reports.stages import ALL_WAREHOUSES, STAGE_TITLES, STAGES

TEMPLATES = Path(__file__).with_name("templates")
BREAKDOWN_TITLES = (
    ("warehouse", "Warehouse"),
    ("shipping_method", "Shipping method"),
    ("carrier", "Carrier"),
)


@lru_cache(maxsize=1)
def _environment() -> Environment:
    return Environment(loader=FileSystemLoader(TEMPLATES), autoescape=select_autoescape(["html", "j2"]))


def _percent(rate: float | None) -> str:
    return "—" if rate is None else f"{rate:.1%}"


def _hours(value: float | None) -> str:
    return "—" if value is None else f"{value:.1f}"


def _charts(data: ReportData, fmt: charts.Format) -> dict[str, Markup]:
    def wrap(image: str) -> Markup:
        return Markup(image) if fmt == "svg" else Markup('<img src="{}" width="680">').format(image)

    drawn = {
        "daily": charts.rate_chart(data.daily, "On-time rate per due day", fmt),
        "weekly": charts.rate_chart(data.weekly, "On-time rate per week", fmt),
        "stages": charts.stage_chart(
            [s for s in data.stages if s.warehouse != ALL_WAREHOUSES] or data.stages, fmt
        ),
        "informational": charts.bar_chart(
            [c.replace("_", " ") for c in data.informational],
            list(data.informational.values()),
            "False alarms removed",
            fmt,
            "#78909c",
        ),
    }
    for key, title in BREAKDOWN_TITLES:
        drawn[key] = charts.breach_chart(data.breaches[key], f"Breaches by {title.lower()}", fmt)
    return {key: wrap(image) for key, image in drawn.items()}


def report_html(data: ReportData, *, policy: SlaPolicy, console_url: str, for_pdf: bool = False) -> str:
    m = data.metrics
    stage_rows: dict[str, list[object]] = {}
    for figure in data.stages:
        stage_rows.setdefault(figure.warehouse, []).append(figure)
    return (
        _environment()
        .get_template("sla_report.html.j2")
        .render(
            data=data,
            m=m,
            rate_value="" if m.on_time_rate is None else repr(m.on_time_rate),
            rate_text=_percent(m.on_time_rate),
            as_of_store=f"{policy.local(data.as_of):%Y-%m-%d %H:%M %Z}",
            charts=_charts(data, "png" if for_pdf else "svg"),
            stage_names=STAGES,
            stage_titles=STAGE_TITLES,
            stage_rows=list(stage_rows.items()),
            breakdown_titles=BREAKDOWN_TITLES,
            percent=_percent,
            hours=_hours,
            lookup=lambda order: lookup_link(console_url, order),
        )
    )


def report_pdf(html: str) -> bytes:
    """The PDF of the PDF-flavoured HTML (PNG charts): xhtml2pdf is pure Python, no system libraries."""
    from xhtml2pdf import pisa

    out = io.BytesIO()
    status = pisa.CreatePDF(html, dest=out, encoding="utf-8")
    if status.err:
        raise OrderReconError(f"could not render the PDF ({status.err} error(s))")
    return out.getvalue()
