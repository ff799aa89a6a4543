"""The three connectors against the simulator over loopback: paging, lookups, auth, rate limits."""

from __future__ import annotations

import asyncio
import socket
from collections.abc import Iterator
from typing import Any

import pytest

from services.errors import SourceAuthError, SourceUnavailable
from services.sources.easypost_client import AsyncEasyPostClient, EasyPostClient
from services.sources.shipbob_client import (
    DuplicateReference,
    ShipBobClient,
    fetch_inventory_for_skus,
)
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


# ---------------------------------------------------------------- ShipBob


def test_shipbob_pages_follow_next_page(sim: Sim) -> None:
    with ShipBobClient(sim.settings()) as client:
        pages = list(client.order_pages(limit=100))
    ids = [w.id for page in pages for w in page.records]
    assert len(ids) == len(set(ids)) == _counts(sim)["threepl_orders"]
    assert ids == sorted(ids)  # SortOrder=Oldest: stable while new orders arrive
    assert len(sim.requests()["recent"]) == len(pages) == -(-len(ids) // 100)


def test_shipbob_inventory_carries_product_skus(sim: Sim) -> None:
    with ShipBobClient(sim.settings()) as client:
        inventory = client.inventory()
    assert "MUG-BLUE" in inventory and inventory["MUG-BLUE"].inventory_id
    assert all(item.sku == sku for sku, item in inventory.items())
    live = fetch_inventory_for_skus(sim.settings(), ["MUG-BLUE", "NO-SUCH-SKU"])
    assert list(live) == ["MUG-BLUE"]
    assert live["MUG-BLUE"].total_fulfillable_quantity == inventory["MUG-BLUE"].total_fulfillable_quantity


def test_shipbob_orders_by_reference(sim: Sim) -> None:
    with ShipBobClient(sim.settings()) as client:
        first = next(iter(client.order_pages(limit=5))).records[0]
        found = client.orders_by_reference([first.reference_id, "no-such-reference"])
    assert [w.id for w in found] == [first.id]


def _create_body(reference: str) -> dict[str, Any]:
    return {
        "reference_id": reference,
        "shipping_method": "Standard",
        "recipient": {
            "name": "Dana Reyes",
            "address": {"address1": "41 Pier Road", "city": "Portland", "country": "US"},
        },
        "products": [{"reference_id": "TEE-M", "quantity": 1}],
    }


def test_shipbob_create_order_refuses_a_duplicate_reference(sim: Sim) -> None:
    with ShipBobClient(sim.settings()) as client:
        created = client.create_order(_create_body("conn-test-1"))
        assert created["reference_id"] == "conn-test-1"
        with pytest.raises(DuplicateReference) as caught:
            client.create_order(_create_body("conn-test-1"))
    assert caught.value.reference_id == "conn-test-1" and caught.value.status == 422
    assert [m for m, _, _ in _paths(sim)] == ["POST", "POST"]


def test_shipbob_post_is_never_retried_after_sending(sim: Sim) -> None:
    sim.faults(script=["500"], source="shipbob")
    with ShipBobClient(sim.settings()) as client, pytest.raises(SourceUnavailable) as caught:
        client.create_order(_create_body("conn-test-2"))
    assert caught.value.status == 500 and caught.value.call == "POST /1.0/order"
    assert [m for m, _, _ in _paths(sim)] == ["POST"]


def test_shipbob_post_is_retried_when_the_connection_never_opened(sim: Sim) -> None:
    with socket.socket() as probe:  # a port nobody listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    settings = sim.settings(shipbob_api_url=f"http://127.0.0.1:{port}/shipbob")
    with ShipBobClient(settings, backoff_s=0.01, max_attempts=3) as client:
        with pytest.raises(SourceUnavailable) as caught:
            client.create_order(_create_body("conn-test-3"))
        assert client.stats.requests == 3
    assert "SHIPBOB_API_URL" in str(caught.value)


def test_shipbob_429_waits_x_retry_after(sim: Sim) -> None:
    sim.faults(script=["429"], source="shipbob", retry_after="0.2")
    with ShipBobClient(sim.settings()) as client:
        assert client.orders_by_reference(["nothing"]) == []
        assert client.stats.waits == [0.2]


def test_shipbob_wrong_token_names_the_setting(sim: Sim) -> None:
    with (
        ShipBobClient(sim.settings(shipbob_token="wrong")) as client,
        pytest.raises(SourceAuthError) as caught,
    ):
        client.inventory()
    assert "SHIPBOB_TOKEN" in str(caught.value) and caught.value.status == 401


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
