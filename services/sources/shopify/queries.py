"""The GraphQL Admin API `2026-10` documents the Shopify connector sends, and how a reply is read.

`ORDER_FIELDS` selects exactly what the rules (SPEC §1, §3, §4) and the console need; the mapping into
records is `services.sources.shopify.graphql`. A reply is read once here for every call: an `errors`
array raises (THROTTLED as `SourceRateLimited`, so the HTTP layer waits and asks again), the cost
bucket's state is taken from `extensions.cost`, and a mutation's `userErrors` raise.

Connection sizes bound what one page may request: Shopify refuses a query whose requested cost is over
1,000 points, and an order costs about `ORDER_COST` (objects 1, a connection 2 + first × its node).
An order with more children than a connection shows (`truncated`) is never stored half-read: the
client reads it through a bulk operation, which has no such sizes.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from services.errors import SourceAuthError, SourceError, SourceProtocolError, SourceRateLimited
from services.sources.http import Reply
from services.sources.json_fields import field
from services.sources.shopify.graphql import nodes

SOURCE = "shopify"
API_VERSION = "2026-10"
SCOPES = ("read_orders", "read_merchant_managed_fulfillment_orders", "read_third_party_fulfillment_orders")
MAX_QUERY_COST = 1000

LINE_ITEMS, FULFILLMENTS, REFUNDS, PARTS, TRACKING, FULFILLMENT_ORDERS = 20, 5, 2, 10, 2, 3


# A `MailingAddress` as the summary redactor needs it (the rules read none of it but the city/state).
ADDRESS = "name firstName lastName company address1 address2 city provinceCode countryCodeV2 zip phone"


def order_fields(*, bulk: bool = False) -> str:
    """The order selection. In a bulk query connections take no sizes (Shopify pages them itself)."""

    def first(n: int) -> str:
        return "" if bulk else f"(first: {n})"

    return f"""id name createdAt updatedAt cancelledAt cancelReason
displayFinancialStatus displayFulfillmentStatus email phone note tags
customer {{ firstName lastName defaultEmailAddress {{ emailAddress }} defaultPhoneNumber {{ phoneNumber }}
  defaultAddress {{ {ADDRESS} }} }}
shippingAddress {{ {ADDRESS} }}
billingAddress {{ {ADDRESS} }}
shippingLine {{ title }}
lineItems{first(LINE_ITEMS)} {{ nodes {{ id sku name vendor quantity currentQuantity unfulfilledQuantity
  originalUnitPriceSet {{ shopMoney {{ amount }} }} }} }}
fulfillments{"" if bulk else f"(first: {FULFILLMENTS})"} {{ id status createdAt
  trackingInfo(first: {TRACKING}) {{ number company }}
  fulfillmentLineItems{first(PARTS)} {{ nodes {{ id quantity lineItem {{ id }} }} }} }}
refunds{"" if bulk else f"(first: {REFUNDS})"} {{ id createdAt note
  refundLineItems{first(PARTS)} {{ nodes {{ id quantity lineItem {{ id }} }} }} }}
fulfillmentOrders{first(FULFILLMENT_ORDERS)} {{ nodes {{ id status fulfillmentHolds {{ reason }} }} }}"""


ORDER_FIELDS = order_fields()
# Requested points per order, as Shopify counts them (see the module docstring).
ORDER_COST = (
    1  # the order
    + 3  # customer, shippingAddress, shippingLine
    + 4  # billingAddress; the customer's defaultAddress, defaultEmailAddress and defaultPhoneNumber
    + (2 + LINE_ITEMS * 3)  # line item, its price set and shop money
    + FULFILLMENTS * (1 + TRACKING + 2 + PARTS * 2)
    + REFUNDS * (1 + 2 + PARTS * 2)
    + (2 + FULFILLMENT_ORDERS * 2)  # fulfillment order and its holds
)
# Orders per page so that a page never requests more than Shopify allows.
PAGE_LIMIT = max(1, (MAX_QUERY_COST - 3) // ORDER_COST)

ORDERS_QUERY = f"""query OrdersPage($first: Int!, $after: String, $query: String) {{
  orders(first: $first, after: $after, sortKey: UPDATED_AT, query: $query) {{
    nodes {{ {ORDER_FIELDS} }}
    pageInfo {{ hasNextPage endCursor }}
  }}
}}"""
ORDER_QUERY = f"query OrderById($id: ID!) {{ order(id: $id) {{ {ORDER_FIELDS} }} }}"
NODES_QUERY = (
    f"query OrdersByIds($ids: [ID!]!) {{ nodes(ids: $ids) {{ ... on Order {{ {ORDER_FIELDS} }} }} }}"
)
BULK_ORDER_FIELDS = order_fields(bulk=True)


def bulk_orders_query(search: str | None = None) -> str:
    """The bulk operation's query: every order (or those matching `search`), children as JSONL lines."""
    args = f"(query: {json.dumps(search)})" if search else ""
    return f"{{ orders{args} {{ edges {{ node {{ {BULK_ORDER_FIELDS} }} }} }} }}"


BULK_RUN_MUTATION = """mutation BulkOrders($query: String!) {
  bulkOperationRunQuery(query: $query, groupObjects: true) {
    bulkOperation { id status }
    userErrors { field message code }
  }
}"""
BULK_STATUS_QUERY = """query BulkStatus($id: ID!) {
  node(id: $id) { ... on BulkOperation { id status errorCode objectCount url partialDataUrl } }
}"""
WEBHOOKS_QUERY = """query Webhooks($after: String) {
  webhookSubscriptions(first: 100, after: $after) {
    nodes { id topic uri }
    pageInfo { hasNextPage endCursor }
  }
}"""
WEBHOOK_CREATE_MUTATION = """mutation WebhookCreate($topic: WebhookSubscriptionTopic!, $uri: String!) {
  webhookSubscriptionCreate(topic: $topic, webhookSubscription: {uri: $uri, format: JSON}) {
    webhookSubscription { id topic uri }
    userErrors { field message }
  }
}"""


