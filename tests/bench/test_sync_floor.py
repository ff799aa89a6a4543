"""The sync floor's parts measure what they say: every list page, every stored row (figures are read by
people, not asserted)."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest

from bench.sync_floor import _stored_rows, bench_sync_floor, fetch_and_decode, insert_as_paged
from db.migrate import upgrade
from db.session import make_engine
from services.sync import sync_all
from tests.services.sources.simulator import CLOCK, simulator

pytestmark = pytest.mark.timeout(180)

NOW = datetime.fromisoformat(CLOCK.replace("Z", "+00:00")).astimezone(UTC)


def _migrated(path: Path) -> str:
    engine = make_engine(f"sqlite:///{path}")
    upgrade(engine)
    engine.dispose()
    return str(path)


def test_fetching_decodes_every_record_a_full_sync_stores_and_insertion_stores_every_row(
    tmp_path: Path,
) -> None:
    with simulator(orders=300) as sim:
        settings = sim.settings()
        engine = make_engine(f"sqlite:///{_migrated(tmp_path / 'synced.db')}")
        results = sync_all(engine, settings, settings.policy(), full=True, now=NOW)
        engine.dispose()
        decoded = fetch_and_decode({"base_url": sim.running.base_url, **sim.running.settings()})

    rows = _stored_rows(str(tmp_path / "synced.db"))
    assert decoded["shopify"] == len(rows["store_order"]) == 300
    assert decoded["shipbob"] == len(rows["warehouse_order"]) > 0
    assert decoded["easypost"] == len(rows["carrier_tracker"]) > 100  # more than one page of 100
    assert decoded["bytes"] > 0

    pages = {source: result.pages for source, result in results.items()}
    assert pages["easypost"] > 1
    copy = _migrated(tmp_path / "copy.db")
    assert insert_as_paged(copy, rows, pages) == sum(max(n, 1) for n in pages.values())
    assert _stored_rows(copy) == rows


def test_the_floor_reports_its_parts_their_sum_and_the_budget() -> None:
    floor = bench_sync_floor(150, runs=1)
    parts = ("transport_client_s", "transport_simulator_s", "sqlite_s", "classify_s")
    assert floor["orders"] == 150 and floor["rows"] > 150 and floor["received_mb"] > 0
    assert all(floor[part] >= 0 for part in parts) and floor["transport_client_s"] > 0
    assert floor["floor_cpu_s"] == pytest.approx(sum(floor[part] for part in parts), abs=0.02)
    assert floor["budget_cpu_s"] == 0.06
