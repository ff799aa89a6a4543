"""The stage ends stored at write time (and filled by migration 0015) are what the rules derive from the
records themselves, on SQLite and PostgreSQL; the breakdown read from them is the one those rules give."""

from __future__ import annotations

from datetime import date, datetime

import numpy as np
import pytest
from alembic import command
from sqlalchemy import select
from sqlalchemy.engine import Connection, Engine

from checks.model import OrderView
from checks.shipping import first_scan_at, handed_over_at, shipped_at
from db.migrate import HEAD, alembic_config
from services.reports.stages import ALL_WAREHOUSES, STAGES, stages
from services.store import T_CLASS, T_ORDER, T_TRACKER, load_views

FROM, TO = date(2026, 10, 21), date(2026, 11, 20)


def _views(conn: Connection) -> list[OrderView]:
    """Every order with its trackers' scans read in full, as the rules see them."""
    return load_views(conn, list(conn.scalars(select(T_ORDER.c.id).order_by(T_ORDER.c.id))), events=True)


def _stored(conn: Connection) -> dict[int, tuple[datetime | None, datetime | None]]:
    return {r.order_id: (r.handed_over_at, r.first_scan_at) for r in conn.execute(select(T_CLASS))}


def _assert_stored_as_derived(engine: Engine) -> None:
    with engine.connect() as conn:
        views = _views(conn)
        stored = _stored(conn)
        trackers = {
            r.id: r.first_scan_at for r in conn.execute(select(T_TRACKER.c.id, T_TRACKER.c.first_scan_at))
        }
    derived = {v.store.id: (handed_over_at(v), first_scan_at(v)) for v in views}
    assert stored == derived
    # The world has orders at every stage: handed over or not, scanned or not.
    assert {h is None for h, _ in derived.values()} == {True, False}
    assert {s is None for _, s in derived.values()} == {True, False}
    scans = {t.id: t.first_scan_at for v in views for t in v.trackers}
    assert {i: trackers[i] for i in scans} == scans
    # A label created is not a scan: some tracker's oldest detail is pre_transit, and it is not its first scan.
    labelled = [
        t
        for v in views
        for t in v.trackers
        if t.events and min(t.events, key=lambda e: e.datetime).status == "pre_transit"
    ]
    assert labelled and all(t.first_scan_at != min(e.datetime for e in t.events) for t in labelled)


def test_the_import_stores_the_stage_ends_the_rules_derive(loaded: Engine) -> None:
    _assert_stored_as_derived(loaded)


def test_the_migration_fills_them_as_the_rules_do(loaded: Engine) -> None:
    config = alembic_config()
    with loaded.begin() as connection:  # back to before the columns existed, then up again
        config.attributes["connection"] = connection
        command.downgrade(config, "0014")
        command.upgrade(config, HEAD)
    _assert_stored_as_derived(loaded)


def test_the_breakdown_is_the_rules_over_the_records(loaded: Engine) -> None:
    """Median and p90 per warehouse from the stored ends equal those from each order's records."""
    with loaded.connect() as conn:
        figures = {(f.warehouse, f.stage): f for f in stages(conn, date_from=FROM, date_to=TO)}
        classes = {
            r.order_id: r for r in conn.execute(select(T_CLASS).where(T_CLASS.c.due_day.between(FROM, TO)))
        }
        views = [v for v in _views(conn) if v.store.id in classes]
    expected: dict[tuple[str, str], list[float]] = {}
    for view in views:
        c = classes[view.store.id]
        shipped = c.base_category in ("fulfilled", "sync_delay")
        if not (
            c.base_category in ("open", "sync_delay") or (c.base_category == "fulfilled" and c.shipped_at)
        ):
            continue
        ends = [view.store.created_at, handed_over_at(view), shipped_at(view) if shipped else None]
        ends.append(first_scan_at(view) if shipped else None)
        for stage, start, end in zip(STAGES, ends, ends[1:], strict=False):
            if start is not None and end is not None:
                hours = (end - start).total_seconds() / 3600
                for warehouse in (c.warehouse_name or "unknown", ALL_WAREHOUSES):
                    expected.setdefault((warehouse, stage), []).append(hours)
    assert {k for k, f in figures.items() if f.orders} == set(expected)
    for key, hours in expected.items():
        figure = figures[key]
        assert figure.orders == len(hours)
        assert figure.median_hours == pytest.approx(float(np.percentile(hours, 50)), abs=1e-6)
        assert figure.p90_hours == pytest.approx(float(np.percentile(hours, 90)), abs=1e-6)