def gid(kind: str, number: int) -> str:
    return f"gid://shopify/{kind}/{number}"


@dataclass(frozen=True)
class Cost:
    """`extensions.cost` of a reply: what the query requested and the bucket after it."""

    requested: float | None = None
    available: float | None = None
    restore_per_s: float | None = None
    maximum: float | None = None


def cost_of(body: Any) -> Cost:
    extensions = body.get("extensions") if isinstance(body, dict) else None
    cost = extensions.get("cost") if isinstance(extensions, dict) else None
    if not isinstance(cost, dict):
        return Cost()
    status = cost.get("throttleStatus")
    if not isinstance(status, dict):
        status = {}

    def number(value: Any) -> float | None:
        return float(value) if isinstance(value, int | float) and not isinstance(value, bool) else None

    return Cost(
        number(cost.get("requestedQueryCost")),
        number(status.get("currentlyAvailable")),
        number(status.get("restoreRate")),
        number(status.get("maximumAvailable")),
    )


def _code(error: Any) -> Any:
    extensions = error.get("extensions") if isinstance(error, dict) else None
    return extensions.get("code") if isinstance(extensions, dict) else None


def _messages(errors: Iterable[Any]) -> str:
    return "; ".join(str(e.get("message")) if isinstance(e, dict) else str(e) for e in errors)


def retired(reply: Reply, call: str) -> SourceError:
    """A 404 or 410 from `graphql.json`: the version is not (or no longer) served."""
    body = reply.body
    said = body.get("errors") if isinstance(body, dict) else body
    return SourceProtocolError(
        f"API version {API_VERSION} is not served here ({said or 'no message'}); "
        "check SHOPIFY_SHOP_URL and the versions Shopify supports",
        source=SOURCE,
        call=call,
        status=reply.status,
    )


def data_of(reply: Reply, call: str) -> dict[str, Any]:
    """The `data` of a reply, or the vendor's errors raised as a `SourceError` naming `call`."""
    if reply.status in (404, 410):
        raise retired(reply, call)
    body = reply.body
    errors = field(body, "errors", list, optional=True) if isinstance(body, dict) else None
    if errors:
        codes = {_code(e) for e in errors}
        if "THROTTLED" in codes:
            cost = cost_of(body)
            wait = None
            if cost.requested is not None and cost.available is not None and cost.restore_per_s:
                wait = max(0.0, cost.requested - cost.available) / cost.restore_per_s * 1.05 + 0.01
            raise SourceRateLimited(
                f"query cost throttled ({_messages(errors)})",
                source=SOURCE,
                call=call,
                status=reply.status,
                retry_after=wait,
            )
        if "ACCESS_DENIED" in codes:
            raise SourceAuthError(
                f"{_messages(errors)}; give SHOPIFY_ACCESS_TOKEN's app the scopes {', '.join(SCOPES)}",
                source=SOURCE,
                call=call,
                status=reply.status,
            )
        raise SourceProtocolError(
            f"GraphQL errors: {_messages(errors)}", source=SOURCE, call=call, status=reply.status
        )
    return field(body, "data", dict)  # type: ignore[no-any-return]


def payload_of(reply: Reply, call: str, mutation: str) -> dict[str, Any]:
    """A mutation's payload; its `userErrors` raise a `SourceProtocolError` with their messages."""
    payload = field(data_of(reply, call), mutation, dict, path="data.")
    user_errors = field(payload, "userErrors", list, path=f"data.{mutation}.", optional=True)
    if user_errors:
        detail = "; ".join(
            f"{'.'.join(map(str, e.get('field') or [])) or 'input'}: {e.get('message')}"
            if isinstance(e, dict)
            else str(e)
            for e in user_errors
        )
        raise SourceProtocolError(
            f"{mutation} refused: {detail}", source=SOURCE, call=call, status=reply.status
        )
    return payload  # type: ignore[no-any-return]


def truncated(order: dict[str, Any]) -> str | None:
    """The first connection of a page's order that shows as many children as it may (so may hide
    more), or None."""

    def full(record: Any, key: str, size: int) -> bool:
        return len(nodes(record, key)) >= size

    if full(order, "lineItems", LINE_ITEMS):
        return "lineItems"
    if full(order, "fulfillmentOrders", FULFILLMENT_ORDERS):
        return "fulfillmentOrders"
    for key, size in (("fulfillments", FULFILLMENTS), ("refunds", REFUNDS)):
        children = order.get(key) or []
        if len(children) >= size:
            return key
        inner = "fulfillmentLineItems" if key == "fulfillments" else "refundLineItems"
        if any(full(child, inner, PARTS) for child in children if isinstance(child, dict)):
            return f"{key}.{inner}"
    return None


__all__ = [
    "API_VERSION",
    "BULK_ORDER_FIELDS",
    "BULK_RUN_MUTATION",
    "BULK_STATUS_QUERY",
    "MAX_QUERY_COST",
    "NODES_QUERY",
    "ORDERS_QUERY",
    "ORDER_COST",
    "ORDER_FIELDS",
    "ORDER_QUERY",
    "PAGE_LIMIT",
    "SCOPES",
    "WEBHOOKS_QUERY",
    "WEBHOOK_CREATE_MUTATION",
    "Cost",
    "bulk_orders_query",
    "cost_of",
    "data_of",
    "gid",
    "payload_of",
    "retired",
    "truncated",
]
