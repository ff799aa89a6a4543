"""The three connectors against the simulator over loopback: paging, lookups, auth, rate limits."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from typing import Any

import pytest

from sandbox.world import order_id
from services.errors import SourceAuthError, SourceRateLimited
from services.sources.easypost_client import AsyncEasyPostClient, EasyPostClient
from services.sources.shopify_client import AsyncShopifyClient, CallLimitPacer, ShopifyClient
from services.sources.shopify_holds import HOLDS_QUERY
from tests.services.sources.simulator import Sim, simulator

pytestmark = pytest.mark.timeout(60)


@pytest.fixture(scope="module")
def sim() -> Iterator[Sim]:
    with simulator() as running:
        yield running


@pytest.fixture(autouse=True)
def _clean(sim: Sim) -> Iterator[None]:
    sim.clear_faults()
    sim.reset_requests()
    yield
    sim.clear_faults()
    sim.faults(
        shopify_bucket={"capacity": 100_000, "leak_per_s": 100_000},
        shopify_graphql_bucket={"capacity": 2000, "restore_per_s": 1e7},
    )


def _counts(sim: Sim) -> dict[str, int]:
    return sim.http.get("/_sim/state").json()["counts"]


def _paths(sim: Sim) -> list[tuple[str, str, int | None]]:
    return [(r["method"], r["path"].split("/", 2)[-1], r["status"]) for r in sim.requests()["recent"]]


# ---------------------------------------------------------------- Shopify


def test_shopify_pages_follow_the_link_header(sim: Sim) -> None:
    with ShopifyClient(sim.settings()) as client:
        pages = list(client.order_pages(limit=100))
    ids = [o.id for page in pages for o in page.orders]
    assert len(ids) == len(set(ids)) == _counts(sim)["store_orders"]
    assert ids == sorted(ids)
    assert len(pages) == -(-len(ids) // 100) and pages[-1].next_url is None
    queries = [r["query"] for r in sim.requests()["recent"]]
    assert "status=any" in queries[0] and "limit=100" in queries[0]
    assert all(q.startswith("limit=100&page_info=") for q in queries[1:])


def test_shopify_updated_at_min_asks_only_for_changes(sim: Sim) -> None:
    now = sim.now()
    from datetime import timedelta

    with ShopifyClient(sim.settings()) as client:
        recent = [o for p in client.order_pages(updated_at_min=now - timedelta(hours=6)) for o in p.orders]
    assert 0 < len(recent) < _counts(sim)["store_orders"]
    assert "updated_at_min=2026-11-20T09%3A00%3A00%2B00%3A00" in sim.requests()["recent"][0]["query"]


def test_shopify_order_by_id_by_name_and_hold(sim: Sim) -> None:
    world = sim.running.world
    held = next(
        i
        for i in range(world.n)
        if world.scenario_name(i) == "on_hold"
        and world.row(i).t_release > world.now()
        and world.row(i).t0 <= world.now()
    )
    with ShopifyClient(sim.settings()) as client:
        by_name = client.order_by_name(f"#{2001 + held}")
        assert by_name is not None and by_name.id == order_id(held) and by_name.on_hold is True
        assert client.order(order_id(held)) == by_name
        assert client.order_by_name(str(2001 + held)) == by_name
        assert client.order_by_name("#999999") is None
        assert client.order(5) is None


def test_shopify_wrong_token_names_the_setting(sim: Sim) -> None:
    with (
        ShopifyClient(sim.settings(shopify_access_token="wrong")) as client,
        pytest.raises(SourceAuthError) as caught,
    ):
        client.order_by_name("#2001")
    assert caught.value.status == 401 and caught.value.source == "shopify"
    assert "SHOPIFY_ACCESS_TOKEN" in str(caught.value)
    assert len(sim.requests()["recent"]) == 1  # never retried


def test_shopify_429_waits_retry_after(sim: Sim) -> None:
    sim.faults(script=["429"], source="shopify", retry_after="0.3")
    with ShopifyClient(sim.settings()) as client:
        assert client.order_by_name("#2001") is not None
        assert 0.3 in client.stats.waits and client.stats.retries == 1
    assert [s for _, _, s in _paths(sim)][:2] == [429, 200]


def test_shopify_pacer_slows_down_before_the_bucket_is_full(sim: Sim) -> None:
    sim.faults(shopify_bucket={"capacity": 10, "leak_per_s": 20})
    pacer = CallLimitPacer(leak_per_s=20)
    with ShopifyClient(sim.settings(), pacer=pacer) as client:
        for i in range(30):
            client.on_hold(order_id(i))
        paced = client.stats.waited_s
    statuses = [s for _, _, s in _paths(sim)]
    assert statuses == [200] * 30  # never throttled
    assert paced > 0.5  # ~ (30 - 7.5) / 20 s spread over the calls


def _order_ids(sim: Sim, count: int) -> list[int]:
    with ShopifyClient(sim.settings()) as client:
        ids = [o.id for page in client.order_pages() for o in page.orders]
    assert len(ids) >= count
    return ids[:count]


def test_shopify_holds_ask_a_hundred_orders_per_graphql_query(sim: Sim) -> None:
    ids = [*_order_ids(sim, 400), order_id(sim.running.world.n + 5)]  # the last one the store does not know
    with ShopifyClient(sim.settings()) as client:
        holds = client.holds(ids)
        assert holds == {i: client.on_hold(i) for i in ids[:-1]}  # the REST answer, order by order
    assert any(holds.values()) and not all(holds.values())
    assert len(sim.calls("POST /shopify/admin/api/2024-10/graphql.json")) == 5


def test_shopify_holds_wait_for_the_cost_bucket(sim: Sim) -> None:
    # 900 points requested per 100 orders, about half refunded: the second query must wait for the bucket.
    sim.faults(shopify_graphql_bucket={"capacity": 1000, "restore_per_s": 1000})
    ids = _order_ids(sim, 200)
    with ShopifyClient(sim.settings()) as paced:
        paced.holds(ids)
    assert 0.3 < paced.stats.waited_s < 1.0 and paced.stats.retries == 0


def test_shopify_holds_throttled_wait_and_ask_again(sim: Sim) -> None:
    # A bucket restoring 10 points/s: after another client's query the next one is THROTTLED for ~35 s.
    slow = {"capacity": 1000, "restore_per_s": 10}
    sim.faults(shopify_graphql_bucket=slow)
    ids = _order_ids(sim, 200)
    waits: list[float] = []

    def sleep(seconds: float) -> None:  # the wait goes by: the bucket is full again
        waits.append(seconds)
        sim.faults(shopify_graphql_bucket=slow)

    with ShopifyClient(sim.settings()) as first, ShopifyClient(sim.settings(), sleep=sleep) as second:
        expected = first.holds(ids[100:])
        sim.faults(shopify_graphql_bucket=slow)
        first.holds(ids[:100])
        assert second.holds(ids[100:]) == expected
    assert second.stats.retries == 1 and len(waits) == 1 and 20 < waits[0] <= 60


def test_shopify_holds_throttled_beyond_patience_is_an_error(sim: Sim) -> None:
    sim.faults(shopify_graphql_bucket={"capacity": 1000, "restore_per_s": 1e-6})
    ids = _order_ids(sim, 200)
    with ShopifyClient(sim.settings()) as first, ShopifyClient(sim.settings()) as second:
        first.holds(ids[:100])
        with pytest.raises(SourceRateLimited, match="query cost throttled") as caught:
            second.holds(ids[100:])
    assert caught.value.retry_after is not None and caught.value.retry_after > 60


def test_shopify_graphql_refuses_what_it_does_not_serve(sim: Sim) -> None:
    settings = sim.running.settings()
    url = settings["SHOPIFY_SHOP_URL"].rstrip("/") + "/admin/api/2024-10/graphql.json"
    headers = {"X-Shopify-Access-Token": settings["SHOPIFY_ACCESS_TOKEN"]}
    other = sim.http.post(url, json={"query": "{ shop { name } }"}, headers=headers).json()
    assert other["errors"][0]["extensions"]["code"] == "UNSUPPORTED_QUERY"
    many = {"query": HOLDS_QUERY, "variables": {"ids": [f"gid://shopify/Order/{i}" for i in range(200)]}}
    too_costly = sim.http.post(url, json=many, headers=headers).json()
    assert too_costly["errors"][0]["extensions"]["code"] == "MAX_COST_EXCEEDED"


def test_shopify_async_client_retries_like_the_blocking_one(sim: Sim) -> None:
    sim.faults(script=["500"], source="shopify")

    async def ask() -> Any:
        async with AsyncShopifyClient(sim.settings()) as client:
            return await client.order(order_id(3)), client.stats.retries

    order, retries = asyncio.run(ask())
    assert order is not None and order.name == "#2004" and retries == 1


# ShipBob: tests/services/sources/test_shipbob_client.py


# ---------------------------------------------------------------- EasyPost


def test_easypost_pages_with_before_id(sim: Sim) -> None:
    with EasyPostClient(sim.settings()) as client:
        pages = list(client.tracker_pages(page_size=50))
    trackers = [t for page in pages for t in page.trackers]
    assert len({t.id for t in trackers}) == len(trackers) == _counts(sim)["trackers"]
    created = [t.created_at.isoformat() if t.created_at else "" for t in trackers]
    assert all(created) and created == sorted(created, reverse=True)  # newest first
    assert not pages[-1].has_more and all(p.has_more for p in pages[:-1])
    queries = [r["query"] for r in sim.requests()["recent"]]
    assert "before_id" not in queries[0] and all("before_id=" in q for q in queries[1:])


def test_easypost_tracker_by_id_and_by_code(sim: Sim) -> None:
    with EasyPostClient(sim.settings()) as client:
        newest = next(iter(client.tracker_pages(page_size=1))).trackers[0]
        assert client.tracker(newest.id) == newest
        assert client.tracker_by_code(newest.tracking_code) == newest
        assert client.tracker("trk_doesnotexist") is None
        assert client.tracker_by_code("NOSUCHCODE") is None

    async def ask() -> Any:
        async with AsyncEasyPostClient(sim.settings()) as client:
            return await client.tracker_by_code(newest.tracking_code)

    assert asyncio.run(ask()) == newest


def test_easypost_wrong_key_names_the_setting(sim: Sim) -> None:
    with (
        EasyPostClient(sim.settings(easypost_api_key="wrong")) as client,
        pytest.raises(SourceAuthError) as caught,
    ):
        client.tracker("trk_x")
    assert "EASYPOST_API_KEY" in str(caught.value)


def test_easypost_429_waits_retry_after(sim: Sim) -> None:
    sim.faults(script=["429"], source="easypost", retry_after="0.2")
    with EasyPostClient(sim.settings()) as client:
        assert client.tracker("trk_x") is None
        assert client.stats.waits == [0.2]
