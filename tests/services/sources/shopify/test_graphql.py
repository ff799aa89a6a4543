"""The GraphQL `Order` mapping: a documented-shape fixture, error naming, and the REST reader's twin."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import pytest

from checks.model import Address, Fulfillment, LineQuantity, Refund
from sandbox.records import fulfillment_orders, shop_order_bytes
from sandbox.records.shopify_graphql import graphql_order
from sandbox.server import make_sim
from services.sources.json_fields import RecordError
from services.sources.shopify.graphql import gid_number, parse_graphql_order
from services.sources.shopify.parse import parse_on_hold, parse_order

FIXTURE = Path(__file__).parents[3] / "fixtures" / "shopify" / "graphql_order.json"


def _fixture() -> dict:
    return json.loads(FIXTURE.read_text())


def test_a_documented_order_maps_to_the_record_fields_the_rules_read() -> None:
    order = parse_graphql_order(_fixture())
    assert (order.id, order.name) == (148977776, "#1001")
    assert order.created_at == datetime(2026, 10, 31, 14, 5, 10, tzinfo=UTC)
    assert (order.financial_status, order.fulfillment_status) == ("partially_refunded", "partial")
    assert order.cancelled_at is None and order.cancel_reason is None
    assert order.shipping_method == "Standard Shipping"
    assert order.tags == "VIP, wholesale" and order.customer_name == "Bob Norman"
    first, wrap = order.line_items
    assert (first.id, first.sku, first.quantity, first.fulfillable_quantity, first.price) == (
        466157049,
        "IPOD2008GREEN",
        2,
        0,
        "199.0",
    )
    assert wrap.sku is None and wrap.vendor == "Acme Drop-ship" and wrap.fulfillable_quantity == 1
    shipped, cancelled = order.fulfillments
    assert shipped == Fulfillment(
        255858046,
        "success",
        datetime(2026, 11, 1, 10, tzinfo=UTC),
        ("1Z2345", "1Z6789"),
        "UPS",
        (LineQuantity(466157049, 1),),
    )
    assert cancelled.status == "cancelled" and not cancelled.is_success
    assert order.refunds == (
        Refund(
            929361462,
            datetime(2026, 11, 2, 9, 12, 44, tzinfo=UTC),
            (LineQuantity(466157049, 1),),
            "it broke during shipping",
        ),
    )
    assert order.on_hold is True  # one fulfillment order of two is on hold
    assert order.shipping_address == Address(
        "Bob Norman", "Chestnut Street 92", None, "Louisville", "KY", "US", "40202", "+1(502)-459-2181"
    )


def test_no_fulfillment_order_on_hold_means_not_held_and_edges_read_like_nodes() -> None:
    raw = _fixture()
    raw["fulfillmentOrders"] = {
        "edges": [{"node": {"id": "gid://shopify/FulfillmentOrder/1", "status": "OPEN"}}]
    }
    raw["lineItems"] = {"edges": [{"node": n} for n in raw["lineItems"]["nodes"]]}
    order = parse_graphql_order(raw)
    assert order.on_hold is False and len(order.line_items) == 2


@pytest.mark.parametrize(
    ("change", "field"),
    [
        (lambda o: o.update(id="gid://shopify/Customer/x"), "id"),
        (lambda o: o.pop("createdAt"), "createdAt"),
        (lambda o: o["lineItems"]["nodes"][0].update(quantity="two"), "lineItems[0].quantity"),
        (lambda o: o["fulfillments"][0].update(createdAt="yesterday"), "fulfillments[0].createdAt"),
        (
            lambda o: o["refunds"][0]["refundLineItems"]["nodes"][0].pop("lineItem"),
            "refunds[0].refundLineItems[0].lineItem",
        ),
    ],
)
def test_a_wrong_field_is_named(change, field: str) -> None:
    raw = _fixture()
    change(raw)
    with pytest.raises(RecordError) as caught:
        parse_graphql_order(raw)
    assert caught.value.field == field


def test_gids_keep_their_number() -> None:
    assert gid_number({"id": "gid://shopify/Order/450789469"}, "id", "Order") == 450789469
    assert gid_number({"id": "gid://shopify/LineItem/7?x=1"}, "id", "LineItem") == 7
    with pytest.raises(RecordError):
        gid_number({"id": "gid://shopify/Order/"}, "id", "Order")


def test_every_simulator_order_reads_as_the_rest_reader_reads_it() -> None:
    """The same order through REST (`parse_order`, hold from its fulfillment orders) and GraphQL gives
    the same record; an older REST payload without `fulfillable_quantity` differs only there, where
    GraphQL's `unfulfilledQuantity` is what SPEC §3 derives."""
    from checks.quantities import open_quantity  # the rule's own derivation

    sim = make_sim(orders=600, clock="2026-11-20T15:00:00Z")
    world, T = sim.world, sim.now()
    compared = derived = 0
    for i in range(world.shop_visible(T)):
        row = world.row(i)
        rest = parse_order(
            json.loads(shop_order_bytes(world, row, T)),
            on_hold=parse_on_hold({"fulfillment_orders": fulfillment_orders(world, row, T)}),
        )
        graph = parse_graphql_order(graphql_order(world, row, T))
        if any(li.fulfillable_quantity is None for li in rest.line_items):
            derived += 1
            assert [open_quantity(rest, li) for li in rest.line_items] == [
                li.fulfillable_quantity for li in graph.line_items
            ]
            continue
        assert graph == rest, row.i
        compared += 1
    assert compared > 500 and derived > 0


def test_a_page_sets_aside_an_order_with_more_children_than_it_shows() -> None:
    """Such an order is not stored half-read: the page names it, and the client reads it whole."""
    import httpx

    from services.sources.http import SourceConfig, read_reply
    from services.sources.shopify.client import orders_page_call
    from services.sources.shopify.queries import LINE_ITEMS

    big, small = _fixture(), _fixture()
    line = big["lineItems"]["nodes"][0]
    big["lineItems"]["nodes"] = [{**line, "id": f"gid://shopify/LineItem/{n}"} for n in range(LINE_ITEMS)]
    small["id"], small["name"] = "gid://shopify/Order/7", "#1002"
    body = {"data": {"orders": {"nodes": [big, small], "pageInfo": {"hasNextPage": False, "endCursor": "c"}}}}
    config = SourceConfig(source="shopify", base_url="http://shop/", url_setting="U", secret_setting="T")
    response = httpx.Response(
        200, content=json.dumps(body).encode(), request=httpx.Request("POST", "http://shop/graphql.json")
    )
    page = read_reply(config, orders_page_call(), response)
    assert page.truncated == (148977776,) and [o.id for o in page.orders] == [7]
