"""Where the time went (SPEC §9): handoff, 3PL and first scan, median and 90th percentile per warehouse.

For the SPEC §6 population of a period of due days:
- handoff: the store order's `created_at` → its 3PL order's `created_date` (the earliest, when several);
- 3PL: that `created_date` → *shipped at* (shipped orders only);
- first scan: *shipped at* → the oldest `tracking_details[].datetime` of the order's trackers that is a
  carrier's scan: `pre_transit` details ("label created, awaiting item") precede the hand-over and would
  make the stage negative, hiding the very wait it is meant to show.
An order counts in each stage whose two ends it has. Durations are hours.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime

import numpy as np
import orjson
from sqlalchemy import Text, and_, cast, or_, select
from sqlalchemy.engine import Connection

from services.store import T_CLASS, T_CODES, T_TRACKER, T_WAREHOUSE

STAGES = ("handoff", "3pl", "first_scan")
STAGE_TITLES = {"handoff": "Handoff", "3pl": "3PL", "first_scan": "First scan"}
ALL_WAREHOUSES = "all warehouses"


@dataclass(frozen=True)
class StageFigure:
    warehouse: str
    stage: str
    orders: int
    median_hours: float | None
    p90_hours: float | None

    def as_dict(self) -> dict[str, object]:
        return {
            "warehouse": self.warehouse,
            "stage": self.stage,
            "orders": self.orders,
            "median_hours": self.median_hours,
            "p90_hours": self.p90_hours,
        }


def _population(date_from: date, date_to: date):  # type: ignore[no-untyped-def]
    c = T_CLASS.c
    return and_(
        c.due_day >= date_from,
        c.due_day <= date_to,
        or_(
            c.base_category.in_(("open", "sync_delay")),
            and_(c.base_category == "fulfilled", c.shipped_at.is_not(None)),
        ),
    )


def _hours(start: datetime | None, end: datetime | None) -> float | None:
    if start is None or end is None:
        return None
    return (end - start).total_seconds() / 3600


def _first_scans(conn: Connection, date_from: date, date_to: date) -> dict[int, datetime]:
    """The oldest scan of each shipped order's trackers, read from the stored `events` JSON."""
    c = T_CLASS.c
    shipped = select(c.order_id).where(
        _population(date_from, date_to), c.base_category.in_(("fulfilled", "sync_delay"))
    )
    query = (
        select(T_CODES.c.order_id, cast(T_TRACKER.c.events, Text).label("events"))
        .join(T_TRACKER, T_TRACKER.c.tracking_code == T_CODES.c.tracking_number)
        .where(T_CODES.c.order_id.in_(shipped))
    )
    oldest: dict[int, str] = {}
    for order_id, events in conn.execute(query):
        for event in orjson.loads(events or "[]"):
            if not isinstance(event, dict) or event.get("status") == "pre_transit":
                continue
            moment = event.get("datetime")
            # Stored as UTC isoformat, so the oldest text is the oldest time.
            if moment and (order_id not in oldest or moment < oldest[order_id]):
                oldest[order_id] = moment
    return {order_id: datetime.fromisoformat(text) for order_id, text in oldest.items()}


def stage_durations(conn: Connection, *, date_from: date, date_to: date) -> list[tuple[str, str, float]]:
    """(warehouse, stage, hours) for every order of the period and each stage it has both ends of."""
    c = T_CLASS.c
    # A join on the indexed store_order_id, not a grouped subquery: only the period's 3PL orders are read.
    query = (
        select(
            c.order_id,
            c.warehouse_name,
            c.base_category,
            c.created_at,
            c.shipped_at,
            T_WAREHOUSE.c.created_date,
        )
        .select_from(T_CLASS.outerjoin(T_WAREHOUSE, T_WAREHOUSE.c.store_order_id == c.order_id))
        .where(_population(date_from, date_to))
    )
    orders: dict[int, tuple[str, datetime, datetime | None, datetime | None]] = {}
    for row in conn.execute(query):
        shipped_at = row.shipped_at if row.base_category in ("fulfilled", "sync_delay") else None
        known = orders.get(row.order_id)
        handed_over = row.created_date
        if known is not None and known[3] is not None and (handed_over is None or known[3] < handed_over):
            handed_over = known[3]  # several 3PL orders: the earliest
        orders[row.order_id] = (row.warehouse_name or "unknown", row.created_at, shipped_at, handed_over)
    scans = _first_scans(conn, date_from, date_to)
    durations: list[tuple[str, str, float]] = []
    for order_id, (warehouse, created_at, shipped_at, handed_over) in orders.items():
        for stage, hours in (
            ("handoff", _hours(created_at, handed_over)),
            ("3pl", _hours(handed_over, shipped_at)),
            ("first_scan", _hours(shipped_at, scans.get(order_id))),
        ):
            if hours is not None:
                durations.append((warehouse, stage, hours))
    return durations


def _figure(warehouse: str, stage: str, hours: list[float]) -> StageFigure:
    if not hours:
        return StageFigure(warehouse, stage, 0, None, None)
    values = np.asarray(hours)
    return StageFigure(
        warehouse, stage, len(hours), float(np.percentile(values, 50)), float(np.percentile(values, 90))
    )


def stage_breakdown(durations: Iterable[tuple[str, str, float]]) -> list[StageFigure]:
    """Median and p90 per warehouse and stage (warehouses by name), then over all warehouses."""
    by_key: dict[tuple[str, str], list[float]] = {}
    overall: dict[str, list[float]] = {stage: [] for stage in STAGES}
    for warehouse, stage, hours in durations:
        by_key.setdefault((warehouse, stage), []).append(hours)
        overall[stage].append(hours)
    warehouses = sorted({warehouse for warehouse, _ in by_key})
    figures = [_figure(w, s, by_key.get((w, s), [])) for w in warehouses for s in STAGES]
    return figures + [_figure(ALL_WAREHOUSES, s, overall[s]) for s in STAGES]


def stages(conn: Connection, *, date_from: date, date_to: date) -> list[StageFigure]:
    return stage_breakdown(stage_durations(conn, date_from=date_from, date_to=date_to))
