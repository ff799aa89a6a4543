"""Where the time went (SPEC §9): handoff, 3PL and first scan, median and 90th percentile per warehouse.

For the SPEC §6 population of a period of due days:
- handoff: the store order's `created_at` → its matched 3PL order's `created_date`;
- 3PL: that `created_date` → *shipped at* (shipped orders only);
- first scan: *shipped at* → the oldest `tracking_details[].datetime` of the order's trackers that is a
  carrier's scan (shipped orders only): `pre_transit` details ("label created, awaiting item") precede the
  hand-over and would make the stage negative, hiding the very wait it is meant to show.
An order counts in each stage whose two ends it has. Durations are hours. The ends are stored with each
order's classification (`checks.shipping.handed_over_at`, `first_scan_at`)."""

from __future__ import annotations

import gc
from collections.abc import Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date
from typing import Any

import numpy as np
from sqlalchemy import Float, Select, and_, case, cast, func, or_, select
from sqlalchemy.engine import Connection

from services.store import T_CLASS

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
    return cast(func.extract("epoch", end - start) / 3600, Float)  # a double, not a numeric


@contextmanager
def _collector_paused() -> Iterator[None]:
    """No garbage collection while the rows are read: their hundreds of thousands of new tuples would set
    off passes over the whole heap (SQLAlchemy, matplotlib), which cost as much as the read itself."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def _driver_rows(conn: Connection, query: Select[Any]) -> list[tuple[Any, ...]]:
    """The rows of `query` as the driver's own tuples: SQLAlchemy's Row objects would double the read's
    time. Every value in the query is a literal of this module's.

    Both tricks here are for the 30-day report at 1M orders (< 10 s, `bench.alerts_bench`), whose
    period holds some 600,000 orders."""
    sql = str(query.compile(dialect=conn.dialect, compile_kwargs={"literal_binds": True}))
    cursor = conn.connection.cursor()
    try:
        with _collector_paused():
            cursor.execute(sql)
            return list(cursor.fetchall())
    finally:
        cursor.close()


def stage_hours(conn: Connection, *, date_from: date, date_to: date) -> dict[tuple[str, str], np.ndarray]:
    """Hours per (warehouse, stage) of the period's orders that have both ends of the stage.

    One read of the stored classifications: each order's hand-over and first scan are stored with it
    (`services.store.classification`), so no 3PL order or tracker scan is read here. Columns go to numpy
    whole: a month of a million-order store is some 600,000 orders (the 30-day report's < 10 s goal).
    """
    c = T_CLASS.c
    shipped_at = case((c.base_category.in_(("fulfilled", "sync_delay")), c.shipped_at))
    query = select(
        func.coalesce(c.warehouse_name, "unknown"),
        _hours(conn, c.created_at, c.handed_over_at),
        _hours(conn, c.handed_over_at, shipped_at),
        _hours(conn, shipped_at, c.first_scan_at),
    ).where(_population(date_from, date_to))
    rows = _driver_rows(conn, query)
    if not rows:
        return {}
    with _collector_paused():
        names, *columns = zip(*rows, strict=False)  # a transposition: every row has four values
    codes: dict[str, int] = {}
    warehouse = np.fromiter(
        (codes.setdefault(n, len(codes)) for n in names), dtype=np.int32, count=len(names)
    )
    out: dict[tuple[str, str], np.ndarray] = {}
    for stage, column in zip(STAGES, columns, strict=True):
        hours = np.array(column, dtype=float)  # NULL (no such stage) becomes NaN
        known = ~np.isnan(hours)
        for name, code in sorted(codes.items()):
            found = hours[known & (warehouse == code)]
            if len(found):
                out[(name, stage)] = found
    return out


def stage_durations(conn: Connection, *, date_from: date, date_to: date) -> list[tuple[str, str, float]]:
    """(warehouse, stage, hours) for every order of the period and each stage it has both ends of."""
    by_key = stage_hours(conn, date_from=date_from, date_to=date_to)
    return [(warehouse, stage, float(h)) for (warehouse, stage), hours in by_key.items() for h in hours]


def _figure(warehouse: str, stage: str, hours: Sequence[float] | np.ndarray) -> StageFigure:
    if not len(hours):
        return StageFigure(warehouse, stage, 0, None, None)
    median, p90 = np.percentile(np.asarray(hours, dtype=float), [50, 90])
    return StageFigure(warehouse, stage, len(hours), float(median), float(p90))


def breakdown(by_key: Mapping[tuple[str, str], Sequence[float] | np.ndarray]) -> list[StageFigure]:
    """Median and p90 per warehouse and stage (warehouses by name), then over all warehouses."""
    warehouses = sorted({warehouse for warehouse, _ in by_key})
    figures = [_figure(w, s, by_key.get((w, s), ())) for w in warehouses for s in STAGES]
    overall = [
        np.concatenate([np.asarray(by_key.get((w, s), ()), dtype=float) for w in warehouses] or [np.empty(0)])
        for s in STAGES
    ]
    return figures + [_figure(ALL_WAREHOUSES, s, hours) for s, hours in zip(STAGES, overall, strict=True)]


def stage_breakdown(durations: Iterable[tuple[str, str, float]]) -> list[StageFigure]:
    """`breakdown` of (warehouse, stage, hours) triples."""
    by_key: dict[tuple[str, str], list[float]] = {}
    for warehouse, stage, hours in durations:
        by_key.setdefault((warehouse, stage), []).append(hours)
    return breakdown(by_key)


def stages(conn: Connection, *, date_from: date, date_to: date) -> list[StageFigure]:
    return breakdown(stage_hours(conn, date_from=date_from, date_to=date_to))
