"""The typed fast readers build exactly what the general readers build, or step aside (`NotFast`)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest

from sandbox.records import shop_order_bytes
from services.sources import wire
from services.sources.easypost import parse_tracker
from services.sources.fields import NotFast
from services.sources.shipbob import parse_order as parse_warehouse_order
from services.sources.shopify import parse_order
from tests.services.sources.simulator import Sim, simulator

pytestmark = pytest.mark.timeout(60)


@pytest.fixture(scope="module")
def sim() -> Iterator[Sim]:
    with simulator(600) as running:
        yield running


def _get(sim: Sim, url: str, **params: Any) -> bytes:
    settings = sim.running.settings()
    if url.startswith("shopify:"):  # REST `Order` JSON as webhooks and snapshots carry it
        world, T = sim.running.world, int(sim.now().timestamp())
        rows = world.rows(range(min(params.get("limit", 250), world.shop_visible(T))))
        return b'{"orders":[' + b",".join(shop_order_bytes(world, r, T) for r in rows) + b"]}"
    if url.startswith("shipbob:"):
        headers = {"Authorization": f"Bearer {settings['SHIPBOB_TOKEN']}"}
        response = sim.http.get(
            settings["SHIPBOB_API_URL"].rstrip("/") + "/" + url.removeprefix("shipbob:"),
            params=params,
            headers=headers,
        )
    else:
        response = sim.http.get(
            settings["EASYPOST_API_URL"].rstrip("/") + "/" + url.removeprefix("easypost:"),
            params=params,
            auth=(settings["EASYPOST_API_KEY"], ""),
        )
    response.raise_for_status()
    return response.content


def test_store_orders_read_the_same_as_the_general_reader(sim: Sim) -> None:
    content = _get(sim, "shopify:orders.json", status="any", limit=250)
    general = [parse_order(o) for o in json.loads(content)["orders"]]
    assert len(general) == 250
    assert wire.store_orders(content) == general
    # The page holds the shapes that matter: fulfillments, refunds, cancellations, addresses.
    assert any(o.fulfillments for o in general) and any(o.refunds for o in general)
    assert any(o.cancelled_at for o in general) and any(o.shipping_address for o in general)


def test_warehouse_orders_read_the_same_as_the_general_reader(sim: Sim) -> None:
    content = _get(sim, "shipbob:1.0/order", Page=1, Limit=250)
    general = [parse_warehouse_order(o) for o in json.loads(content)]
    assert general and any(w.shipments for w in general)
    assert wire.warehouse_orders(content) == general


def test_trackers_read_the_same_as_the_general_reader(sim: Sim) -> None:
    content = _get(sim, "easypost:v2/trackers", page_size=100)
    body = json.loads(content)
    trackers, has_more = wire.trackers(content)
    assert trackers == [parse_tracker(t) for t in body["trackers"]]
    assert has_more is body["has_more"] is True
    assert any(e.location for t in trackers for e in t.events)


def _order(**changes: Any) -> dict[str, Any]:
    order: dict[str, Any] = {
        "id": 1001,
        "name": "#1001",
        "created_at": "2026-11-02T10:00:00-05:00",
        "updated_at": "",
        "line_items": [{"id": 1, "quantity": 2, "sku": "", "title": "Mug", "price": "9.00"}],
        "fulfillments": [
            {
                "id": 7,
                "status": "success",
                "created_at": "2026-11-03T10:00:00Z",
                "tracking_number": "1Z2",
                "tracking_numbers": ["1Z1", None, "", "1Z2"],
                "line_items": [{"id": 1, "quantity": 2}],
            }
        ],
        "refunds": [{"id": 9, "created_at": "2026-11-04T10:00:00", "refund_line_items": None}],
        "customer": {"first_name": "Ada", "last_name": 3, "email": "ada@example.com"},
        "shipping_address": {"first_name": "Ada", "city": "Oslo", "zip": 12},
        "shipping_lines": [{"title": "Ground"}],
    }
    order.update(changes)
    return order


@pytest.mark.parametrize(
    "changes",
    [
        {},
        {"customer": None, "shipping_address": {}, "fulfillments": None, "shipping_lines": []},
        {"email": "", "cancelled_at": "2026-11-05T00:00:00+02:00", "refunds": []},
        {"customer": {}, "shipping_address": {"unknown": True}, "tags": "vip"},
    ],
)
def test_edge_shapes_read_the_same(changes: dict[str, Any]) -> None:
    raw = _order(**changes)
    content = json.dumps({"orders": [raw]}).encode()
    assert wire.store_orders(content) == [parse_order(raw)]


@pytest.mark.parametrize(
    "changes",
    [
        {"id": "1001"},  # the general reader converts numeric strings
        {"id": True},
        {"line_items": [{"id": 1, "quantity": 2.0}]},
        {"name": 1001},
        {"created_at": ""},
        {"created_at": "yesterday"},
        {"line_items": None},
        {"customer": "ada"},
    ],
)
def test_what_the_fast_reader_cannot_take_goes_the_general_way(changes: dict[str, Any]) -> None:
    content = json.dumps({"orders": [_order(**changes)]}).encode()
    with pytest.raises(NotFast):
        wire.store_orders(content)


def test_broken_json_is_not_fast() -> None:
    for reader in (wire.store_orders, wire.warehouse_orders, wire.trackers):
        with pytest.raises(NotFast):
            reader(b'{"orders": [')
