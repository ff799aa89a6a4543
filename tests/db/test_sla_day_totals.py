"""The per-day SLA totals (migration 0016) always equal a count of the stored classifications, whatever
wrote them: an import, rewritten classifications, a reclassification under another policy, a deleted
order, and the migration itself on a database that already holds orders. SQLite and PostgreSQL."""

from __future__ import annotations

from collections import Counter
from dataclasses import replace
from datetime import datetime, timedelta
from pathlib import Path

import msgspec
import pytest
from sqlalchemy import delete, select
from sqlalchemy.engine import Connection, Engine

from db.migrate import upgrade
from sandbox.clock import Clock
from sandbox.snapshot import write_snapshot
from sandbox.world import World
from services import queue, store
from services.snapshot import import_snapshot
from services.store import T_CLASS, T_DAY_TOTAL, T_ORDER
from tests.services.test_sla import CLOCK, POLICY

NOW = datetime.fromisoformat(CLOCK)
POPULATION = ("open", "sync_delay", "fulfilled")


@pytest.fixture(scope="module")
def snapshot(tmp_path_factory: pytest.TempPathFactory) -> Path:
    target = tmp_path_factory.mktemp("world") / "snapshot"
    write_snapshot(World(seed=5, orders=400, clock=Clock.held_at(CLOCK)), target)
    return target


def counted(conn: Connection) -> Counter[tuple[object, ...]]:
    """What the totals must say: each population order counted under its group, in Python."""
    groups: Counter[tuple[object, ...]] = Counter()
    for r in conn.execute(select(T_CLASS).where(T_CLASS.c.base_category.in_(POPULATION))):
        shipped = "none" if r.shipped_at is None else "on_time" if r.shipped_at <= r.due_at else "late"
        key = (r.due_day, r.base_category, r.warehouse_name or "", r.shipping_method or "", r.carrier or "")
        groups[(*key, r.due_at, shipped)] += 1
    return groups


def totals(conn: Connection) -> Counter[tuple[object, ...]]:
    d = T_DAY_TOTAL.c
    rows = conn.execute(
        select(
            d.due_day,
            d.base_category,
            d.warehouse_name,
            d.shipping_method,
            d.carrier,
            d.due_at,
            d.shipped,
            d.orders,
        )
    ).all()
    assert all(r.orders > 0 for r in rows)  # a group that empties is removed, not left at zero
    return Counter({tuple(r[:7]): r.orders for r in rows})


def test_an_import_fills_the_totals(engine: Engine, snapshot: Path) -> None:
    import_snapshot(snapshot, engine=engine, policy=POLICY, now=NOW)
    with engine.connect() as conn:
        expected = counted(conn)
        assert sum(expected.values()) > 100 and {k[6] for k in expected} == {"none", "on_time", "late"}
        assert totals(conn) == expected


def test_rewritten_classifications_move_between_groups(engine: Engine, snapshot: Path) -> None:
    import_snapshot(snapshot, engine=engine, policy=POLICY, now=NOW)
    with engine.begin() as conn:
        ids = list(conn.scalars(select(T_CLASS.c.order_id).order_by(T_CLASS.c.order_id).limit(60)))
        classified = store.classify_views(store.load_views(conn, ids, events=False), POLICY, NOW)
        moved = []
        for n, c in enumerate(classified):
            row = list(c.row)
            index = store.CLASS_COLUMNS.index
            match n % 5:
                case 0:  # late now, or shipped after all
                    row[index("shipped_at")] = row[index("due_at")] + timedelta(hours=3)
                    row[index("base_category")] = "fulfilled"
                case 1:  # out of the population
                    row[index("base_category")] = "cancelled"
                case 2:  # another warehouse and no carrier
                    row[index("warehouse_name")], row[index("carrier")] = "Elsewhere", None
                case 3:  # another due day
                    row[index("due_day")] += timedelta(days=2)
                    row[index("due_at")] += timedelta(days=2)
                case _:  # written again unchanged
                    pass
            moved.append(msgspec.structs.replace(c, row=tuple(row)))
        store.write_classifications(conn, moved)
        assert totals(conn) == counted(conn)
        # A deleted store order takes its classification with it (ON DELETE CASCADE), and its count.
        conn.execute(delete(T_ORDER).where(T_ORDER.c.id.in_(ids[:7])))
        assert totals(conn) == counted(conn)


def test_a_reclassification_under_another_policy_keeps_the_totals(engine: Engine, snapshot: Path) -> None:
    import_snapshot(snapshot, engine=engine, policy=POLICY, now=NOW)
    other = replace(POLICY, handling_days=POLICY.handling_days + 2)
    with engine.begin() as conn:
        before = totals(conn)
        assert store.reclassify_all(conn, other, NOW) > 0
        after = totals(conn)
        assert after == counted(conn) and after != before


def downgrade(engine: Engine, revision: str) -> None:
    from alembic import command

    from db.migrate import alembic_config

    config = alembic_config()
    with engine.begin() as connection:
        config.attributes["connection"] = connection
        command.downgrade(config, revision)


def test_the_migration_counts_the_orders_already_stored(engine: Engine, snapshot: Path) -> None:
    """Orders stored before 0016: upgrading counts them, and the totals follow every change from then on."""
    downgrade(engine, "0015")
    import_snapshot(snapshot, engine=engine, policy=POLICY, now=NOW)
    upgrade(engine)
    with engine.begin() as conn:
        assert sum(totals(conn).values()) > 100 and totals(conn) == counted(conn)
        conn.execute(delete(T_ORDER).where(T_ORDER.c.id.in_(select(T_CLASS.c.order_id).limit(5))))
        assert totals(conn) == counted(conn)


def test_the_queue_filters_offer_what_open_orders_hold(engine: Engine, snapshot: Path) -> None:
    import_snapshot(snapshot, engine=engine, policy=POLICY, now=NOW)
    with engine.connect() as conn:
        rows = conn.execute(
            select(T_CLASS.c.shipping_method, T_CLASS.c.warehouse_name).where(
                T_CLASS.c.base_category == "open"
            )
        ).all()
        assert queue.queue_filter_values(conn) == {
            "shipping_method": sorted({r.shipping_method for r in rows if r.shipping_method}),
            "warehouse": sorted({r.warehouse_name for r in rows if r.warehouse_name}),
        }
