"""SPEC §6: SLA metrics, population, outcomes, rate, and the chart helpers."""

from __future__ import annotations

from datetime import date, datetime, timedelta

import pytest

from checks.categories import is_informational_at
from checks.metrics import (
    BreachCount,
    MetricRow,
    RatePoint,
    ShipTime,
    SlaMetrics,
    breaches_by,
    compute_metrics,
    daily_on_time_rate,
    in_population,
    outcome,
    time_to_ship_hours,
    weekly_on_time_rate,
)
from tests.checks.factories import at, metric_row, policy
from tests.checks.sample_records import load_sample
from tests.checks.sample_records import metric_row as sample_metric_row

# The default row is due Thu 2026-07-02, due_at 2026-07-02T23:59:59-04:00.
DUE_AT = at("2026-07-02T23:59:59-04:00")
BEFORE_LATE = at("2026-07-02T23:59:59-04:00")
LATE = at("2026-07-03T00:00:00-04:00")


@pytest.mark.parametrize(
    ("category", "shipped_at", "in_it"),
    [
        ("sync_delay", DUE_AT, True),
        ("sync_delay", None, True),
        ("open", None, True),
        ("open", DUE_AT, True),
        ("fulfilled", DUE_AT, True),
        ("fulfilled", None, False),  # every item refunded or removed: nothing shipped
        ("cancelled", DUE_AT, False),
        ("refunded", DUE_AT, False),
        ("third_party_vendor", None, False),
        ("awaiting_payment", None, False),
        ("on_hold", None, False),
    ],
)
def test_population(category: str, shipped_at: datetime | None, in_it: bool) -> None:
    assert in_population(metric_row(base_category=category, shipped_at=shipped_at)) is in_it


@pytest.mark.parametrize(
    ("category", "shipped_at", "as_of", "expected"),
    [
        ("fulfilled", DUE_AT, LATE, "on_time"),  # exactly at due_at
        ("fulfilled", DUE_AT - timedelta(days=1), LATE, "on_time"),
        ("fulfilled", DUE_AT + timedelta(seconds=1), LATE, "late"),
        ("fulfilled", DUE_AT + timedelta(milliseconds=500), LATE, "late"),
        ("fulfilled", at("2026-07-03T03:59:59Z"), LATE, "on_time"),  # due_at written in UTC
        ("fulfilled", at("2026-07-03T04:00:00Z"), LATE, "late"),
        ("fulfilled", DUE_AT + timedelta(days=3), BEFORE_LATE, "late"),  # as_of does not matter once shipped
        ("sync_delay", DUE_AT, LATE, "on_time"),
        ("sync_delay", DUE_AT + timedelta(hours=1), LATE, "late"),
        ("sync_delay", None, LATE, "open_breach"),  # no date to time it by
        ("sync_delay", None, BEFORE_LATE, "open"),
        ("open", None, BEFORE_LATE, "open"),
        ("open", None, LATE, "open_breach"),
        ("open", DUE_AT - timedelta(days=1), LATE, "open_breach"),  # open rows never count as shipped
        ("open", DUE_AT - timedelta(days=1), BEFORE_LATE, "open"),
    ],
)
def test_outcome(category: str, shipped_at: datetime | None, as_of: datetime, expected: str) -> None:
    assert outcome(metric_row(base_category=category, shipped_at=shipped_at), as_of, policy()) == expected


@pytest.mark.parametrize(
    "row",
    [metric_row(base_category="fulfilled"), metric_row(base_category="cancelled", shipped_at=DUE_AT)],
)
def test_outcome_refuses_rows_outside_the_population(row: MetricRow) -> None:
    with pytest.raises(ValueError, match="not in the SLA metrics population"):
        outcome(row, LATE, policy())


@pytest.mark.parametrize("category", ["overdue", "pending", "shipped", ""])
def test_metric_row_takes_stored_categories_only(category: str) -> None:
    with pytest.raises(ValueError, match="not a stored category"):
        metric_row(base_category=category)


def _rows() -> list[MetricRow]:
    """Due days Jun 30 .. Jul 3 with one outcome of each kind, plus rows outside the population."""
    return [
        metric_row(
            order_name="#1",
            due_day=date(2026, 6, 30),
            base_category="fulfilled",
            shipped_at=at("2026-06-30T12:00:00-04:00"),
        ),
        metric_row(
            order_name="#2",
            due_day=date(2026, 7, 1),
            base_category="sync_delay",
            shipped_at=at("2026-07-02T09:00:00-04:00"),
        ),
        metric_row(order_name="#3", due_day=date(2026, 7, 1), base_category="open"),
        metric_row(order_name="#4", due_day=date(2026, 7, 3), base_category="open"),
        metric_row(order_name="#5", due_day=date(2026, 7, 2), base_category="fulfilled", shipped_at=None),
        metric_row(order_name="#6", due_day=date(2026, 7, 2), base_category="cancelled"),
        metric_row(order_name="#7", due_day=date(2026, 7, 2), base_category="third_party_vendor"),
        metric_row(order_name="#8", due_day=date(2026, 7, 2), base_category="on_hold"),
    ]


