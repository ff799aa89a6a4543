"""SPEC §6: SLA metrics over a period of due days, and small pure helpers for the charts.

A :class:`MetricRow` is one order as stored: its due day and ``due_at``, its base category as
:func:`checks.categories.classify` stores it (``"open"`` for overdue/pending, which only the as-of
decides) and its *shipped at* (SPEC §6: the 3PL's word first, else the store's).

- Population: ``sync_delay``, ``open`` (overdue or pending), and ``fulfilled`` with a *shipped at*;
  a ``fulfilled`` order that nothing shipped for (all refunded or removed) is left out.
- Shipped: only ``fulfilled`` and ``sync_delay`` rows; an ``open`` row is never shipped, even when
  a *shipped at* is set. A ``sync_delay`` row with no shipment date cannot be timed: it counts like
  an unshipped row (``open_breach`` once late), so it stays visible rather than silently on time.
- ``on_time_rate`` = on_time / (on_time + late + open_breach), or None when that denominator is 0
  (no order of the period has met or missed its deadline yet); ``open`` rows are not in it.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import asdict, dataclass
from datetime import date, datetime, timedelta
from typing import Literal

from checks.categories import CATEGORIES, OPEN
from checks.policy import SlaPolicy

Outcome = Literal["on_time", "late", "open_breach", "open"]
BreakdownKey = Literal["warehouse", "shipping_method", "carrier"]
OUTCOMES: tuple[Outcome, ...] = ("on_time", "late", "open_breach", "open")
SHIPPED_CATEGORIES = frozenset({"fulfilled", "sync_delay"})
STORED_CATEGORIES = frozenset(c for c in CATEGORIES if c not in ("overdue", "pending")) | {OPEN}


@dataclass(frozen=True)
class MetricRow:
    order_name: str
    due_day: date
    due_at: datetime
    base_category: str  # as stored by classify: "open" for overdue/pending
    shipped_at: datetime | None
    warehouse: str | None
    shipping_method: str | None
    carrier: str | None
    created_at: datetime | None  # None for a row standing for several orders (it has no one time)
    # How many orders this row stands for: 1 for an order, more when the database has grouped orders
    # that share every fact an outcome depends on (see services.sla.metric_rows).
    count: int = 1

    def __post_init__(self) -> None:
        if self.base_category not in STORED_CATEGORIES:
            raise ValueError(
                f"{self.order_name}: base_category {self.base_category!r} is not a stored category "
                f"(overdue and pending are stored as {OPEN!r})"
            )


@dataclass(frozen=True)
class SlaMetrics:
    on_time: int
    late: int
    open_breach: int
    open: int
    on_time_rate: float | None  # None when on_time + late + open_breach is 0
    noise_removed: int

    def as_dict(self) -> dict[str, int | float | None]:
        return {
            "on_time": self.on_time,
            "late": self.late,
            "open_breach": self.open_breach,
            "open": self.open,
            "on_time_rate": self.on_time_rate,
            "noise_removed": self.noise_removed,
        }


@dataclass(frozen=True)
class RatePoint:
    """One day or ISO week (starting Monday) of due days."""

    period: date
    on_time: int
    late: int
    open_breach: int
    open: int
    rate: float | None

    def as_dict(self) -> dict[str, object]:
        return asdict(self)


@dataclass(frozen=True)
class BreachCount:
    """Breaches (late or open_breach) of the orders sharing one value of a breakdown key."""

    value: str | None
    breaches: int
    late: int
    open_breach: int
    population: int


@dataclass(frozen=True)
class ShipTime:
    order_name: str
    hours: float


def in_population(row: MetricRow) -> bool:
    """SPEC §6: sync_delay, open (overdue/pending), or fulfilled with a shipment record."""
    if row.base_category in ("sync_delay", OPEN):
        return True
    return row.base_category == "fulfilled" and row.shipped_at is not None


def is_shipped(row: MetricRow) -> bool:
    """Only fulfilled and sync_delay rows have shipped, and only with a date to time them by."""
    return row.base_category in SHIPPED_CATEGORIES and row.shipped_at is not None


def outcome(row: MetricRow, as_of: datetime, policy: SlaPolicy) -> Outcome:
    """The SPEC §6 outcome of a row in the population; ValueError for a row outside it."""
    if not in_population(row):
        raise ValueError(f"{row.order_name} ({row.base_category}) is not in the SLA metrics population")
    if is_shipped(row):
        assert row.shipped_at is not None
        return "on_time" if row.shipped_at <= row.due_at else "late"
    return "open_breach" if policy.is_late(row.due_day, as_of) else "open"


def _rate(counts: Counter[str]) -> float | None:
    denominator = counts["on_time"] + counts["late"] + counts["open_breach"]
    return counts["on_time"] / denominator if denominator else None


def _outcomes(
    rows: Iterable[MetricRow], as_of: datetime, policy: SlaPolicy
) -> list[tuple[MetricRow, Outcome]]:
    return [(row, outcome(row, as_of, policy)) for row in rows if in_population(row)]


def _check_period(date_from: date, date_to: date) -> None:
    if date_from > date_to:
        raise ValueError(f"the period starts ({date_from}) after it ends ({date_to})")


def compute_metrics(
    rows: Iterable[MetricRow],
    *,
    date_from: date,
    date_to: date,
    as_of: datetime,
    policy: SlaPolicy,
    noise_removed: int,
) -> SlaMetrics:
    """SPEC §6 metrics of the rows whose due day is in [date_from, date_to] (inclusive) at `as_of`.

    `noise_removed` is the size of the informational view at `as_of`, computed by the caller.
    """
    _check_period(date_from, date_to)
    counts: Counter[str] = Counter()
    for row, result in _outcomes(rows, as_of, policy):
        if date_from <= row.due_day <= date_to:
            counts[result] += row.count
    return SlaMetrics(
        on_time=counts["on_time"],
        late=counts["late"],
        open_breach=counts["open_breach"],
        open=counts["open"],
        on_time_rate=_rate(counts),
        noise_removed=noise_removed,
    )


def _week_start(day: date) -> date:
    return day - timedelta(days=day.weekday())


def _rate_series(
    rows: Iterable[MetricRow],
    as_of: datetime,
    policy: SlaPolicy,
    period_of: Callable[[date], date],
    step: timedelta,
    date_from: date | None,
    date_to: date | None,
) -> list[RatePoint]:
    by_period: dict[date, Counter[str]] = {}
    for row, result in _outcomes(rows, as_of, policy):
        if (date_from is not None and row.due_day < date_from) or (
            date_to is not None and row.due_day > date_to
        ):
            continue
        by_period.setdefault(period_of(row.due_day), Counter())[result] += row.count
    if date_from is not None and date_to is not None:
        _check_period(date_from, date_to)
        period = period_of(date_from)
        while period <= date_to:
            by_period.setdefault(period, Counter())
            period += step
    return [
        RatePoint(period, c["on_time"], c["late"], c["open_breach"], c["open"], _rate(c))
        for period, c in sorted(by_period.items())
    ]


def daily_on_time_rate(
    rows: Iterable[MetricRow],
    as_of: datetime,
    policy: SlaPolicy,
    *,
    date_from: date | None = None,
    date_to: date | None = None,
) -> list[RatePoint]:
    """Outcomes and on-time rate per due day, oldest first.

    Without a period only days that have rows appear; with both bounds every day of the period
    appears (empty days with zero counts and rate None), and rows outside it are left out.
    """
    return _rate_series(rows, as_of, policy, lambda day: day, timedelta(days=1), date_from, date_to)


def weekly_on_time_rate(
    rows: Iterable[MetricRow],
    as_of: datetime,
    policy: SlaPolicy,
    *,
    date_from: date | None = None,
    date_to: date | None = None,
) -> list[RatePoint]:
    """As :func:`daily_on_time_rate`, per ISO week of the due day; `period` is the week's Monday."""
    return _rate_series(rows, as_of, policy, _week_start, timedelta(weeks=1), date_from, date_to)


