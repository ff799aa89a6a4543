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
from datetime import date
from typing import Any

import numpy as np
from sqlalchemy import and_, case, cast, func, or_, select, true
from sqlalchemy.engine import Connection

from db.types import UTCDateTime
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


def _hours(conn: Connection, start: Any, end: Any) -> Any:
    """SQL for the hours from `start` to `end` (NULL when either is), computed by the database."""
    if conn.dialect.name == "sqlite":
        return (func.julianday(end) - func.julianday(start)) * 24
    return func.extract("epoch", end - start) / 3600


def _first_scans(conn: Connection, shipped: Any) -> Any:
    """Per order of `shipped` (a subquery of order ids): its trackers' oldest detail that is a scan.

    Read inside the database (SQLite json_each, PostgreSQL json_array_elements): a month of a large
    store has hundreds of thousands of trackers, too many to decode in Python in the report's budget.
    """
    codes, tracker = T_CODES.c, T_TRACKER.c
    moment: Any
    status: Any
    if conn.dialect.name == "sqlite":
        detail = func.json_each(tracker.events).table_valued("value").alias("detail")
        moment = func.json_extract(detail.c.value, "$.datetime")
        status = func.json_extract(detail.c.value, "$.status")
    else:
        detail = func.json_array_elements(tracker.events).table_valued("value").alias("detail")
        moment = cast(detail.c.value.op("->>")("datetime"), UTCDateTime())
        status = detail.c.value.op("->>")("status")
    return (
        select(codes.order_id, func.min(moment).label("first_scan"))
        .select_from(
            T_CODES.join(T_TRACKER, tracker.tracking_code == codes.tracking_number).join(detail, true())
        )
        .where(codes.order_id.in_(shipped), status != "pre_transit")
        .group_by(codes.order_id)
        .subquery("scans")
    )


def stage_durations(conn: Connection, *, date_from: date, date_to: date) -> list[tuple[str, str, float]]:
    """(warehouse, stage, hours) for every order of the period and each stage it has both ends of."""
    c = T_CLASS.c
    period = select(c.order_id).where(_population(date_from, date_to))
    shipped = period.where(c.base_category.in_(("fulfilled", "sync_delay")))
    handed_over = (
        select(T_WAREHOUSE.c.store_order_id, func.min(T_WAREHOUSE.c.created_date).label("created_date"))
        .where(T_WAREHOUSE.c.store_order_id.in_(period))
        .group_by(T_WAREHOUSE.c.store_order_id)
        .subquery("handed_over")
    )
    scans = _first_scans(conn, shipped)
    shipped_at = case((c.base_category.in_(("fulfilled", "sync_delay")), c.shipped_at))
    first_scan: Any = scans.c.first_scan
    query = (
        select(
            c.warehouse_name,
            _hours(conn, c.created_at, handed_over.c.created_date).label("handoff"),
            _hours(conn, handed_over.c.created_date, shipped_at).label("3pl"),
            _hours(conn, shipped_at, first_scan).label("first_scan"),
        )
        .select_from(
            T_CLASS.outerjoin(handed_over, handed_over.c.store_order_id == c.order_id).outerjoin(
                scans, scans.c.order_id == c.order_id
            )
        )
        .where(_population(date_from, date_to))
    )
    durations: list[tuple[str, str, float]] = []
    for warehouse, *hours in conn.execute(query):
        for stage, value in zip(STAGES, hours, strict=True):
            if value is not None:
                durations.append((warehouse or "unknown", stage, float(value)))
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