AS_OF = at("2026-07-02T12:00:00-04:00")


@pytest.mark.parametrize(
    ("date_from", "date_to", "expected"),
    [
        (date(2026, 6, 30), date(2026, 7, 3), (1, 1, 1, 1, 1 / 3)),
        (date(2026, 6, 30), date(2026, 6, 30), (1, 0, 0, 0, 1.0)),  # inclusive lower bound
        (date(2026, 7, 3), date(2026, 7, 3), (0, 0, 0, 1, None)),  # inclusive upper bound; only open
        (date(2026, 7, 1), date(2026, 7, 2), (0, 1, 1, 0, 0.0)),
        (date(2026, 7, 4), date(2026, 7, 31), (0, 0, 0, 0, None)),
        (date(2026, 6, 1), date(2026, 6, 29), (0, 0, 0, 0, None)),
    ],
)
def test_compute_metrics(date_from: date, date_to: date, expected: tuple) -> None:
    metrics = compute_metrics(
        _rows(), date_from=date_from, date_to=date_to, as_of=AS_OF, policy=policy(), noise_removed=7
    )
    on_time, late, open_breach, still_open, rate = expected
    assert metrics == SlaMetrics(on_time, late, open_breach, still_open, rate, 7)


def test_metrics_as_dict_keys() -> None:
    metrics = compute_metrics(
        _rows(),
        date_from=date(2026, 6, 1),
        date_to=date(2026, 7, 31),
        as_of=AS_OF,
        policy=policy(),
        noise_removed=2,
    )
    assert metrics.as_dict() == {
        "on_time": 1,
        "late": 1,
        "open_breach": 1,
        "open": 1,
        "on_time_rate": pytest.approx(1 / 3),
        "noise_removed": 2,
    }
    assert list(metrics.as_dict()) == [
        "on_time",
        "late",
        "open_breach",
        "open",
        "on_time_rate",
        "noise_removed",
    ]


def test_rate_denominator_leaves_open_rows_out() -> None:
    rows = [metric_row(order_name="#a", base_category="fulfilled", shipped_at=DUE_AT)] + [
        metric_row(order_name=f"#o{n}") for n in range(5)
    ]
    metrics = compute_metrics(
        rows,
        date_from=date(2026, 7, 2),
        date_to=date(2026, 7, 2),
        as_of=BEFORE_LATE,
        policy=policy(),
        noise_removed=0,
    )
    assert (metrics.on_time, metrics.open, metrics.on_time_rate) == (1, 5, 1.0)


def test_reversed_period_is_refused() -> None:
    with pytest.raises(ValueError, match="starts"):
        compute_metrics(
            [],
            date_from=date(2026, 7, 2),
            date_to=date(2026, 7, 1),
            as_of=AS_OF,
            policy=policy(),
            noise_removed=0,
        )


def test_sample_metrics() -> None:
    sample = load_sample()
    rows = [
        sample_metric_row(sample.views[name], sample.classification(name), sample.policy)
        for name in sorted(sample.views)
    ]
    noise = sum(
        is_informational_at(sample.classification(n), sample.as_of, sample.policy) for n in sample.views
    )
    date_from, date_to = sample.period
    metrics = compute_metrics(
        rows,
        date_from=date_from,
        date_to=date_to,
        as_of=sample.as_of,
        policy=sample.policy,
        noise_removed=noise,
    )
    assert metrics.as_dict() == sample.expected["metrics"]


# --- chart helpers ---------------------------------------------------------------------------------


def test_daily_on_time_rate() -> None:
    assert daily_on_time_rate(_rows(), AS_OF, policy()) == [
        RatePoint(date(2026, 6, 30), 1, 0, 0, 0, 1.0),
        RatePoint(date(2026, 7, 1), 0, 1, 1, 0, 0.0),
        RatePoint(date(2026, 7, 3), 0, 0, 0, 1, None),
    ]


def test_daily_on_time_rate_fills_the_period() -> None:
    points = daily_on_time_rate(
        _rows(), AS_OF, policy(), date_from=date(2026, 7, 1), date_to=date(2026, 7, 4)
    )
    assert points == [
        RatePoint(date(2026, 7, 1), 0, 1, 1, 0, 0.0),
        RatePoint(date(2026, 7, 2), 0, 0, 0, 0, None),
        RatePoint(date(2026, 7, 3), 0, 0, 0, 1, None),
        RatePoint(date(2026, 7, 4), 0, 0, 0, 0, None),
    ]
    assert points[0].as_dict() == {
        "period": date(2026, 7, 1),
        "on_time": 0,
        "late": 1,
        "open_breach": 1,
        "open": 0,
        "rate": 0.0,
    }


