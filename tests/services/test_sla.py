"""SLA metrics grouped by the database equal the per-order rules (SPEC §6), on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import select
from sqlalchemy.engine import Engine

from checks.metrics import (
    MetricRow,
    breaches_by,
    compute_metrics,
    daily_on_time_rate,
    time_to_ship_hours,
)
from checks.policy import load_policy
from sandbox.clock import Clock
from sandbox.snapshot import write_snapshot
from sandbox.world import World
from services import audit, sla
from services.errors import PermissionDenied
from services.permissions import Actor, Role
from services.settings import DEFAULT_POLICY_PATH
from services.snapshot import import_snapshot
from services.store import T_CLASS

CLOCK = "2026-11-20T18:00:00+00:00"
POLICY = load_policy(DEFAULT_POLICY_PATH)
SYSTEM = Actor("system", Role.ADMIN, os_user="tests")


@pytest.fixture(scope="module")
def snapshot(tmp_path_factory: pytest.TempPathFactory) -> Path:
    target = tmp_path_factory.mktemp("world") / "snapshot"
    write_snapshot(World(seed=11, orders=800, clock=Clock.held_at(CLOCK)), target)
    return target


@pytest.fixture
def loaded(engine: Engine, snapshot: Path) -> Engine:
    import_snapshot(snapshot, engine=engine, policy=POLICY, now=datetime.fromisoformat(CLOCK))
    return engine


def per_order_rows(engine: Engine, date_from: date, date_to: date) -> list[MetricRow]:
    c = T_CLASS.c
    with engine.connect() as conn:
        rows = conn.execute(
            select(T_CLASS).where(
                c.due_day >= date_from,
                c.due_day <= date_to,
                c.base_category.in_(("open", "sync_delay", "fulfilled")),
            )
        )
        return [
            MetricRow(
                r.order_name,
                r.due_day,
                r.due_at,
                r.base_category,
                r.shipped_at,
                r.warehouse_name,
                r.shipping_method,
                r.carrier,
                r.created_at,
            )
            for r in rows
        ]


@pytest.mark.parametrize("days_back", [7, 30, 60])
@pytest.mark.parametrize("as_of_shift", [-5, 0, 10])
def test_grouped_rows_give_the_per_order_answers(loaded: Engine, days_back: int, as_of_shift: int) -> None:
    as_of = datetime.fromisoformat(CLOCK) + timedelta(days=as_of_shift)
    date_to = as_of.date()
    date_from = date_to - timedelta(days=days_back)
    single = per_order_rows(loaded, date_from, date_to)
    with loaded.connect() as conn:
        grouped = sla.metric_rows(conn, date_from=date_from, date_to=date_to)
    assert sum(r.count for r in grouped) == len(single) > 0
    args = {"date_from": date_from, "date_to": date_to, "as_of": as_of, "policy": POLICY, "noise_removed": 0}
    assert compute_metrics(grouped, **args) == compute_metrics(single, **args)
    assert daily_on_time_rate(grouped, as_of, POLICY) == daily_on_time_rate(single, as_of, POLICY)
    for key in ("warehouse", "shipping_method", "carrier"):
        assert breaches_by(grouped, key, as_of, POLICY) == breaches_by(single, key, as_of, POLICY)


def test_ship_time_histogram_counts_every_shipped_order(loaded: Engine) -> None:
    date_to = datetime.fromisoformat(CLOCK).date()
    date_from = date_to - timedelta(days=60)
    expected: dict[int, int] = {}
    for item in time_to_ship_hours(per_order_rows(loaded, date_from, date_to)):
        bucket = min(max(int(item.hours), 0), sla.MAX_SHIP_HOURS)
        expected[bucket] = expected.get(bucket, 0) + 1
    with loaded.connect() as conn:
        histogram = sla.ship_time_histogram(conn, date_from=date_from, date_to=date_to)
    assert dict(histogram) == expected and histogram


def test_an_empty_period_has_no_rate(loaded: Engine) -> None:
    with loaded.connect() as conn:
        metrics = sla.sla_metrics(
            conn,
            date_from=date(2020, 1, 1),
            date_to=date(2020, 1, 31),
            as_of=datetime(2020, 2, 1, tzinfo=UTC),
            policy=POLICY,
            actor=SYSTEM,
        )
    assert (metrics.on_time, metrics.late, metrics.open_breach, metrics.open, metrics.on_time_rate) == (
        0,
        0,
        0,
        0,
        None,
    )


def test_metrics_are_refused_to_a_role_the_database_does_not_grant(loaded: Engine) -> None:
    """The actor says admin; the database knows no such user: refused and audited (SPEC §7)."""
    with loaded.connect() as conn, pytest.raises(PermissionDenied):
        sla.sla_metrics(
            conn,
            date_from=date(2020, 1, 1),
            date_to=date(2020, 1, 31),
            as_of=datetime(2020, 2, 1, tzinfo=UTC),
            policy=POLICY,
            actor=Actor("ann", Role.ADMIN),
        )
    from sqlmodel import Session

    with Session(loaded) as session:
        [entry] = audit.list_entries(session, action="metrics.view")
    assert (entry.actor, entry.outcome) == ("ann", "denied")