def breaches_by(
    rows: Iterable[MetricRow], key: BreakdownKey, as_of: datetime, policy: SlaPolicy
) -> list[BreachCount]:
    """Population rows grouped by `key`, most breaches (late + open_breach) first, then by value.

    Rows without a value for `key` are grouped under None, listed after named values on a tie.
    """
    if key not in ("warehouse", "shipping_method", "carrier"):
        raise ValueError(f"cannot break metrics down by {key!r}; use warehouse, shipping_method or carrier")
    groups: dict[str | None, Counter[str]] = {}
    for row, result in _outcomes(rows, as_of, policy):
        groups.setdefault(getattr(row, key), Counter())[result] += row.count
    counts = [
        BreachCount(
            value=value,
            breaches=c["late"] + c["open_breach"],
            late=c["late"],
            open_breach=c["open_breach"],
            population=sum(c.values()),
        )
        for value, c in groups.items()
    ]
    return sorted(counts, key=lambda b: (-b.breaches, b.value is None, b.value or ""))


def time_to_ship_hours(rows: Iterable[MetricRow]) -> list[ShipTime]:
    """Hours from created_at to shipped_at of each shipped row (fulfilled or sync_delay), in row order;
    a row without a creation time is left out."""
    return [
        ShipTime(row.order_name, (row.shipped_at - row.created_at).total_seconds() / 3600)
        for row in rows
        if is_shipped(row) and row.shipped_at is not None and row.created_at is not None
    ]
