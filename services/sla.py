"""SLA metrics over stored classifications (SPEC §6) and the series behind the leadership charts."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import select
from sqlalchemy.engine import Connection

from checks.metrics import MetricRow, SlaMetrics, compute_metrics
from checks.policy import SlaPolicy
from services.queries import informational_counts
from services.store import T_CLASS

# Rows the population can contain; the others are filtered in SQL to keep the read small.
_CANDIDATES = ("open", "sync_delay", "fulfilled")


def metric_rows(conn: Connection, *, date_from: date, date_to: date) -> list[MetricRow]:
    """Classified orders whose due day falls in [date_from, date_to] and that can be in the population."""
    query = select(
        T_CLASS.c.order_name, T_CLASS.c.due_day, T_CLASS.c.due_at, T_CLASS.c.base_category, T_CLASS.c.shipped_at,
        T_CLASS.c.warehouse_name, T_CLASS.c.shipping_method, T_CLASS.c.carrier, T_CLASS.c.created_at,
    ).where(T_CLASS.c.base_category.in_(_CANDIDATES), T_CLASS.c.due_day >= date_from, T_CLASS.c.due_day <= date_to)
    return [
        MetricRow(order_name=r.order_name, due_day=r.due_day, due_at=r.due_at, base_category=r.base_category,
                  shipped_at=r.shipped_at, warehouse=r.warehouse_name, shipping_method=r.shipping_method,
                  carrier=r.carrier, created_at=r.created_at)
        for r in conn.execute(query)
    ]


def noise_removed(conn: Connection, *, as_of: datetime, policy: SlaPolicy) -> int:
    return sum(informational_counts(conn, as_of=as_of, policy=policy).values())


def sla_metrics(conn: Connection, *, date_from: date, date_to: date, as_of: datetime, policy: SlaPolicy) -> SlaMetrics:
    rows = metric_rows(conn, date_from=date_from, date_to=date_to)
    return compute_metrics(rows, date_from=date_from, date_to=date_to, as_of=as_of, policy=policy,
                           noise_removed=noise_removed(conn, as_of=as_of, policy=policy))
