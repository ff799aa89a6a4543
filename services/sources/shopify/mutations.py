"""The Shopify GraphQL Admin `2026-10` calls the guided fixes make (SPEC §8).

- `fulfillment_orders_call`: an order's fulfillment orders with their lines (read, safe to repeat);
- `fulfillment_create_call`: `fulfillmentCreate` on a fulfillment order's lines with tracking;
- `tracking_update_call`: `fulfillmentTrackingInfoUpdate` on a store fulfillment.

Mutations are sent once (never retried: `read_only` is False). A mutation's `userErrors` are raised as
`MutationRefused` carrying the store's words verbatim.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from services.errors import SourceProtocolError
from services.sources.http import Call, Reply
from services.sources.json_fields import field, items
from services.sources.shopify.graphql import gid_number
from services.sources.shopify.queries import data_of, gid

ENDPOINT = "graphql.json"
GRAPHQL_STATUSES = frozenset({404, 410})
SOURCE = "shopify"
FULFILLMENT_ORDERS_CALL = "POST graphql.json (fulfillmentOrders)"
CREATE_CALL = "POST graphql.json (fulfillmentCreate)"
TRACKING_CALL = "POST graphql.json (fulfillmentTrackingInfoUpdate)"

FULFILLMENT_ORDERS_QUERY = """query FulfillmentOrders($id: ID!) {
  order(id: $id) {
    id
    fulfillmentOrders(first: 5) {
      nodes { id status fulfillmentHolds { reason }
        lineItems(first: 50) { nodes { id remainingQuantity lineItem { id } } } }
    }
  }
}"""

FULFILLMENT_CREATE_MUTATION = """mutation FulfillmentCreate($fulfillment: FulfillmentInput!) {
  fulfillmentCreate(fulfillment: $fulfillment) {
    fulfillment { id status trackingInfo { number company } }
    userErrors { field message }
  }
}"""

TRACKING_UPDATE_MUTATION = """mutation FulfillmentTrackingInfoUpdate(
  $fulfillmentId: ID!, $trackingInfoInput: FulfillmentTrackingInput!, $notifyCustomer: Boolean
) {
  fulfillmentTrackingInfoUpdate(
    fulfillmentId: $fulfillmentId, trackingInfoInput: $trackingInfoInput, notifyCustomer: $notifyCustomer
  ) {
    fulfillment { id status trackingInfo { number company } }
    userErrors { field message }
  }
}"""


class MutationRefused(SourceProtocolError):
    """The store answered a mutation with `userErrors`: it changed nothing. The message is its words."""


@dataclass(frozen=True)
class FulfillmentOrderLine:
    id: int  # FulfillmentOrderLineItem id
    line_item_id: int
    remaining: int


@dataclass(frozen=True)
class FulfillmentOrder:
    id: int
    status: str  # OPEN | IN_PROGRESS | ON_HOLD | CLOSED | ...
    holds: tuple[str, ...]
    lines: tuple[FulfillmentOrderLine, ...]


def _fulfillment_orders(reply: Reply) -> list[FulfillmentOrder] | None:
    order = field(data_of(reply, FULFILLMENT_ORDERS_CALL), "order", dict, path="data.", optional=True)
    if order is None:
        return None
    found = []
    for i, node in enumerate(items(field(order, "fulfillmentOrders", dict, path="data.order."), "nodes")):
        path = f"data.order.fulfillmentOrders.nodes[{i}]."
        lines = tuple(
            FulfillmentOrderLine(
                gid_number(li, "id", "FulfillmentOrderLineItem", path=path),
                gid_number(field(li, "lineItem", dict, path=path), "id", "LineItem", path=path),
                int(li.get("remainingQuantity") or 0),
            )
            for li in items(field(node, "lineItems", dict, path=path), "nodes")
        )
        holds = tuple(str(h.get("reason")) for h in node.get("fulfillmentHolds") or [])
        found.append(
            FulfillmentOrder(
                gid_number(node, "id", "FulfillmentOrder", path=path), str(node.get("status")), holds, lines
            )
        )
    return found


def fulfillment_orders_call(order_id: int) -> Call[list[FulfillmentOrder] | None]:
    """The order's fulfillment orders and their lines (None when the store does not know the order)."""
    return Call(
        FULFILLMENT_ORDERS_CALL,
        ENDPOINT,
        _fulfillment_orders,
        method="POST",
        json_body={"query": FULFILLMENT_ORDERS_QUERY, "variables": {"id": gid("Order", order_id)}},
        accept=GRAPHQL_STATUSES,
        read_only=True,
    )


