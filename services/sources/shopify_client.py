"""Shopify Admin REST `2024-10` connector: orders (paged by the `Link` header), one order, holds.

Calls are flows (see `services.sources.http`), so `ShopifyClient` and `AsyncShopifyClient` share every
request and every reading of a reply. Pacing: `CallLimitPacer` reads `X-Shopify-Shop-Api-Call-Limit`
("used/size") and waits before the leaky bucket is full; a 429 still waits `Retry-After`.
"""

from __future__ import annotations

import functools
import re
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from typing import Any

import httpx

from checks.model import StoreOrder
from services.errors import SourceAuthError, SourceProtocolError, SourceRateLimited
from services.settings import Settings
from services.sources import wire
from services.sources.fields import RecordError, field, items, text
from services.sources.http import (
    AsyncSourceClient,
    Call,
    Flow,
    Reply,
    SourceClient,
    SourceConfig,
)
from services.sources.shopify import parse_on_hold, parse_order

SOURCE = "shopify"
API_VERSION = "2024-10"
PAGE_LIMIT = 250
CALL_LIMIT_HEADER = "X-Shopify-Shop-Api-Call-Limit"
_NEXT_LINK = re.compile(r'<([^>]+)>\s*;\s*rel="?next"?')


def config(settings: Settings, **overrides: Any) -> SourceConfig:
    shop_url, token = settings.source_credentials(SOURCE)
    assert shop_url and token
    return SourceConfig(
        source=SOURCE,
        base_url=f"{shop_url.rstrip('/')}/admin/api/{API_VERSION}/",
        url_setting="SHOPIFY_SHOP_URL",
        secret_setting="SHOPIFY_ACCESS_TOKEN",
        headers={"X-Shopify-Access-Token": token},
        timeout_s=settings.source_timeout_s,
        retry_after_header="Retry-After",
        **overrides,
    )


