"""SLA metrics (SPEC §6) for a period of due days: on-time rate, breaches, time to ship, false alarms removed."""

from __future__ import annotations

import streamlit as st

from ui import charts, periods, report_download, resources, sla_report, tables
from ui.auth import current_actor
from ui.errors import shown_once

BREAKDOWN_TITLES = {
    "warehouse": "Breaches by warehouse",
    "shipping_method": "Breaches by shipping method",
    "carrier": "Breaches by carrier",
}

TABS = ("On-time rate", "Overdue, naive versus true", "Breaches", "Time to ship", "Where the time went")

actor, policy = current_actor(), resources.policy()
today = policy.local_date(resources.as_of())
st.title("SLA metrics")
with shown_once():

    def apply_preset() -> None:
        chosen = st.session_state.get("sla.preset")
        if chosen:
            st.session_state["sla.period"] = periods.preset_range(chosen, today)

    st.session_state.setdefault("sla.period", periods.preset_range("Last 30 days", today))
    preset_column, period_column = st.columns([3, 2], vertical_alignment="bottom")
    preset_column.segmented_control(
        "Period", periods.PRESETS, key="sla.preset", default="Last 30 days", on_change=apply_preset
    )
    period = period_column.date_input(
        "Due days",
        max_value=today,
        key="sla.period",
        format="YYYY-MM-DD",
        on_change=lambda: st.session_state.update({"sla.preset": None}),  # a range of one's own
    )
    if len(period) != 2:
        st.info("Pick the last day of the period.")
        st.stop()
    date_from, date_to = period
    report = sla_report.report(date_from, date_to, actor)
    metrics = report.metrics
    rate = "—" if metrics.on_time_rate is None else f"{metrics.on_time_rate:.1%}"
    figures = [
        ("On-time rate", rate),
        ("On time", metrics.on_time),
        ("Shipped late", metrics.late),
        ("Open, late", metrics.open_breach),
        ("Open, in time", metrics.open),
        ("False alarms removed", metrics.noise_removed),
    ]
    helps = {
        "False alarms removed": "Orders due in this period that a naive dashboard would flag as late but "
        "that are informational (cancelled, refunded, vendor, payment, sync delay or on hold)."
    }
    for column, (label, value) in zip(st.columns(len(figures)), figures, strict=True):
        column.metric(label, f"{value:,}" if isinstance(value, int) else value, help=helps.get(label))

    # One tab drawn at a time (lazy tabs: the others' charts are neither built nor sent until opened).
    # Every chart is a Plotly figure the browser lays out, and the stage breakdown is a query of its own:
    # all seven at once made the page's first render wait seconds, in the browser as on the server.
    rates, overdue, breaches, ship_time, stages = st.tabs(TABS, key="sla.tab", on_change="rerun")
    if rates.open:
        with rates:
            left, right = st.columns(2, border=True)
            with left:
                charts.show(charts.rate_chart(report.daily, "On-time rate per day"), "sla.daily")
            with right:
                charts.show(charts.rate_chart(report.weekly, "On-time rate per week"), "sla.weekly")
    if overdue.open:
        with overdue:
            charts.show(
                charts.naive_chart(report.overdue),
                "sla.naive",
                empty="No order was overdue, or flagged by a naive dashboard, at any day's end of this period.",
            )
    if breaches.open:
        with breaches:
            for column, (key, title) in zip(
                st.columns(3, border=True), BREAKDOWN_TITLES.items(), strict=True
            ):
                with column:
                    charts.show(charts.breach_chart(report.breaches[key], title), f"sla.{key}")
    if ship_time.open:
        with ship_time:
            charts.show(charts.ship_time_chart(sla_report.ship_hours(date_from, date_to)), "sla.ship_time")
    if stages.open:
        with stages:
            report_download.stage_chart(date_from, date_to)
    report_download.report_buttons(actor, date_from, date_to)

    overdue_by_day = {s["day"]: s for s in report.overdue}
    tables.export_button(
        "Export daily CSV",
        actor=actor,
        action="export.sla",
        file_name=f"sla-{date_from}-{date_to}.csv",
        key="sla.export",
        rows=lambda conn: (
            {
                **point.as_dict(),
                "naive_overdue": overdue_by_day.get(point.period, {}).get("naive"),
                "true_overdue": overdue_by_day.get(point.period, {}).get("true"),
            }
            for point in report.daily
        ),
    )