def user_errors_text(errors: list[Any]) -> str:
    """`userErrors` as the store worded them: `field: message; …`."""
    parts = []
    for e in errors:
        where = ".".join(str(p) for p in e.get("field") or []) if isinstance(e, dict) else ""
        message = e.get("message") if isinstance(e, dict) else str(e)
        parts.append(f"{where}: {message}" if where else str(message))
    return "; ".join(parts)


def _payload(key: str, call: str) -> Any:
    def parse(reply: Reply) -> dict[str, Any]:
        result = field(data_of(reply, call), key, dict, path="data.")
        errors = result.get("userErrors") or []
        if errors:
            raise MutationRefused(user_errors_text(errors), source=SOURCE, call=call)
        fulfillment: dict[str, Any] = field(result, "fulfillment", dict, path=f"data.{key}.")
        return fulfillment

    return parse


def mutation_body(query: str, variables: dict[str, Any]) -> dict[str, Any]:
    return {"query": query, "variables": variables}


def fulfillment_create_variables(
    fulfillment_order_id: int, lines: list[tuple[int, int]], number: str, company: str | None
) -> dict[str, Any]:
    """Variables of `fulfillmentCreate`: the fulfillment order's lines (id, quantity) and the tracking."""
    tracking = {"number": number, **({"company": company} if company else {})}
    return {
        "fulfillment": {
            "lineItemsByFulfillmentOrder": [
                {
                    "fulfillmentOrderId": gid("FulfillmentOrder", fulfillment_order_id),
                    "fulfillmentOrderLineItems": [
                        {"id": gid("FulfillmentOrderLineItem", line), "quantity": q} for line, q in lines
                    ],
                }
            ],
            "trackingInfo": tracking,
            "notifyCustomer": False,
        }
    }


def tracking_update_variables(fulfillment_id: int, number: str, company: str | None) -> dict[str, Any]:
    tracking = {"number": number, **({"company": company} if company else {})}
    return {
        "fulfillmentId": gid("Fulfillment", fulfillment_id),
        "trackingInfoInput": tracking,
        "notifyCustomer": False,
    }


def mutation_call(body: dict[str, Any]) -> Call[dict[str, Any]]:
    """Send a fix's mutation body once; its `fulfillment` on success, MutationRefused on `userErrors`."""
    query = str(body.get("query", ""))
    if "fulfillmentCreate(" in query:
        key, call = "fulfillmentCreate", CREATE_CALL
    elif "fulfillmentTrackingInfoUpdate(" in query:
        key, call = "fulfillmentTrackingInfoUpdate", TRACKING_CALL
    else:
        raise ValueError("not a guided-fix mutation")
    return Call(call, ENDPOINT, _payload(key, call), method="POST", json_body=body, accept=GRAPHQL_STATUSES)


__all__ = [
    "FULFILLMENT_CREATE_MUTATION",
    "TRACKING_UPDATE_MUTATION",
    "FulfillmentOrder",
    "FulfillmentOrderLine",
    "MutationRefused",
    "fulfillment_create_variables",
    "fulfillment_orders_call",
    "mutation_body",
    "mutation_call",
    "tracking_update_variables",
    "user_errors_text",
]