class CallLimitPacer:
    """Keeps Shopify's leaky bucket below `1 - headroom` full.

    The bucket holds `size` calls and leaks `size / 20` per second (40 → 2/s, 400 → 20/s on Plus). After
    each reply the used count is read from the header; between replies each request sent counts as one.
    """

    def __init__(
        self,
        *,
        headroom: float = 0.25,
        leak_per_s: float | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.headroom, self.leak_per_s, self._clock = headroom, leak_per_s, clock
        self._used: float | None = None
        self._size = 40.0
        self._at = 0.0
        self._lock = threading.Lock()

    def _leak(self) -> float:
        return self.leak_per_s or self._size / 20

    def observe(self, response: httpx.Response) -> None:
        header = response.headers.get(CALL_LIMIT_HEADER)
        if not header or "/" not in header:
            return
        used, _, size = header.partition("/")
        try:
            with self._lock:
                self._used, self._size, self._at = float(used), float(size), self._clock()
        except ValueError:
            return

    def delay(self) -> float:
        with self._lock:
            if self._used is None:
                return 0.0
            now = self._clock()
            level = max(0.0, self._used - (now - self._at) * self._leak())
            ceiling = self._size * (1 - self.headroom)
            wait = max(0.0, (level + 1 - ceiling) / self._leak())
            # Count this request in, as of when it will be sent.
            self._used, self._at = level + 1, now
            return wait


@dataclass(frozen=True)
class OrderPage:
    """One page of `orders.json`, parsed (holds not asked yet: `on_hold` is None), and the next page's URL."""

    orders: list[StoreOrder]
    next_url: str | None


def _iso(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat(timespec="seconds")


def next_link(headers: httpx.Headers) -> str | None:
    match = _NEXT_LINK.search(headers.get("link", ""))
    return match.group(1) if match else None


def _orders(reply: Reply) -> list[StoreOrder]:
    # Every record is parsed inside the call, so a broken page is fetched again, never half-written.
    out = []
    for i, raw in enumerate(items(reply.body, "orders", optional=False)):
        try:
            out.append(parse_order(raw))
        except RecordError as exc:
            raise RecordError(f"orders[{i}].{exc.field}", exc.problem) from None
    return out


def _page(reply: Reply) -> OrderPage:
    return OrderPage(_orders(reply), next_link(reply.headers))


def _fast_page(reply: Reply) -> OrderPage:
    return OrderPage(wire.store_orders(reply.content), next_link(reply.headers))


def orders_page_call(
    *,
    updated_at_min: datetime | None = None,
    created_at_min: datetime | None = None,
    since_id: int | None = None,
    ids: Sequence[int] | None = None,
    next_url: str | None = None,
    limit: int = PAGE_LIMIT,
) -> Call[OrderPage]:
    """The first page (filters), or a following page (`next_url` from the Link header; no filters allowed)."""
    if next_url is not None:
        return Call("GET orders.json (next page)", next_url, _page, fast=_fast_page)
    params: dict[str, Any] = {"status": "any", "limit": limit}
    if updated_at_min is not None:
        params["updated_at_min"] = _iso(updated_at_min)
    if created_at_min is not None:
        params["created_at_min"] = _iso(created_at_min)
    if since_id is not None:
        params["since_id"] = since_id
    if ids:
        params["ids"] = ",".join(str(i) for i in ids)
    return Call("GET orders.json", "orders.json", _page, params=params, fast=_fast_page)


def _one_order(reply: Reply) -> StoreOrder | None:
    if reply.status == 404:
        return None
    return parse_order(field(reply.body, "order", dict))


def _first_order(reply: Reply) -> StoreOrder | None:
    orders = _orders(reply)
    return orders[0] if orders else None


def _hold(reply: Reply) -> bool:
    return parse_on_hold(reply.body)


def hold_call(order_id: int) -> Call[bool]:
    return Call(
        "GET orders/{id}/fulfillment_orders.json", f"orders/{order_id}/fulfillment_orders.json", _hold
    )


# Holds of many orders in one GraphQL query: REST has only a per-order fulfillment-orders call, which at
# the Standard plan's 2 calls/s costs minutes for a backlog of open orders; GraphQL asks 100 at a time.
HOLDS_QUERY = (
    "query OrderHolds($ids: [ID!]!) { nodes(ids: $ids) { ... on Order { legacyResourceId "
    "fulfillmentOrders(first: 5) { nodes { status } pageInfo { hasNextPage } } } } }"
)
HOLDS_PER_QUERY = 100
HOLD_SCOPES = ("read_merchant_managed_fulfillment_orders", "read_third_party_fulfillment_orders")
HOLD_QUERY_COST = 1 + (2 + 5) + 1  # requested points per order: the order, the connection, pageInfo


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


def _holds(ids: Sequence[int], reply: Reply) -> Holds:
    body = reply.body
    requested, available, restore = _throttle_status(body)
    errors = field(body, "errors", list, optional=True)
    if errors:
        codes = {e.get("extensions", {}).get("code") for e in errors if isinstance(e, dict)}
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


def may_be_on_hold(order: StoreOrder) -> bool:
    """Whether the store's hold can decide this order's category (SPEC §3 rule 7): not cancelled, refunded
    or awaiting payment, and not fulfilled. Only these cost a fulfillment-orders call."""
    return (
        order.cancelled_at is None
        and order.financial_status not in ("refunded", "voided", "pending")
        and order.fulfillment_status in (None, "unfulfilled", "partial")
    )


def with_hold(order: StoreOrder) -> Flow[StoreOrder]:
    """The order with its hold, asked only when it can matter (otherwise left unknown: None)."""
    if not may_be_on_hold(order):
        return order
    on_hold = yield hold_call(order.id)
    return replace(order, on_hold=on_hold)


def order_call(order_id: int) -> Call[StoreOrder | None]:
    """One order without its hold (None when the store does not know it)."""
    return Call("GET orders/{id}.json", f"orders/{order_id}.json", _one_order, accept=frozenset({404}))


def order_flow(order_id: int) -> Flow[StoreOrder | None]:
    order = yield order_call(order_id)
    if order is None:
        return None
    return (yield from with_hold(order))


def order_by_name_flow(name: str) -> Flow[StoreOrder | None]:
    """The order named `name` ("#1001" or "1001"), or None."""
    wanted = name.strip() if name.strip().startswith("#") else f"#{name.strip()}"
    order = yield Call(
        "GET orders.json?name=",
        "orders.json",
        _first_order,
        params={"name": wanted, "status": "any", "limit": 5},
    )
    if order is None or order.name != wanted:
        return None
    return (yield from with_hold(order))


class ShopifyClient(SourceClient):
    """Blocking Shopify client (sync engine)."""

    configure = staticmethod(config)
    default_pacer = CallLimitPacer

    def order_pages(
        self,
        *,
        updated_at_min: datetime | None = None,
        created_at_min: datetime | None = None,
        since_id: int | None = None,
        limit: int = PAGE_LIMIT,
    ) -> Iterator[OrderPage]:
        """Every page of orders matching the filters, following the `Link` header."""
        page = self.call(
            orders_page_call(
                updated_at_min=updated_at_min, created_at_min=created_at_min, since_id=since_id, limit=limit
            )
        )
        yield page
        while page.next_url:
            page = self.call(orders_page_call(next_url=page.next_url))
            yield page

    def orders_by_ids(self, ids: Sequence[int]) -> list[StoreOrder]:
        return self.call(orders_page_call(ids=ids, limit=max(1, len(ids)))).orders

    def on_hold(self, order_id: int) -> bool:
        return self.call(hold_call(order_id))

    def holds(self, order_ids: Sequence[int]) -> dict[int, bool]:
        """The hold of each order, HOLDS_PER_QUERY at a time, pacing by the cost bucket the last reply
        reported. Orders the store no longer returns are left out (their stored hold stays)."""
        ids = list(order_ids)
        out: dict[int, bool] = {}
        last: Holds | None = None
        for start in range(0, len(ids), HOLDS_PER_QUERY):
            part = ids[start : start + HOLDS_PER_QUERY]
            wait = last.wait_before(len(part) * HOLD_QUERY_COST) if last else 0.0
            if wait > 0:
                self.stats.count(wait=wait)
                self._sleep(wait)
            last = self.call(holds_call(part))
            out.update(last.on_hold)
            out.update((order_id, self.on_hold(order_id)) for order_id in last.more)
        return out

    def with_hold(self, order: StoreOrder) -> StoreOrder:
        return self.run(with_hold(order))

    def order(self, order_id: int) -> StoreOrder | None:
        return self.run(order_flow(order_id))

    def order_by_name(self, name: str) -> StoreOrder | None:
        return self.run(order_by_name_flow(name))


class AsyncShopifyClient(AsyncSourceClient):
    """Async Shopify client (per-order refresh)."""

    configure = staticmethod(config)
    default_pacer = CallLimitPacer

    async def order(self, order_id: int) -> StoreOrder | None:
        return await self.run(order_flow(order_id))

    async def order_by_name(self, name: str) -> StoreOrder | None:
        return await self.run(order_by_name_flow(name))


__all__ = [
    "API_VERSION",
    "AsyncShopifyClient",
    "CallLimitPacer",
    "Holds",
    "OrderPage",
    "ShopifyClient",
    "config",
    "hold_call",
    "holds_call",
    "may_be_on_hold",
    "next_link",
    "order_by_name_flow",
    "order_call",
    "order_flow",
    "orders_page_call",
    "with_hold",
]
