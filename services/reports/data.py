"""The leadership report's figures for a period of due days (SPEC §9), built from the metrics' own code.

The headline is `checks.metrics.compute_metrics` over `services.sla.metric_rows` with
`services.sla.noise_removed`: exactly what `services.sla.sla_metrics` (so `order-recon metrics`) does,
from one read of the period's rows that the series and breakdowns share.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy.engine import Connection

from checks.metrics import (
    BreachCount,
    RatePoint,
    SlaMetrics,
    breaches_by,
    compute_metrics,
    daily_on_time_rate,
    weekly_on_time_rate,
)
from checks.policy import SlaPolicy
from services import sla
from services.queries import informational_counts
from services.queue import QueueRow, queue_query, queue_rows
from services.reports.stages import StageFigure, stages
from services.store import T_CLASS

BREAKDOWNS = ("warehouse", "shipping_method", "carrier")
OLDEST_SHOWN = 20


@dataclass(frozen=True)
class ReportData:
    date_from: date
    date_to: date
    as_of: datetime
    metrics: SlaMetrics
    daily: list[RatePoint]
    weekly: list[RatePoint]
    breaches: dict[str, list[BreachCount]]
    informational: dict[str, int]  # the noise removed, per category
    oldest_open: list[QueueRow]
    stages: list[StageFigure]

    def as_dict(self) -> dict[str, Any]:
        return {
            "from": self.date_from.isoformat(),
            "to": self.date_to.isoformat(),
            "as_of": self.as_of.isoformat(),
            "metrics": self.metrics.as_dict(),
            "daily": [p.as_dict() for p in self.daily],
            "weekly": [p.as_dict() for p in self.weekly],
            "breaches": {k: [vars(b) for b in v] for k, v in self.breaches.items()},
            "informational": self.informational,
            "oldest_open": [r.as_dict() for r in self.oldest_open],
            "stages": [s.as_dict() for s in self.stages],
        }


def oldest_open_breaches(
    conn: Connection, *, date_from: date, date_to: date, as_of: datetime, policy: SlaPolicy, limit: int
) -> list[QueueRow]:
    """The period's orders in the overdue queue at `as_of`, oldest due first."""
    query = (
        queue_query(as_of, policy, None, None)
        .where(T_CLASS.c.due_day >= date_from, T_CLASS.c.due_day <= date_to)
        .limit(limit)
    )
    return queue_rows(conn, conn.execute(query).all(), as_of=as_of, policy=policy)


def report_data(
    conn: Connection, *, date_from: date, date_to: date, as_of: datetime, policy: SlaPolicy
) -> ReportData:
    rows = sla.metric_rows(conn, date_from=date_from, date_to=date_to)
    informational = informational_counts(conn, as_of=as_of, policy=policy)
    metrics = compute_metrics(
        rows,
        date_from=date_from,
        date_to=date_to,
        as_of=as_of,
        policy=policy,
        noise_removed=sla.noise_removed(conn, as_of=as_of, policy=policy),
    )
    return ReportData(
        date_from=date_from,
        date_to=date_to,
        as_of=as_of,
        metrics=metrics,
        daily=daily_on_time_rate(rows, as_of, policy, date_from=date_from, date_to=date_to),
        weekly=weekly_on_time_rate(rows, as_of, policy, date_from=date_from, date_to=date_to),
        breaches={key: breaches_by(rows, key, as_of, policy) for key in BREAKDOWNS},  # type: ignore[arg-type]
        informational=informational,
        oldest_open=oldest_open_breaches(
            conn, date_from=date_from, date_to=date_to, as_of=as_of, policy=policy, limit=OLDEST_SHOWN
        ),
        stages=stages(conn, date_from=date_from, date_to=date_to),
    )
