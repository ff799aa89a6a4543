"""Everything the SLA page shows for one period, computed once and cached for a few minutes.

The period's per-day totals are read once (`services.sla.metric_rows`) and every series is built from
them; the time-to-ship histogram, a read of the period's shipped orders, only when its tab opens. The
cache keys hold the as-of to the minute, so reruns and other viewers within it reuse the answer.
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
    return SlaReport(
        metrics=compute_metrics(
            rows, date_from=date_from, date_to=date_to, as_of=as_of, policy=policy, noise_removed=noise
        ),
        daily=daily_on_time_rate(rows, as_of, policy, date_from=date_from, date_to=date_to),
        weekly=weekly_on_time_rate(rows, as_of, policy, date_from=date_from, date_to=date_to),
        breaches={key: breaches_by(rows, key, as_of, policy)[:10] for key in BREAKDOWNS},  # type: ignore[arg-type]
        overdue=overdue,
    )


@st.cache_data(ttl=300, show_spinner="Counting the times to ship…", max_entries=32)
def _ship_hours(url: str, date_from: date, date_to: date, as_of: datetime) -> list[tuple[int, int]]:
    with resources.connect() as conn:
        return sla.ship_time_histogram(conn, date_from=date_from, date_to=date_to)


def ship_hours(date_from: date, date_to: date) -> list[tuple[int, int]]:
    """(whole hours to ship, orders) of the period: read when its tab opens, not on the page's first
    render (at a million orders it is a read of every shipped order due in the period). Only called after
    `report` has checked the actor."""
    return _ship_hours(resources.settings().database_url, date_from, date_to, _minute())


def _minute() -> datetime:
    """The as-of to the minute: the caches' key, so reruns and other viewers within it share an answer."""
    return resources.as_of().astimezone(UTC).replace(second=0, microsecond=0)


def report(date_from: date, date_to: date, actor: Actor) -> SlaReport:
    """The report for `actor`, checked against their stored role before the (shared) cache is read."""
    as_of = _minute()
    with resources.connect() as conn:
        sla.require_metrics(conn, actor, now=datetime.now(UTC))
        conn.commit()
    return _report(
        resources.settings().database_url, date_from, date_to, as_of, resources.policy().fingerprint()
    )
