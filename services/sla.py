"""SLA metrics over stored classifications (SPEC §6) and the series behind the leadership charts.

The database keeps the orders counted by every fact an outcome depends on (due day, category, shipped
on time / late / not at all, and the breakdown columns), so a month of a million-order store reaches
Python as a few thousand weighted rows, read without touching the orders; the pure rules in
`checks.metrics` do the rest.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import Integer, cast, func, select
from sqlalchemy.engine import Connection
from sqlmodel import Session

from checks.metrics import MetricRow, SlaMetrics, compute_metrics
from checks.policy import SlaPolicy
from services.permissions import Actor, Permission, require
from services.queries import informational_counts
from services.store import T_CLASS, T_DAY_TOTAL

# Rows the population can contain; the others are filtered in SQL to keep the read small.
_CANDIDATES = ("open", "sync_delay", "fulfilled")
MAX_SHIP_HOURS = 24 * 30  # the time-to-ship histogram's last bucket holds everything slower


def _period(date_from: date, date_to: date):  # type: ignore[no-untyped-def]
    return (
        T_CLASS.c.base_category.in_(_CANDIDATES),
        T_CLASS.c.due_day >= date_from,
        T_CLASS.c.due_day <= date_to,
    )


def metric_rows(conn: Connection, *, date_from: date, date_to: date) -> list[MetricRow]:
    """The period's candidate orders as weighted rows: one per group of orders with equal outcome facts,
    read from the totals the database keeps per due day (`sla_day_total`, migration 0016).

    A group stands for orders shipped by their `due_at`, after it, or not at all; its row carries the
    boundary instant of that outcome as its shipped time (`due_at`, or the microsecond after it), which
    `checks.metrics.outcome` judges as it would each order's. It has no one creation time.
    """
    d = T_DAY_TOTAL.c
    query = select(T_DAY_TOTAL).where(d.due_day >= date_from, d.due_day <= date_to, d.orders > 0)
    return [
        MetricRow(
            order_name=f"{r.orders} order(s) due {r.due_day}",
            due_day=r.due_day,
            due_at=r.due_at,
            base_category=r.base_category,
            shipped_at=_SHIPPED_AT[r.shipped](r.due_at),
            warehouse=r.warehouse_name or None,
            shipping_method=r.shipping_method or None,
            carrier=r.carrier or None,
            created_at=None,
            count=r.orders,
        )
        for r in conn.execute(query)
    ]


_SHIPPED_AT: dict[str, Callable[[datetime], datetime | None]] = {
    "none": lambda due_at: None,
    "on_time": lambda due_at: due_at,
    "late": lambda due_at: due_at + timedelta(microseconds=1),
}


def ship_time_histogram(conn: Connection, *, date_from: date, date_to: date) -> list[tuple[int, int]]:
    """(whole hours from order to shipment, orders) for the period's shipped orders, counted in SQL."""
    c = T_CLASS.c
    if conn.dialect.name == "sqlite":
        hours = (func.julianday(c.shipped_at) - func.julianday(c.created_at)) * 24
    else:
        hours = func.extract("epoch", c.shipped_at - c.created_at) / 3600
    bucket: Any
    if conn.dialect.name == "sqlite":  # CAST truncates; min/max of two values are SQLite's scalar forms
        bucket = func.min(func.max(cast(hours, Integer), 0), MAX_SHIP_HOURS)
    else:
        bucket = func.least(func.greatest(func.floor(hours), 0), MAX_SHIP_HOURS)
    query = (
        select(bucket.label("hours"), func.count().label("n"))
        .where(
            *_period(date_from, date_to),
            c.base_category.in_(("fulfilled", "sync_delay")),
            c.shipped_at.is_not(None),
        )
        .group_by(bucket)
        .order_by(bucket)
    )
    return [(int(r.hours), int(r.n)) for r in conn.execute(query)]


def noise_removed(
    conn: Connection,
    *,
    as_of: datetime,
    policy: SlaPolicy,
    date_from: date | None = None,
    date_to: date | None = None,
) -> int:
    """The informational view's size at `as_of`; with a period, only the orders due in it."""
    counts = informational_counts(conn, as_of=as_of, policy=policy, due_from=date_from, due_to=date_to)
    return sum(counts.values())


def require_metrics(
    conn: Connection, actor: Actor | None, *, now: datetime, action: str = "metrics.view"
) -> None:
    """SLA metrics and the leadership report are for ops, leads and admins (SPEC §7): checked against the
    role stored in the database; a refusal is audited and raised as PermissionDenied."""
    with Session(bind=conn) as session:
        require(session, actor, Permission.METRICS, action=action, clock=lambda: now)


def sla_metrics(
    conn: Connection,
    *,
    date_from: date,
    date_to: date,
    as_of: datetime,
    policy: SlaPolicy,
    actor: Actor | None,
) -> SlaMetrics:
    """The metrics of a period, for an actor allowed to read them (see `require_metrics`)."""
    require_metrics(conn, actor, now=as_of)
    rows = metric_rows(conn, date_from=date_from, date_to=date_to)
    return compute_metrics(
        rows,
        date_from=date_from,
        date_to=date_to,
        as_of=as_of,
        policy=policy,
        noise_removed=noise_removed(conn, as_of=as_of, policy=policy),
    )


def overdue_series(conn: Connection, days: Sequence[date], policy: SlaPolicy) -> list[dict[str, object]]:
    """Per day's end: what a naive dashboard counts (queue + informational view) against the true queue.

    The same figures as `count_overdue` and `informational_counts` at each day's end, from two grouped
    reads instead of a few queries per day: both only compare a stored due day with the as-of day.
    """
    from bisect import bisect_left
    from itertools import accumulate

    from checks.categories import OPEN
    from services.queries import INFORMATIONAL_ORDER

    c = T_CLASS.c
    open_days = conn.execute(
        select(c.due_day, func.count()).where(c.base_category == OPEN).group_by(c.due_day).order_by(c.due_day)
    ).all()
    info_days = conn.execute(
        select(c.standard_due_day, func.count())
        .where(c.base_category.in_(INFORMATIONAL_ORDER), c.looks_unshipped.is_(True))
        .group_by(c.standard_due_day)
        .order_by(c.standard_due_day)
    ).all()

    def before(rows: Sequence[Any]) -> Any:
        keys = [r[0] for r in rows]
        totals = [0, *accumulate(int(r[1]) for r in rows)]
        return lambda day: totals[bisect_left(keys, day)]  # rows whose day is before `day`

    true_before, info_before = before(open_days), before(info_days)
    series = []
    for day in days:
        threshold = policy.local_date(policy.due_at(day))
        true = true_before(threshold)
        naive = true + info_before(threshold)
        series.append({"day": day, "naive": naive, "true": true, "false_alarms": naive - true})
    return series
