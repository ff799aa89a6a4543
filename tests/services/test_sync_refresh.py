"""Per-order refresh: each source alone, all three at once (concurrently), failures kept per source."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta

import pytest
from sqlalchemy import select
from sqlalchemy.engine import Engine

from services.errors import NotFoundError
from services.store import T_CLASS, T_ORDER, T_TRACKER, T_WAREHOUSE
from services.sync import SyncOptions, recent_runs, refresh_order, sync_all
from services.sync.runs import T_RUN
from tests.services.sources.simulator import Sim, simulator

pytestmark = pytest.mark.timeout(120)
DAY = 86400


@pytest.fixture
def moving() -> Iterator[Sim]:
    with simulator(orders=600) as sim:
        yield sim


def _shipped_within_a_day(sim: Sim, count: int) -> list[str]:
    """Orders open now that the 3PL ships, the store fulfills and the carrier tracks within a day."""
    world, now = sim.running.world, sim.now().timestamp()
    found = [
        i
        for i in range(world.n)
        if world.scenario_name(i) == "normal"
        and not world.row(i).quirk
        and world.row(i).t0 <= now < world.row(i).t_ship1
        and world.row(i).t_ful1 <= now + DAY
        and world.row(i).t_ship1 + 1300 <= now + DAY
    ]
    assert len(found) >= count
    return [f"#{2001 + i}" for i in found[:count]]


def _row(engine: Engine, name: str) -> tuple[str | None, str | None]:
    with engine.connect() as conn:
        return (
            conn.scalar(select(T_ORDER.c.fulfillment_status).where(T_ORDER.c.name == name)),
            conn.scalar(select(T_CLASS.c.base_category).where(T_CLASS.c.order_name == name)),
        )


def test_refresh_each_source_then_all_of_them(engine: Engine, moving: Sim) -> None:
    one, two = _shipped_within_a_day(moving, 2)
    settings = moving.settings()
    policy = settings.policy()
    for result in sync_all(engine, settings, policy, now=moving.now()).values():
        assert result.ok
    assert _row(engine, one)[0] is None
    later = moving.advance(DAY)

    store = refresh_order(engine, settings, policy, one, sources=["store"], now=later)
    assert list(store.sources) == ["store"] and store.ok
    assert (
        store.sources["store"].changed
        and "fulfillment_status None → fulfilled" in store.sources["store"].detail
    )
    assert _row(engine, one) == ("fulfilled", "fulfilled")
    assert store.category_before != "fulfilled" and store.category_after == "fulfilled"

    warehouse = refresh_order(engine, settings, policy, one, sources=["3pl"], now=later)
    assert warehouse.sources["3pl"].changed and "Completed" in warehouse.sources["3pl"].detail
    carrier = refresh_order(engine, settings, policy, one, sources=["carrier"], now=later)
    assert carrier.sources["carrier"].changed and "new tracker" in carrier.sources["carrier"].detail
    again = refresh_order(engine, settings, policy, one, now=later)
    assert again.ok and not again.changed
    assert {s: r.detail for s, r in again.sources.items()} == {
        "store": "unchanged",
        "3pl": "unchanged",
        "carrier": "unchanged",
    }

    moving.reset_requests()
    everything = refresh_order(engine, settings, policy, two, now=later)
    assert everything.ok and all(r.changed for r in everything.sources.values())
    assert _row(engine, two) == ("fulfilled", "fulfilled")
    with engine.connect() as conn:
        order_id = conn.scalar(select(T_ORDER.c.id).where(T_ORDER.c.name == two))
        shipped = conn.scalar(select(T_WAREHOUSE.c.status).where(T_WAREHOUSE.c.reference_id == str(order_id)))
        trackers = conn.scalar(
            select(T_TRACKER.c.status)
            .join(T_CLASS, T_CLASS.c.carrier.is_not(None))
            .where(T_CLASS.c.order_name == two)
            .limit(1)
        )
        runs = conn.execute(
            select(T_RUN.c.source, T_RUN.c.mode, T_RUN.c.order_name).where(T_RUN.c.order_name == two)
        ).all()
    assert shipped in ("Completed", "Fulfilled") and trackers is not None
    assert sorted(r.source for r in runs) == ["easypost", "shipbob", "shopify"]
    assert {r.mode for r in runs} == {"order"}
    # The carrier is asked about the new tracking number the store's and the 3PL's answers brought.
    assert any(
        r["path"].endswith("/v2/trackers") and "tracking_code=" in r["query"]
        for r in moving.requests()["recent"]
    )


def test_refresh_of_an_order_not_stored_yet_finds_it_by_name(engine: Engine, moving: Sim) -> None:
    settings = moving.settings()
    result = refresh_order(engine, settings, settings.policy(), "2010", now=moving.now())
    assert result.ok and result.order_id is not None and result.name == "#2010"
    assert result.sources["store"].detail == "new order"
    assert _row(engine, "#2010")[1] is not None
    with pytest.raises(NotFoundError):
        refresh_order(engine, settings, settings.policy(), "#999999", now=moving.now())
    with pytest.raises(NotFoundError):
        refresh_order(engine, settings, settings.policy(), "#2011", sources=["carrier"], now=moving.now())


@pytest.fixture(scope="module")
def slow() -> Iterator[Sim]:
    with simulator(orders=300) as sim:
        yield sim


def test_refresh_asks_the_three_sources_at_once(sqlite_engine: Engine, slow: Sim) -> None:
    settings = slow.settings()
    now = slow.now()
    for run in sync_all(
        sqlite_engine, settings, settings.policy(), now=now, options=SyncOptions(backoff_s=0.01)
    ).values():
        assert run.ok
    with sqlite_engine.connect() as conn:  # a delivered order: stored tracking numbers, nothing new
        name = conn.scalar(
            select(T_CLASS.c.order_name)
            .where(T_CLASS.c.base_category == "fulfilled", T_CLASS.c.carrier.is_not(None))
            .order_by(T_CLASS.c.order_id)
        )
    assert name
    slow.faults(latency_ms=300)
    slow.reset_requests()
    result = refresh_order(sqlite_engine, settings, settings.policy(), name, now=now + timedelta(minutes=1))
    assert result.ok and not result.changed
    # Every source answers 300 ms after a request arrives: asked one after another, each request would
    # arrive at least 300 ms after the one before; asked at once, the first of each source's calls
    # arrive together. (The bench measures the wall time.)
    arrivals = {}
    for request in slow.requests()["recent"]:
        arrivals.setdefault(request["source"], request["t"])
    assert set(arrivals) == {"shopify", "shipbob", "easypost"}
    assert max(arrivals.values()) - min(arrivals.values()) < 0.25, arrivals
    for sources, asked in ((["store"], "shopify"), (["3pl"], "shipbob"), (["carrier"], "easypost")):
        slow.reset_requests()
        assert refresh_order(sqlite_engine, settings, settings.policy(), name, sources=sources).ok
        assert {r["source"] for r in slow.requests()["recent"]} == {asked}


def test_a_failing_source_is_reported_and_the_others_still_written(sqlite_engine: Engine, slow: Sim) -> None:
    slow.faults(latency_ms=0)
    good = slow.settings()
    sync_all(sqlite_engine, good, good.policy(), now=slow.now())
    bad = slow.settings(shopify_access_token="wrong")
    result = refresh_order(sqlite_engine, bad, bad.policy(), "#2005", now=slow.now())
    assert not result.ok
    assert not result.sources["store"].ok and "SHOPIFY_ACCESS_TOKEN" in (result.sources["store"].error or "")
    assert result.sources["3pl"].ok and result.sources["carrier"].ok
    with sqlite_engine.connect() as conn:
        latest = recent_runs(conn, 3)
    assert {(r.source, r.status) for r in latest} == {
        ("shopify", "failed"),
        ("shipbob", "ok"),
        ("easypost", "ok"),
    }
