"""Reading a holds query's reply: statuses, orders with more fulfillment orders, missing scopes."""

from __future__ import annotations

import httpx
import pytest

from services.errors import SourceAuthError, SourceProtocolError
from services.sources.fields import RecordError
from services.sources.http import Reply
from services.sources.shopify_holds import holds_call


def _holds_reply(body: object) -> Reply:
    return Reply(200, httpx.Headers(), body, httpx.URL("http://shop/graphql.json"))


def test_shopify_holds_reader_asks_rest_when_an_order_has_more_fulfillment_orders() -> None:
    page = {"nodes": [{"status": "OPEN"}] * 5, "pageInfo": {"hasNextPage": True}}
    body = {
        "data": {
            "nodes": [
                {"legacyResourceId": "1", "fulfillmentOrders": page},
                {"legacyResourceId": "2", "fulfillmentOrders": {**page, "nodes": [{"status": "ON_HOLD"}]}},
                None,
            ]
        },
        "extensions": {"cost": {"throttleStatus": {"currentlyAvailable": 50.0, "restoreRate": 100.0}}},
    }
    holds = holds_call([1, 2, 3]).parse(_holds_reply(body))
    assert holds.on_hold == {2: True} and holds.more == [1]
    assert holds.wait_before(900) == pytest.approx(8.5 * 1.05 + 0.01)  # 850 points at 100/s, and a margin
    assert holds.wait_before(40) == 0
    wrong = {"data": {"nodes": [{"legacyResourceId": "9", "fulfillmentOrders": page}]}}
    with pytest.raises(RecordError, match=r"data.nodes\[0\].legacyResourceId"):
        holds_call([1]).parse(_holds_reply(wrong))


def test_shopify_holds_without_the_scope_name_it_at_once() -> None:
    body = {
        "data": {"nodes": [None]},
        "errors": [
            {
                "message": "Access denied for fulfillmentOrders field.",
                "extensions": {"code": "ACCESS_DENIED"},
            }
        ],
    }
    with pytest.raises(SourceAuthError, match="read_merchant_managed_fulfillment_orders"):
        holds_call([1]).parse(_holds_reply(body))


def test_other_graphql_errors_are_protocol_errors_even_when_oddly_shaped() -> None:
    body = {"errors": [{"message": "Internal error", "extensions": None}, "not an object"]}
    with pytest.raises(SourceProtocolError, match="GraphQL errors: Internal error"):
        holds_call([1]).parse(_holds_reply(body))