@pytest.mark.parametrize(
    ("due_day", "week"),
    [
        (date(2026, 6, 29), date(2026, 6, 29)),  # Monday starts its week
        (date(2026, 7, 3), date(2026, 6, 29)),
        (date(2026, 7, 5), date(2026, 6, 29)),  # Sunday ends it
        (date(2026, 7, 6), date(2026, 7, 6)),
        (date(2027, 1, 1), date(2026, 12, 28)),  # across the new year
    ],
)
def test_weekly_periods_start_on_monday(due_day: date, week: date) -> None:
    row = metric_row(due_day=due_day, base_category="fulfilled", shipped_at=policy().due_at(due_day))
    assert weekly_on_time_rate([row], AS_OF, policy()) == [RatePoint(week, 1, 0, 0, 0, 1.0)]


def test_weekly_on_time_rate() -> None:
    rows = [
        *_rows(),
        metric_row(
            order_name="#9",
            due_day=date(2026, 7, 7),
            base_category="fulfilled",
            shipped_at=at("2026-07-07T10:00:00-04:00"),
        ),
    ]
    assert weekly_on_time_rate(rows, AS_OF, policy()) == [
        RatePoint(date(2026, 6, 29), 1, 1, 1, 1, 1 / 3),
        RatePoint(date(2026, 7, 6), 1, 0, 0, 0, 1.0),
    ]
    filled = weekly_on_time_rate(rows, AS_OF, policy(), date_from=date(2026, 6, 17), date_to=date(2026, 7, 1))
    assert [(p.period, p.on_time + p.late + p.open_breach + p.open) for p in filled] == [
        (date(2026, 6, 15), 0),
        (date(2026, 6, 22), 0),
        (date(2026, 6, 29), 3),  # Jun 30 and the two Jul 1 rows; Jul 3 is after the period
    ]


def test_breaches_by() -> None:
    rows = [
        metric_row(order_name="#1", warehouse="Cicero (IL)", base_category="open"),
        metric_row(
            order_name="#2",
            warehouse="Cicero (IL)",
            base_category="fulfilled",
            shipped_at=DUE_AT + timedelta(hours=1),
        ),
        metric_row(order_name="#3", warehouse="Cicero (IL)", base_category="fulfilled", shipped_at=DUE_AT),
        metric_row(order_name="#4", warehouse="Reno (NV)", base_category="open"),
        metric_row(
            order_name="#5", warehouse="Allentown (PA)", base_category="sync_delay", shipped_at=DUE_AT
        ),
        metric_row(order_name="#6", warehouse=None, base_category="open"),
        metric_row(order_name="#7", warehouse="Reno (NV)", base_category="cancelled"),
    ]
    assert breaches_by(rows, "warehouse", LATE, policy()) == [
        BreachCount("Cicero (IL)", breaches=2, late=1, open_breach=1, population=3),
        BreachCount("Reno (NV)", breaches=1, late=0, open_breach=1, population=1),
        BreachCount(None, breaches=1, late=0, open_breach=1, population=1),
        BreachCount("Allentown (PA)", breaches=0, late=0, open_breach=0, population=1),
    ]


@pytest.mark.parametrize(
    ("key", "values"),
    [
        ("shipping_method", [("Standard", 1), ("Express", 0)]),
        ("carrier", [("USPS", 1), ("UPS", 0)]),
    ],
)
def test_breaches_by_other_keys(key: str, values: list) -> None:
    rows = [
        metric_row(
            order_name="#1",
            shipping_method="Express",
            carrier="UPS",
            base_category="fulfilled",
            shipped_at=DUE_AT,
        ),
        metric_row(order_name="#2", shipping_method="Standard", carrier="USPS", base_category="open"),
    ]
    assert [(b.value, b.breaches) for b in breaches_by(rows, key, LATE, policy())] == values  # type: ignore[arg-type]


def test_breaches_by_refuses_an_unknown_key() -> None:
    with pytest.raises(ValueError, match="cannot break metrics down by 'order_name'"):
        breaches_by([], "order_name", LATE, policy())  # type: ignore[arg-type]


def test_time_to_ship_hours() -> None:
    created = at("2026-07-01T10:00:00-04:00")
    rows = [
        metric_row(
            order_name="#1",
            base_category="fulfilled",
            created_at=created,
            shipped_at=created + timedelta(hours=26),
        ),
        metric_row(
            order_name="#2",
            base_category="sync_delay",
            created_at=created,
            shipped_at=created + timedelta(minutes=90),
        ),
        metric_row(
            order_name="#3", base_category="open", created_at=created, shipped_at=created + timedelta(hours=5)
        ),
        metric_row(order_name="#4", base_category="fulfilled", created_at=created, shipped_at=None),
        metric_row(order_name="#5", base_category="sync_delay", created_at=created, shipped_at=None),
        metric_row(
            order_name="#6",
            base_category="cancelled",
            created_at=created,
            shipped_at=created + timedelta(hours=1),
        ),
    ]
    assert time_to_ship_hours(rows) == [ShipTime("#1", 26.0), ShipTime("#2", 1.5)]


def test_time_to_ship_across_dst_counts_real_hours() -> None:
    created = at("2026-10-31T12:00:00-04:00")
    row = metric_row(
        base_category="fulfilled", created_at=created, shipped_at=at("2026-11-01T12:00:00-05:00")
    )
    assert time_to_ship_hours([row]) == [ShipTime("#3001", 25.0)]
