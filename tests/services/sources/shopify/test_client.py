"""The Shopify GraphQL connector against the simulator over loopback: pages, cost throttling, bulk
operations, one order, webhooks, and every way the store can say no."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterator
from datetime import timedelta

import httpx
import pytest

from sandbox.shopify_graphql import listing
from services.errors import SourceError, SourceProtocolError
from services.sources.shopify.client import (
    PAGE_LIMIT,
    WEBHOOK_TOPICS,
    AsyncShopifyClient,
    CostPacer,
    ShopifyClient,
    _query,
    search_since,
)
from services.sources.shopify.queries import ORDER_COST, data_of
from tests.services.sources.simulator import Sim

pytestmark = pytest.mark.timeout(120)
SIM = {"orders": 300}  # the module's simulator (tests/services/conftest.py)
GRAPHQL = "POST /shopify/admin/api/2026-10/graphql.json"


@pytest.fixture(autouse=True)
def _clean(clean_sim: Sim) -> Iterator[None]:
    yield
    sim = clean_sim
    sim.faults(
        shopify_gone=False,
        shopify_bulk_fail=None,
        shopify_graphql_bucket={"capacity": 2000, "restore_per_s": 1e7},
    )


def _store_count(sim: Sim) -> int:
    return int(sim.http.get("/_sim/state").json()["counts"]["store_orders"])


def test_pages_cover_every_order_once_within_the_query_cost_limit(sim: Sim) -> None:
    with ShopifyClient(sim.settings()) as client:
        pages = list(client.order_pages(limit=250))
    ids = [o.id for p in pages for o in p.orders]
    assert len(ids) == len(set(ids)) == _store_count(sim)
    assert all(len(p.orders) <= PAGE_LIMIT for p in pages) and PAGE_LIMIT * ORDER_COST <= 1000
    assert all(o.on_hold is not None for p in pages for o in p.orders)  # holds come with the order
    assert any(o.on_hold for p in pages for o in p.orders)
    assert len(sim.calls(GRAPHQL)) == len(pages)


def test_an_incremental_page_run_reads_only_orders_updated_since(sim: Sim) -> None:
    since = sim.now() - timedelta(hours=6)
    with ShopifyClient(sim.settings()) as client:
        pages = list(client.order_pages(updated_at_min=since))
        again = list(client.order_pages(updated_at_min=since, after=pages[0].cursor))
    recent = [o for p in pages for o in p.orders]
    expected = listing(sim.running.sim, int(sim.now().timestamp()), search_since(since), True)[0]
    assert 0 < len(recent) == len(expected) < _store_count(sim)
    assert all(o.updated_at >= since for o in recent)
    assert [o.updated_at for o in recent] == sorted(o.updated_at for o in recent)
    assert [o.id for p in again for o in p.orders] == [o.id for o in recent[len(pages[0].orders) :]]


def test_the_pacer_waits_before_the_bucket_runs_dry(sim: Sim) -> None:
    # A bucket that holds one page (and a little) and restores one in a fifth of a second.
    page_cost = PAGE_LIMIT * ORDER_COST + 3
    sim.faults(shopify_graphql_bucket={"capacity": page_cost + 20, "restore_per_s": page_cost * 5})
    with ShopifyClient(sim.settings()) as client:
        pages = list(client.order_pages())
    assert sum(len(p.orders) for p in pages) == _store_count(sim)
    assert client.stats.retries == 0 and client.stats.waited_s > 0  # waited ahead, never throttled


def test_a_throttled_query_is_waited_out_and_asked_again(sim: Sim) -> None:
    sim.faults(shopify_graphql_bucket={"capacity": 1000, "restore_per_s": 200})
    slept: list[float] = []

    def sleep(seconds: float) -> None:
        slept.append(seconds)
        time.sleep(seconds)

    with ShopifyClient(sim.settings()) as first, ShopifyClient(sim.settings(), sleep=sleep) as second:
        next(first.order_pages())  # drains the bucket: the second client does not know
        page = next(second.order_pages())
    assert page.orders and second.stats.retries >= 1 and slept and 0 < slept[0] < 2


def test_a_throttled_query_beyond_patience_is_an_error(sim: Sim) -> None:
    sim.faults(shopify_graphql_bucket={"capacity": 1000, "restore_per_s": 1})
    with (
        ShopifyClient(sim.settings(), max_attempts=1) as first,
        ShopifyClient(sim.settings(), max_attempts=1) as second,
    ):
        next(first.order_pages())
        with pytest.raises(SourceError) as caught:
            next(second.order_pages())
    assert "throttled" in str(caught.value) and caught.value.source == "shopify"


def test_a_bulk_operation_streams_every_order_with_its_children(sim: Sim) -> None:
    with ShopifyClient(sim.settings()) as client:
        paged = sorted((o for p in client.order_pages() for o in p.orders), key=lambda o: o.id)
        bulk = list(client.bulk_orders(poll_s=0.05))
        pages = list(client.bulk_order_pages(size=100, poll_s=0.05))
    assert sorted(bulk, key=lambda o: o.id) == paged  # line items, fulfillment and refund lines, holds
    assert [len(p) for p in pages][:2] == [100, 100] and sum(map(len, pages)) == len(paged)
    status = [r for r in sim.calls(GRAPHQL)]
    assert len(status) >= 3  # the page run, then run + at least two status reads per operation


def test_a_finished_operation_named_by_its_webhook_is_read_without_starting_another(sim: Sim) -> None:
    with ShopifyClient(sim.settings()) as client:
        started = client.start_bulk()
        runs = len(sim.running.sim.shop_state.bulk)
        orders = list(client.bulk_orders_of(started.id, poll_s=0.05))
    assert len(orders) == _store_count(sim) and len(sim.running.sim.shop_state.bulk) == runs


def test_orders_too_big_for_a_page_are_read_whole_through_a_bulk_operation(sim: Sim) -> None:
    with ShopifyClient(sim.settings()) as client:
        listed = next(client.order_pages()).orders[:3]
        whole = client.whole_orders([o.id for o in listed] + [1], poll_s=0.05)
    assert sorted(whole, key=lambda o: o.id) == sorted(listed, key=lambda o: o.id)


def test_a_failed_bulk_operation_raises_with_its_error_code(sim: Sim) -> None:
    sim.faults(shopify_bulk_fail="INTERNAL_SERVER_ERROR")
    with ShopifyClient(sim.settings()) as client, pytest.raises(SourceProtocolError) as caught:
        list(client.bulk_orders(poll_s=0.05))
    assert (
        "FAILED (INTERNAL_SERVER_ERROR)" in str(caught.value) and "bulk operation status" in caught.value.call
    )


def test_one_order_by_id_and_by_name_sync_and_async(sim: Sim) -> None:
    with ShopifyClient(sim.settings()) as client:
        listed = next(client.order_pages()).orders[2]
        assert client.order(listed.id) == listed
        assert client.order_by_name(listed.name) == listed
        assert client.order_by_name(listed.name.lstrip("#")) == listed
        assert client.order(1) is None and client.order_by_name("#999999") is None
        assert [o.id for o in client.orders_by_ids([listed.id, 1])] == [listed.id]

    async def both() -> tuple[object, object]:
        async with AsyncShopifyClient(sim.settings()) as client:
            return await asyncio.gather(client.order(listed.id), client.order_by_name(listed.name))

    assert list(asyncio.run(both())) == [listed, listed]


def test_a_graphql_errors_array_is_raised_with_the_vendors_message(sim: Sim) -> None:
    with ShopifyClient(sim.settings()) as client, pytest.raises(SourceProtocolError) as caught:
        call = "POST graphql.json (shop)"
        client.call(_query(call, "{ shop { name } }", {}, lambda reply: data_of(reply, call)))
    assert caught.value.source == "shopify" and caught.value.call == "POST graphql.json (shop)"
    assert "GraphQL errors: Field 'shop' is not served" in str(caught.value)


def test_webhook_subscriptions_are_created_once(sim: Sim) -> None:
    url = "https://recon.example.test/webhooks/shopify"
    with ShopifyClient(sim.settings()) as client:
        assert client.subscribe_webhooks(url) == dict.fromkeys(WEBHOOK_TOPICS, True)
        assert client.subscribe_webhooks(url) == dict.fromkeys(WEBHOOK_TOPICS, False)
        with pytest.raises(SourceProtocolError) as caught:  # the store's userErrors
            client.subscribe_webhooks("not a url", ["orders/create"])
    assert "webhookSubscriptionCreate refused: webhookSubscription.uri: Address is invalid" in str(
        caught.value
    )
    topics = {w["topic"] for w in sim.running.sim.shop_state.webhooks if w["uri"] == url}
    assert topics == {t.replace("/", "_").upper() for t in WEBHOOK_TOPICS}


def test_a_retired_or_unknown_version_is_named(sim: Sim) -> None:
    sim.faults(shopify_gone=True)
    with ShopifyClient(sim.settings()) as client, pytest.raises(SourceProtocolError) as gone:
        client.order(1)
    assert gone.value.status == 410 and "2026-10 is not served" in str(gone.value)
    assert "no longer supported" in str(gone.value)
    sim.faults(shopify_gone=False)
    wrong = sim.settings(shopify_shop_url=sim.running.settings()["SHOPIFY_SHOP_URL"] + "/old")
    with ShopifyClient(wrong) as client, pytest.raises(SourceProtocolError) as missing:
        list(client.bulk_orders())
    assert missing.value.status == 404 and "Not Found" in str(missing.value)


def test_the_retired_rest_orders_endpoint_is_gone(sim: Sim) -> None:
    base = sim.running.settings()["SHOPIFY_SHOP_URL"]
    token = {"X-Shopify-Access-Token": sim.running.settings()["SHOPIFY_ACCESS_TOKEN"]}
    for path in ("/admin/api/2024-10/orders.json", "/admin/api/2024-10/orders/1.json"):
        assert httpx.get(base + path, headers=token).status_code == 404


def _reply(available: float, requested: float = 249, maximum: float = 2000) -> httpx.Response:
    status = {"maximumAvailable": maximum, "currentlyAvailable": available, "restoreRate": 100.0}
    cost = {"requestedQueryCost": requested, "actualQueryCost": 20, "throttleStatus": status}
    return httpx.Response(200, json={"data": {}, "extensions": {"cost": cost}})


def test_a_shared_pacer_counts_queries_in_flight_and_lets_one_go_when_a_reply_shows_room() -> None:
    now = [0.0]
    pacer = CostPacer(clock=lambda: now[0])
    assert pacer.delay() == 0.0  # nothing known yet
    pacer.observe(_reply(available=600))
    assert [pacer.delay() for _ in range(2)] == [0.0, 0.0]  # 600 → 351 → 102: each counted in
    assert 0 < pacer.delay() <= CostPacer.RECHECK_S  # 102 cannot take 249: ask again shortly
    pacer.observe(_reply(available=1900))  # a reply: the server refunded what the queries did not use
    assert pacer.delay() == 0.0


def test_a_query_bigger_than_the_bucket_is_not_held_forever() -> None:
    pacer = CostPacer(clock=lambda: 0.0)
    pacer.observe(_reply(available=1000, requested=1500, maximum=1000))
    assert pacer.delay() == 0.0  # the source answers it (MAX_COST_EXCEEDED) rather than the pacer waiting
