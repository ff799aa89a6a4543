"""The ShipBob 2026-07 connector against the simulator over loopback: every call the product makes."""

from __future__ import annotations

import asyncio
import socket
from typing import Any

import pytest

from services.errors import ConfigurationError, SourceAuthError, SourceUnavailable
from services.sources.shipbob.client import (
    DEFAULT_TOPICS,
    AsyncShipBobClient,
    DuplicateReference,
    EndpointGone,
    ShipBobClient,
    fetch_inventory_for_skus,
    orders_page_call,
)
from tests.services.sources.simulator import Sim

pytestmark = [pytest.mark.timeout(60), pytest.mark.usefixtures("clean_sim")]


def _counts(sim: Sim) -> dict[str, int]:
    return sim.http.get("/_sim/state").json()["counts"]


def _calls(sim: Sim) -> list[tuple[str, str, int | None]]:
    """(method, path below the ShipBob base with its query, status) of each request, oldest first."""
    return [
        (
            r["method"],
            r["path"].removeprefix("/shipbob/") + (f"?{r['query']}" if r["query"] else ""),
            r["status"],
        )
        for r in sim.requests()["recent"]
    ]


def _create_body(reference: str, sku: str = "TEE-M") -> dict[str, Any]:
    return {
        "reference_id": reference,
        "shipping_method": "Standard",
        "type": "DTC",
        "recipient": {
            "name": "Dana Reyes",
            "address": {"address1": "41 Pier Road", "city": "Portland", "country": "US"},
        },
        "products": [{"reference_id": sku, "name": "Harbor Tee - M", "quantity": 1}],
    }


