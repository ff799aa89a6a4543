"""Shopify Admin REST `2024-10` connector: orders (paged by the `Link` header), one order, holds.

Calls are flows (see `services.sources.http`), so `ShopifyClient` and `AsyncShopifyClient` share every
request and every reading of a reply. Pacing: `CallLimitPacer` reads `X-Shopify-Shop-Api-Call-Limit`
("used/size") and waits before the leaky bucket is full; a 429 still waits `Retry-After`.
"""

from __future__ import annotations

import re
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from typing import Any

import httpx

from checks.model import StoreOrder
from services.settings import Settings
from services.sources.fields import RecordError, field, items
from services.sources.http import (
    AsyncSourceClient,
    Call,
    Flow,
    Reply,
    SourceClient,
    SourceConfig,
)
from services.sources.shopify import parse_on_hold, parse_order
from services.sources.shopify_holds import HOLD_QUERY_COST, HOLDS_PER_QUERY, Holds, holds_call

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
        return Call("GET orders.json (next page)", next_url, _page)
    params: dict[str, Any] = {"status": "any", "limit": limit}
    if updated_at_min is not None:
        params["updated_at_min"] = _iso(updated_at_min)
    if created_at_min is not None:
        params["created_at_min"] = _iso(created_at_min)
    if since_id is not None:
        params["since_id"] = since_id
    if ids:
        params["ids"] = ",".join(str(i) for i in ids)
    return Call("GET orders.json", "orders.json", _page, params=params)


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
