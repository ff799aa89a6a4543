"""The benchmark's own parts run (its figures are read by people, not asserted: see `make bench`)."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest

from bench.__main__ import query_latencies, summary_rows, timed_ms
from db.migrate import upgrade
from db.session import make_engine
from services.settings import Settings
from services.snapshot import import_snapshot
from tests.conftest import SMALL_STORE


def test_timed_ms_gives_median_and_max_of_the_runs_after_a_warm_up() -> None:
    calls = []
    median, worst = timed_ms(lambda: calls.append(1), repeat=3)
    assert len(calls) == 4 and 0 <= median <= worst


@pytest.fixture
def small_db(tmp_path: Path) -> Path:
    path = tmp_path / "bench.db"
    engine = make_engine(f"sqlite:///{path}")
    upgrade(engine)
    import_snapshot(
        SMALL_STORE, engine=engine, policy=Settings().policy(), now=datetime(2026, 7, 6, 14, tzinfo=UTC)
    )
    engine.dispose()
    return path


def test_query_latencies_and_lookup_rows_are_measured_on_a_database(small_db: Path) -> None:
    rows = query_latencies(small_db) + summary_rows(small_db)
    labels = [label for label, _, _ in rows]
    assert any(label.startswith("queue: page of 100") for label in labels)
    assert all(figure and "not measured" not in figure for _, figure, _ in rows)


def test_incremental_sync_cpu_is_measured_without_the_simulators() -> None:
    from bench.sync_bench import bench_incremental

    figures = bench_incremental(800, advance_h=24)
    assert figures["changed_orders"] > 0 and figures["records"]["shopify"] > 0
    assert figures["cpu_s"] > 0 and figures["simulator_cpu_s"] > 0  # the simulator ran in its own process
    per_1000 = figures["cpu_s"] / figures["changed_orders"] * 1000
    assert figures["cpu_s_per_1000_changed"] == pytest.approx(per_1000, rel=0.01)
