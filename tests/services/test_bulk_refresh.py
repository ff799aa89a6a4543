"""Bulk refresh: concurrent within a bound, progress with an estimate, cancel, and what changed."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.engine import Engine

from services.bulk_refresh import BulkProgress, bulk_refresh
from services.store import T_CLASS
from services.sync import sync_all
from tests.services.sources.simulator import Sim, simulator

pytestmark = pytest.mark.timeout(180)
DAY = 86400
LATENCY_MS = 200


@pytest.fixture
def slow() -> Iterator[Sim]:
    with simulator(orders=300, latency_ms=LATENCY_MS) as sim:
        yield sim


def _synced(engine: Engine, sim: Sim) -> list[str]:
    """Sync everything; the orders still open (the ones a refresh can move), oldest first."""
    settings = sim.settings()
    for result in sync_all(engine, settings, settings.policy(), now=sim.now()).values():
        assert result.ok
    c = T_CLASS.c
    with engine.connect() as conn:
        return list(
            conn.scalars(select(c.order_name).where(c.base_category == "open").order_by(c.order_name))
        )


def test_orders_refresh_concurrently_with_progress_and_say_what_changed(engine: Engine, slow: Sim) -> None:
    names = _synced(engine, slow)[:40]
    settings = slow.settings()
    later = slow.advance(3 * DAY)  # the world moves on: some orders ship, some gain discrepancies
    seen: list[BulkProgress] = []
    slow.reset_requests()
    outcome = bulk_refresh(
        engine, settings, settings.policy(), names, now=later, concurrency=8, progress=seen.append
    )
    assert outcome.refreshed == names and not outcome.failed and not outcome.cancelled
    # Orders are refreshed side by side, at most 8 at a time, each asking its three sources at once.
    assert 3 < _most_in_flight(slow.requests()["recent"]) <= 8 * 3
    assert [p.done for p in seen] == list(range(len(names) + 1))
    assert seen[-1].remaining_s == 0 and seen[0].remaining_s is None
    assert outcome.left_queue or outcome.gained or outcome.joined_queue
    assert set(outcome.left_queue) <= set(names) and set(outcome.gained) <= set(names)


def _most_in_flight(requests: list[dict[str, Any]]) -> int:
    """The most requests the simulator was serving at one moment."""
    edges = sorted([(r["t"], 1) for r in requests] + [(r["done"], -1) for r in requests])
    most = current = 0
    for _, step in edges:
        current += step
        most = max(most, current)
    return most


def test_cancel_stops_new_orders_from_starting(engine: Engine, slow: Sim) -> None:
    names = _synced(engine, slow)[:30]
    settings = slow.settings()
    done: list[int] = []

    def progress(step: BulkProgress) -> None:
        done.append(step.done)

    outcome = bulk_refresh(
        engine,
        settings,
        settings.policy(),
        names,
        now=slow.now(),
        concurrency=4,
        progress=progress,
        cancelled=lambda: len(done) > 5,
    )
    assert outcome.cancelled
    assert 0 < len(outcome.refreshed) < len(names)
    assert sorted(outcome.refreshed + outcome.failed + outcome.not_started) == sorted(names)


def test_refreshes_side_by_side_stay_within_the_shops_query_budget(engine: Engine) -> None:
    """Sixteen order queries at once ask for twice what the shop's cost bucket holds (2,000 points,
    restoring 100 a second, 249 asked per order query): paced together, none is refused for good."""
    with simulator(
        orders=300, latency_ms=LATENCY_MS, shopify_graphql_bucket=2000.0, shopify_graphql_restore_per_s=100.0
    ) as sim:
        _synced(engine, sim)
        with engine.connect() as conn:
            names = list(conn.scalars(select(T_CLASS.c.order_name).order_by(T_CLASS.c.order_name).limit(100)))
        settings = sim.settings()
        outcome = bulk_refresh(engine, settings, settings.policy(), names, now=sim.now(), concurrency=16)
        assert outcome.refreshed == names and not outcome.failed
