"""Holds of store orders (SPEC §3 rule 7), 100 orders per GraphQL Admin API query.

REST has only a per-order fulfillment-orders call, which at the Standard plan's 2 calls/s costs minutes
for a backlog of open orders. The query asks each order's fulfillment-order statuses; an order with
more of them than the query shows is asked over REST. Replies carry the calculated-cost bucket's state,
which `ShopifyClient.holds` paces by; a THROTTLED reply is waited out and asked again like a 429.
"""

from __future__ import annotations

import functools
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from services.errors import SourceAuthError, SourceProtocolError, SourceRateLimited
from services.sources.fields import RecordError, field, items, text
from services.sources.http import Call, Reply

SOURCE = "shopify"

FULFILLMENT_ORDERS_SHOWN = 5  # per order; an order with more is asked over REST
HOLDS_QUERY = (
    "query OrderHolds($ids: [ID!]!) { nodes(ids: $ids) { ... on Order { legacyResourceId "
    f"fulfillmentOrders(first: {FULFILLMENT_ORDERS_SHOWN}) {{ nodes {{ status }} pageInfo {{ hasNextPage }} }} }} }} }}"
)
HOLDS_PER_QUERY = 100
HOLD_SCOPES = ("read_merchant_managed_fulfillment_orders", "read_third_party_fulfillment_orders")
# Requested points per order: the order, its connection sized by `first`, pageInfo.
HOLD_QUERY_COST = 1 + (2 + FULFILLMENT_ORDERS_SHOWN) + 1


@dataclass(frozen=True)
class Holds:
    """The answer to one holds query."""

    on_hold: dict[int, bool]  # per order asked; an order the store did not return is left out
    more: list[int]  # orders with more fulfillment orders than the query shows: ask them one by one
    available: float | None = None  # the cost bucket after this query (`extensions.cost.throttleStatus`)
    restore_per_s: float | None = None

    def wait_before(self, cost: float) -> float:
        """Seconds until the bucket holds `cost` points again, with a little to spare (5 %, 10 ms) so
        that rounding never costs a throttled round trip."""
        if self.available is None or not self.restore_per_s or cost <= self.available:
            return 0.0
        return (cost - self.available) / self.restore_per_s * 1.05 + 0.01


def _throttle_status(body: Any) -> tuple[float | None, float | None, float | None]:
    """(requested cost, currently available, restore rate) from `extensions.cost`, where given."""
    extensions = body.get("extensions") if isinstance(body, dict) else None
    cost = extensions.get("cost") if isinstance(extensions, dict) else None
    if not isinstance(cost, dict):
        return None, None, None
    status = cost.get("throttleStatus")
    if not isinstance(status, dict):
        status = {}
    numbers = (cost.get("requestedQueryCost"), status.get("currentlyAvailable"), status.get("restoreRate"))
    return tuple(float(n) if isinstance(n, int | float) else None for n in numbers)  # type: ignore[return-value]


def _code(error: Any) -> Any:
    extensions = error.get("extensions") if isinstance(error, dict) else None
    return extensions.get("code") if isinstance(extensions, dict) else None


def _holds(ids: Sequence[int], reply: Reply) -> Holds:
    body = reply.body
    requested, available, restore = _throttle_status(body)
    errors = field(body, "errors", list, optional=True)
    if errors:
        codes = {_code(e) for e in errors}
        messages = "; ".join(str(e.get("message")) for e in errors if isinstance(e, dict)) or str(errors)
        if "THROTTLED" in codes:
            wait = (
                (requested - available) / restore if requested and available is not None and restore else None
            )
            raise SourceRateLimited(
                "query cost throttled", source=SOURCE, call=HOLDS_CALL, status=reply.status, retry_after=wait
            )
        if "ACCESS_DENIED" in codes:  # a missing scope: asking again cannot help
            raise SourceAuthError(
                f"the token may not read fulfillment orders ({messages}); give SHOPIFY_ACCESS_TOKEN's app "
                f"the scopes {', '.join(HOLD_SCOPES)}",
                source=SOURCE,
                call=HOLDS_CALL,
                status=reply.status,
            )
        raise SourceProtocolError(
            f"GraphQL errors: {messages}", source=SOURCE, call=HOLDS_CALL, status=reply.status
        )
    nodes = items(field(body, "data", dict), "nodes", path="data.", optional=False)
    if len(nodes) != len(ids):
        raise RecordError("data.nodes", f"has {len(nodes)} entries for {len(ids)} orders asked")
    on_hold: dict[int, bool] = {}
    more: list[int] = []
    for i, (order_id, node) in enumerate(zip(ids, nodes, strict=True)):
        if node is None:  # not known to the store (deleted since listed): the stored hold stays
            continue
        path = f"data.nodes[{i}]."
        legacy = text(node, "legacyResourceId", path=path)
        if legacy != str(order_id):
            raise RecordError(f"{path}legacyResourceId", f"is {legacy!r}, expected {order_id}")
        orders = field(node, "fulfillmentOrders", dict, path=path)
        opath = f"{path}fulfillmentOrders."
        statuses = [
            text(fo, "status", path=f"{opath}nodes[{j}].")
            for j, fo in enumerate(items(orders, "nodes", path=opath, optional=False))
        ]
        page_info = field(orders, "pageInfo", dict, path=opath, optional=True) or {}
        if "ON_HOLD" in statuses:
            on_hold[order_id] = True
        elif page_info.get("hasNextPage") is True:
            more.append(order_id)
        else:
            on_hold[order_id] = False
    return Holds(on_hold, more, available, restore)


HOLDS_CALL = "POST graphql.json (order holds)"


def holds_call(order_ids: Sequence[int]) -> Call[Holds]:
    """Whether each of up to HOLDS_PER_QUERY orders has a fulfillment order on hold (SPEC §3 rule 7)."""
    ids = list(order_ids)
    variables = {"ids": [f"gid://shopify/Order/{i}" for i in ids]}
    return Call(
        HOLDS_CALL,
        "graphql.json",
        functools.partial(_holds, ids),
        method="POST",
        json_body={"query": HOLDS_QUERY, "variables": variables},
        read_only=True,
    )


__all__ = ["HOLDS_PER_QUERY", "HOLDS_QUERY", "HOLD_QUERY_COST", "HOLD_SCOPES", "Holds", "holds_call"]