def test_order_pages_follow_next_page_on_2026_07(sim: Sim) -> None:
    with ShipBobClient(sim.settings()) as client:
        pages = list(client.order_pages(limit=100))
    ids = [w.id for page in pages for w in page.records]
    assert len(ids) == len(set(ids)) == _counts(sim)["threepl_orders"]
    assert ids == sorted(ids)  # SortOrder=Oldest: stable while new orders arrive
    calls = _calls(sim)
    assert len(calls) == len(pages) == -(-len(ids) // 100) > 1
    assert all(path.startswith("2026-07/order") and status == 200 for _, path, status in calls)


def test_order_pages_are_incremental_by_last_update(sim: Sim) -> None:
    now = sim.now()
    with ShipBobClient(sim.settings()) as client:
        everything = [w for page in client.order_pages() for w in page.records]
        since = now.replace(hour=0, minute=0, second=0)
        recent = [w for page in client.order_pages(last_update_start=since) for w in page.records]

    def last_update(order: Any) -> Any:
        return max(s.last_update_at for s in order.shipments if s.last_update_at)

    assert 0 < len(recent) < len(everything)
    assert {w.id for w in recent} == {w.id for w in everything if last_update(w) >= since}
    # shipments no longer carry store_order_id (gone since 2026-01); the join is by reference_id
    assert all(w.reference_id for w in recent)


def test_inventory_levels_carry_skus_and_page_by_next(sim: Sim) -> None:
    with ShipBobClient(sim.settings()) as client:
        whole = client.inventory()
        sim.reset_requests()
        paged = client.inventory(page_size=5)
    assert paged == whole and "MUG-BLUE" in whole and whole["MUG-BLUE"].inventory_id
    assert all(item.sku == sku for sku, item in whole.items())
    assert all(
        item.total_fulfillable_quantity == sum(q for _, q in item.by_fulfillment_center)
        and item.by_fulfillment_center
        for item in whole.values()
    )
    pages = -(-len(whole) // 5)
    paths = [path.split("?")[0] for _, path, _ in _calls(sim)]
    assert paths == ["2026-07/inventory-level"] * pages + ["2026-07/inventory-level/locations"] * pages
    live = fetch_inventory_for_skus(sim.settings(), ["MUG-BLUE", "NO-SUCH-SKU"])
    assert list(live) == ["MUG-BLUE"]
    assert live["MUG-BLUE"].total_fulfillable_quantity == whole["MUG-BLUE"].total_fulfillable_quantity


def test_orders_by_reference_blocking_and_async(sim: Sim) -> None:
    with ShipBobClient(sim.settings()) as client:
        first = next(iter(client.order_pages(limit=5))).records[0]
        found = client.orders_by_reference([first.reference_id, "no-such-reference"])
    assert [w.id for w in found] == [first.id]

    async def ask() -> list[Any]:
        async with AsyncShipBobClient(sim.settings()) as client:
            return await client.orders_by_reference([first.reference_id])

    assert [w.id for w in asyncio.run(ask())] == [first.id]
    assert all("ReferenceIds=" in path for _, path, _ in _calls(sim)[1:])


def test_create_sends_the_channel_header_and_refuses_a_duplicate_reference(sim: Sim) -> None:
    with ShipBobClient(sim.settings()) as client:
        created = client.create_order(_create_body("conn-test-1"))
        assert created["reference_id"] == "conn-test-1"
        with pytest.raises(DuplicateReference) as caught:
            client.create_order(_create_body("conn-test-1"))
    assert caught.value.reference_id == "conn-test-1" and caught.value.status == 422
    # the channel is looked up once (the one with orders_write), then sent on each create
    assert [(m, p.split("?")[0]) for m, p, _ in _calls(sim)] == [
        ("GET", "2026-07/channel"),
        ("POST", "2026-07/order"),
        ("POST", "2026-07/order"),
    ]


def test_create_on_a_configured_channel_skips_the_lookup_and_names_a_refused_one(sim: Sim) -> None:
    with ShipBobClient(sim.settings(shipbob_channel_id=100102)) as client:
        client.create_order(_create_body("conn-test-4"))
    assert [m for m, _, _ in _calls(sim)] == ["POST"]
    with (
        ShipBobClient(sim.settings(shipbob_channel_id=301)) as client,
        pytest.raises(ConfigurationError) as caught,
    ):
        client.create_order(_create_body("conn-test-5"))
    assert "SHIPBOB_CHANNEL_ID" in str(caught.value) and "orders_write" in str(caught.value)
    with ShipBobClient(sim.settings()) as client:
        assert client.orders_by_reference(["conn-test-5"]) == []


def test_cancel_stops_an_unshipped_order_and_reports_a_shipped_one(sim: Sim) -> None:
    with ShipBobClient(sim.settings()) as client:
        created = client.create_order(_create_body("conn-test-6"))
        result = client.cancel_order(created["id"])
        assert result.status == "Success" and result.order is not None
        assert result.order.status == "Cancelled" and [s[1] for s in result.shipments] == [True]
        [again] = client.orders_by_reference(["conn-test-6"])
        assert {s.status for s in again.shipments} == {"Cancelled"}
        shipped = next(
            w
            for page in client.order_pages()
            for w in page.records
            if any(s.status == "Completed" for s in w.shipments)
        )
        refused = client.cancel_order(shipped.id)
    assert refused.status == "Failure" and not any(ok for _, ok, _ in refused.shipments)
    assert [p for m, p, _ in _calls(sim) if m == "POST"][-1] == f"2026-07/order/{shipped.id}:cancel"


def test_post_is_never_retried_after_sending(sim: Sim) -> None:
    with ShipBobClient(sim.settings(shipbob_channel_id=100102)) as client:
        sim.faults(script=["500"], source="shipbob")
        with pytest.raises(SourceUnavailable) as caught:
            client.create_order(_create_body("conn-test-2"))
    assert caught.value.status == 500 and caught.value.call == "POST /2026-07/order"
    assert [m for m, _, _ in _calls(sim)] == ["POST"]


def test_post_is_retried_when_the_connection_never_opened(sim: Sim) -> None:
    with socket.socket() as probe:  # a port nobody listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    settings = sim.settings(shipbob_api_url=f"http://127.0.0.1:{port}/shipbob", shipbob_channel_id=1)
    with ShipBobClient(settings, backoff_s=0.01, max_attempts=3) as client:
        with pytest.raises(SourceUnavailable) as caught:
            client.create_order(_create_body("conn-test-3"))
        assert client.stats.requests == 3
    assert "SHIPBOB_API_URL" in str(caught.value)


def test_429_waits_x_retry_after(sim: Sim) -> None:
    sim.faults(script=["429"], source="shipbob", retry_after="0.2")
    with ShipBobClient(sim.settings()) as client:
        assert client.orders_by_reference(["nothing"]) == []
        assert client.stats.waits == [0.2]
    assert [s for _, _, s in _calls(sim)] == [429, 200]


def test_a_retired_1_0_path_raises_at_once_with_shipbobs_message(sim: Sim) -> None:
    retired = sim.running.base_url + "/shipbob/1.0/order?Page=2&Limit=250"
    with ShipBobClient(sim.settings()) as client, pytest.raises(EndpointGone) as caught:
        client.call(orders_page_call(next_url=retired))
    error = caught.value
    assert error.source == "shipbob" and error.call.startswith("GET /2026-07/order") and error.status == 404
    assert "1.0" in error.message and "end of support" in error.message  # the vendor's own words
    assert len(_calls(sim)) == 1  # not retried


def test_subscribe_webhooks_is_idempotent(sim: Sim) -> None:
    url = "https://recon.example.com/webhooks/shipbob"
    with ShipBobClient(sim.settings()) as client:
        first = client.subscribe_webhooks(url, secret="s3cret")
        again = client.subscribe_webhooks(url)
        more = client.subscribe_webhooks(url, [*DEFAULT_TOPICS, "order.delivered"])
    assert [s.created for s in first] == [True] and set(first[0].topics) == set(DEFAULT_TOPICS)
    assert [s.created for s in again] == [False] and again[0].id == first[0].id
    assert [s.created for s in more] == [False, True] and more[1].topics == ("order.delivered",)
    posts = [p for m, p, _ in _calls(sim) if m == "POST"]
    assert posts == ["2026-07/webhook", "2026-07/webhook"]
    assert all(h["url"] == url for h in sim.running.sim.shipbob_webhooks)
    assert sim.running.sim.shipbob_webhooks[0]["secret"] == "s3cret"


def test_wrong_token_names_the_setting(sim: Sim) -> None:
    with (
        ShipBobClient(sim.settings(shipbob_token="wrong")) as client,
        pytest.raises(SourceAuthError) as caught,
    ):
        client.inventory()
    assert "SHIPBOB_TOKEN" in str(caught.value) and caught.value.status == 401
