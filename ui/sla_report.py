"""Everything the SLA page shows for one period, computed once and cached for a few minutes.

The period's orders are read once (`services.sla.metric_rows`) and every series is built from them; the
cache key holds the as-of to the minute, so reruns and other viewers within it reuse the answer.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

import streamlit as st

from checks.metrics import (
    BreachCount,
    RatePoint,
    SlaMetrics,
    breaches_by,
    compute_metrics,
    daily_on_time_rate,
    weekly_on_time_rate,
)
from services import sla
from services.permissions import Actor
from ui import resources

BREAKDOWNS = ("warehouse", "shipping_method", "carrier")


@dataclass(frozen=True)
class SlaReport:
    metrics: SlaMetrics
    daily: list[RatePoint]
    weekly: list[RatePoint]
    breaches: dict[str, list[BreachCount]]
    ship_hours: list[tuple[int, int]]  # (whole hours to ship, orders)
    overdue: list[dict[str, object]]  # per day's end: naive, true, false_alarms


@st.cache_data(ttl=300, show_spinner="Computing the SLA metrics…", max_entries=32)
def _report(url: str, date_from: date, date_to: date, as_of: datetime, fingerprint: str) -> SlaReport:
    policy = resources.policy()
    today = policy.local_date(as_of)
    days = [date_from + timedelta(days=n) for n in range((min(date_to, today) - date_from).days + 1)]
    with resources.connect() as conn:
        rows = sla.metric_rows(conn, date_from=date_from, date_to=date_to)
        noise = sla.noise_removed(conn, as_of=as_of, policy=policy, date_from=date_from, date_to=date_to)
        overdue = sla.overdue_series(conn, days, policy)
        ship_hours = sla.ship_time_histogram(conn, date_from=date_from, date_to=date_to)
    return SlaReport(
        metrics=compute_metrics(
            rows, date_from=date_from, date_to=date_to, as_of=as_of, policy=policy, noise_removed=noise
        ),
        daily=daily_on_time_rate(rows, as_of, policy, date_from=date_from, date_to=date_to),
        weekly=weekly_on_time_rate(rows, as_of, policy, date_from=date_from, date_to=date_to),
        breaches={key: breaches_by(rows, key, as_of, policy)[:10] for key in BREAKDOWNS},  # type: ignore[arg-type]
        ship_hours=ship_hours,
        overdue=overdue,
    )


def report(date_from: date, date_to: date, actor: Actor) -> SlaReport:
    """The report for `actor`, checked against their stored role before the (shared) cache is read."""
    as_of = resources.as_of().astimezone(UTC).replace(second=0, microsecond=0)
    with resources.connect() as conn:
        sla.require_metrics(conn, actor, now=datetime.now(UTC))
        conn.commit()
    return _report(
        resources.settings().database_url, date_from, date_to, as_of, resources.policy().fingerprint()
    )
