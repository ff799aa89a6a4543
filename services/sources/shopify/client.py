"""Shopify GraphQL Admin API `2026-10` connector: order pages, one order, bulk full syncs, webhooks.

Over 400 lines because the blocking and async clients share every call here as flows; the queries
are queries.py, the reading graphql.py, the bulk download bulk.py.

Every call is `POST {shop}/admin/api/2026-10/graphql.json` with `X-Shopify-Access-Token`. Calls are
flows (see `services.sources.http`), so `ShopifyClient` and `AsyncShopifyClient` share every request
and every reading of a reply. Pacing: `CostPacer` keeps the calculated-cost bucket from running dry,
from `extensions.cost.throttleStatus` of the last reply; a `THROTTLED` reply is waited out and asked
again (`services.sources.shopify.queries.data_of`). Each order comes with its fulfillment orders, so
its hold (SPEC §3 rule 7) is known without another call.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from typing import Any

import httpx
import orjson

from checks.model import StoreOrder
from services.errors import SourceProtocolError, SourceUnavailable
from services.settings import Settings
from services.sources.http import AsyncSourceClient, Call, Flow, Reply, SourceClient, SourceConfig, _tls
from services.sources.json_fields import RecordError, field, items
from services.sources.shopify import bulk
from services.sources.shopify.graphql import gid_number, nodes, parse_graphql_order
from services.sources.shopify.queries import (
    API_VERSION,
    NODES_QUERY,
    ORDER_QUERY,
    ORDERS_QUERY,
    PAGE_LIMIT,
    SOURCE,
    cost_of,
    data_of,
    gid,
    truncated,
)
from services.sources.shopify.webhooks import WEBHOOK_TOPICS, subscribe_flow

ENDPOINT = "graphql.json"
GRAPHQL_STATUSES = frozenset({404, 410})  # a retired or unknown version: read, then raised by name


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


class CostPacer:
    """Waits before a query the cost bucket could not take, so that THROTTLED stays rare.

    After each reply it keeps the bucket's level and restore rate (`extensions.cost.throttleStatus`) and
    the query's requested cost. A query goes when the bucket, restored since, holds that cost, and is
    counted in as it goes; otherwise `delay` says how long until it would, at most
    `RECHECK_S`, and the client asks again. Shared by queries in flight together (a bulk refresh), a
    reply that refunds the unused part of its cost lets the next query go at once.
    """

    RECHECK_S = 0.25

    def __init__(self, *, clock: Callable[[], float] = time.monotonic) -> None:
        self._clock = clock
        self._available: float | None = None
        self._restore = 0.0
        self._requested = 0.0
        self._maximum = float("inf")
        self._at = 0.0
        self._lock = threading.Lock()

    def observe(self, response: httpx.Response) -> None:
        if not response.content or b'"throttleStatus"' not in response.content:
            return
        try:
            cost = cost_of(orjson.loads(response.content))
        except orjson.JSONDecodeError:
            return
        if cost.available is None or not cost.restore_per_s:
            return
        with self._lock:
            self._available, self._restore, self._at = cost.available, cost.restore_per_s, self._clock()
            self._requested = cost.requested or self._requested
            self._maximum = cost.maximum or self._maximum

    def delay(self) -> float:
        with self._lock:
            if self._available is None or not self._restore:
                return 0.0
            now = self._clock()
            level = min(self._maximum, self._available + (now - self._at) * self._restore)
            needed = min(self._requested, self._maximum)  # a query the bucket can never hold goes
            if level < needed:
                return min(self.RECHECK_S, (needed - level) / self._restore * 1.05 + 0.01)
            self._available, self._at = level - self._requested, now  # counted in as it goes
            return 0.0


@dataclass(frozen=True)
class OrderPage:
    """One page of the `orders` connection, parsed (holds included), and the cursor after it."""

    orders: list[StoreOrder]
    cursor: str | None  # `endCursor`: pass as `after` for the next page
    has_next: bool
    # Orders with more children than a page shows: not in `orders`; `ShopifyClient` reads them whole.
    truncated: tuple[int, ...] = ()


def search_since(moment: datetime) -> str:
    """The `orders` search for orders updated at or after `moment`."""
    return f"updated_at:>='{moment.astimezone(UTC).strftime('%Y-%m-%dT%H:%M:%SZ')}'"


def _parse(raw: Any, path: str) -> StoreOrder:
    if (cut := truncated(raw)) is not None:
        name = raw.get("name") if isinstance(raw, dict) else None
        raise SourceProtocolError(
            f"order {name} has more {cut} than one query shows; a sync reads it through a bulk operation",
            source=SOURCE,
            call="POST graphql.json (orders)",
        )
    try:
        return parse_graphql_order(raw)
    except RecordError as exc:
        raise RecordError(f"{path}{exc.field}", exc.problem) from None


def _page(reply: Reply) -> OrderPage:
    data = data_of(reply, ORDERS_CALL)
    connection = field(data, "orders", dict, path="data.")
    info = field(connection, "pageInfo", dict, path="data.orders.", optional=True) or {}
    # Every record is parsed inside the call, so a broken page is fetched again, never half-written.
    orders, cut = _split(nodes(data, "orders"), "data.orders")
    cursor = info.get("endCursor")
    return OrderPage(
        orders, cursor if isinstance(cursor, str) else None, info.get("hasNextPage") is True, cut
    )


def _split(found: list[Any], path: str) -> tuple[list[StoreOrder], tuple[int, ...]]:
    """The orders read whole, and the ids of those with more children than the query shows."""
    orders: list[StoreOrder] = []
    cut: list[int] = []
    for i, raw in enumerate(found):
        if raw is None:  # an order deleted since it was stored comes back null: the stored one stays
            continue
        if truncated(raw) is not None:
            cut.append(gid_number(raw, "id", "Order", path=f"{path}[{i}]."))
        else:
            orders.append(_parse(raw, f"{path}[{i}]."))
    return orders, tuple(cut)


ORDERS_CALL = "POST graphql.json (orders)"
ORDER_CALL = "POST graphql.json (order)"
NODES_CALL = "POST graphql.json (nodes)"


def _query(name: str, query: str, variables: dict[str, Any], parse: Callable[[Reply], Any]) -> Call[Any]:
    return Call(
        name,
        ENDPOINT,
        parse,
        method="POST",
        json_body={"query": query, "variables": variables},
        accept=GRAPHQL_STATUSES,
        read_only=True,
    )


def orders_page_call(
    *,
    updated_at_min: datetime | None = None,
    after: str | None = None,
    limit: int = PAGE_LIMIT,
    search: str | None = None,
) -> Call[OrderPage]:
    """A page of orders by update time (oldest first), after `after` (a previous page's cursor)."""
    query = search if search is not None else (search_since(updated_at_min) if updated_at_min else None)
    variables = {"first": max(1, min(limit, PAGE_LIMIT)), "after": after, "query": query}
    return _query(ORDERS_CALL, ORDERS_QUERY, variables, _page)


def _one_order(reply: Reply) -> StoreOrder | None:
    order = field(data_of(reply, ORDER_CALL), "order", dict, path="data.", optional=True)
    return None if order is None else _parse(order, "data.order.")


def order_call(order_id: int) -> Call[StoreOrder | None]:
    """One order with its hold (None when the store does not know it)."""
    return _query(ORDER_CALL, ORDER_QUERY, {"id": gid("Order", order_id)}, _one_order)


def order_flow(order_id: int) -> Flow[StoreOrder | None]:
    return (yield order_call(order_id))  # type: ignore[no-any-return]


def _by_ids(reply: Reply) -> tuple[list[StoreOrder], tuple[int, ...]]:
    return _split(items(data_of(reply, NODES_CALL), "nodes", path="data.", optional=False), "data.nodes")


def orders_by_ids_call(ids: Sequence[int]) -> Call[tuple[list[StoreOrder], tuple[int, ...]]]:
    return _query(NODES_CALL, NODES_QUERY, {"ids": [gid("Order", i) for i in ids]}, _by_ids)


def order_by_name_flow(name: str) -> Flow[StoreOrder | None]:
    """The order named `name` ("#1001" or "1001"), or None."""
    wanted = name.strip() if name.strip().startswith("#") else f"#{name.strip()}"
    page = yield orders_page_call(search=f"name:{wanted}", limit=PAGE_LIMIT)
    return next((o for o in page.orders if o.name == wanted), None)


class ShopifyClient(SourceClient):
    """Blocking Shopify client (sync engine)."""

    configure = staticmethod(config)
    default_pacer = CostPacer

    def order_pages(
        self, *, updated_at_min: datetime | None = None, after: str | None = None, limit: int = PAGE_LIMIT
    ) -> Iterator[OrderPage]:
        """Every page of orders updated since `updated_at_min`, oldest update first, after `after`."""
        while True:
            page = self.call(orders_page_call(updated_at_min=updated_at_min, after=after, limit=limit))
            if page.truncated:
                whole = self.whole_orders(page.truncated)
                page = replace(page, orders=[*page.orders, *whole], truncated=())
            yield page
            if not page.has_next or page.cursor is None:
                return
            after = page.cursor

    def orders_by_ids(self, ids: Sequence[int]) -> list[StoreOrder]:
        out: list[StoreOrder] = []
        for start in range(0, len(ids), PAGE_LIMIT):
            found, cut = self.call(orders_by_ids_call(ids[start : start + PAGE_LIMIT]))
            out.extend(found)
            out.extend(self.whole_orders(cut))
        return out

    def whole_orders(self, ids: Sequence[int], *, poll_s: float = 1.0) -> list[StoreOrder]:
        """Orders too big for a page's connection sizes, read whole through a bulk operation (which has
        no sizes). Rare: an order with more line items, fulfillments or refunds than a page shows."""
        if not ids:
            return []
        return list(self.bulk_orders(search=" OR ".join(f"id:{i}" for i in ids), poll_s=poll_s))

    def order(self, order_id: int) -> StoreOrder | None:
        return self.run(order_flow(order_id))

    def order_by_name(self, name: str) -> StoreOrder | None:
        return self.run(order_by_name_flow(name))

    def subscribe_webhooks(
        self, callback_url: str, topics: Sequence[str] = WEBHOOK_TOPICS
    ) -> dict[str, bool]:
        """Idempotent: a topic already sent to `callback_url` is left as it is (False)."""
        return self.run(subscribe_flow(callback_url, topics))

    # ------------------------------------------------------------ bulk operation (full sync)

    def start_bulk(
        self, *, updated_at_min: datetime | None = None, search: str | None = None
    ) -> bulk.BulkOperation:
        """Start a bulk query of every order, or of those updated since `updated_at_min`, or matching
        `search` (Shopify's order search syntax)."""
        return self.call(bulk.run_call(search or (search_since(updated_at_min) if updated_at_min else None)))

    def wait_bulk(
        self, operation: bulk.BulkOperation, *, poll_s: float = 1.0, timeout_s: float = 6 * 3600
    ) -> bulk.BulkOperation:
        """Poll the operation until it is finished (every 50 ms at first, doubling up to `poll_s`); a
        failed, cancelled or expired one raises."""
        deadline = time.monotonic() + timeout_s
        wait = min(poll_s, 0.05)
        while not operation.finished:
            if time.monotonic() > deadline:
                raise SourceUnavailable(
                    f"bulk operation {operation.id} still {operation.status} after {timeout_s:g}s",
                    source=SOURCE,
                    call=bulk.STATUS_CALL,
                )
            self.stats.count(wait=wait)
            self._sleep(wait)
            wait = min(poll_s, wait * 2)
            operation = self.call(bulk.status_call(operation.id))
        operation.raise_if_failed(bulk.STATUS_CALL)
        return operation

    def bulk_result(self, url: str) -> Iterator[StoreOrder]:
        """The orders of a finished operation's JSONL, read as it downloads. The URL is signed, so it
        is fetched without the access token (it is not Shopify's API host)."""
        call = "GET bulk operation result"
        try:
            with (
                httpx.Client(timeout=self.config.timeout_s, verify=_tls()) as plain,
                plain.stream("GET", url) as response,
            ):
                if response.status_code != 200:
                    raise SourceProtocolError(
                        f"the result could not be downloaded: {response.read()[:200]!r}",
                        source=SOURCE,
                        call=call,
                        status=response.status_code,
                    )
                for i, raw in enumerate(bulk.orders(response.iter_lines(), source="result")):
                    try:
                        yield parse_graphql_order(raw)
                    except RecordError as exc:
                        raise SourceProtocolError(
                            f"order {i + 1} of the result is not in the expected shape: {exc}",
                            source=SOURCE,
                            call=call,
                        ) from None
        except RecordError as exc:
            raise SourceProtocolError(str(exc), source=SOURCE, call=call) from None
        except httpx.InvalidURL as exc:
            raise SourceProtocolError(
                f"the result URL {url!r} is not valid ({exc})", source=SOURCE, call=call
            ) from exc
        except httpx.HTTPError as exc:
            raise SourceUnavailable(f"the download broke ({exc})", source=SOURCE, call=call) from exc

    def bulk_orders(
        self, *, updated_at_min: datetime | None = None, search: str | None = None, poll_s: float = 1.0
    ) -> Iterator[StoreOrder]:
        """Every order (updated since `updated_at_min`, or matching `search`) through one bulk
        operation, streamed."""
        started = self.start_bulk(updated_at_min=updated_at_min, search=search)
        yield from self._stream(self.wait_bulk(started, poll_s=poll_s))

    def bulk_orders_of(self, operation_id: str, *, poll_s: float = 1.0) -> Iterator[StoreOrder]:
        """The orders of an operation started before, e.g. the one a `bulk_operations/finish` webhook
        names (`admin_graphql_api_id`): its status is read once (polled only if not finished)."""
        yield from self._stream(self.wait_bulk(self.call(bulk.status_call(operation_id)), poll_s=poll_s))

    def _stream(self, done: bulk.BulkOperation) -> Iterator[StoreOrder]:
        if not done.url:  # no URL: the operation found no orders
            return
        # The result stays downloadable for days: a download that breaks is started again, and the
        # orders already handed on are skipped.
        handed, attempt = 0, 1
        while True:
            try:
                for i, order in enumerate(self.bulk_result(done.url)):
                    if i >= handed:
                        handed += 1
                        yield order
                return
            except SourceUnavailable:
                if attempt >= self.config.max_attempts:
                    raise
                wait = min(self.config.max_backoff_s, self.config.backoff_s * 2 ** (attempt - 1))
                self.stats.count(retry=True, wait=wait)
                self._sleep(wait)
                attempt += 1

    def bulk_order_pages(
        self, *, updated_at_min: datetime | None = None, size: int = 250, poll_s: float = 1.0
    ) -> Iterator[list[StoreOrder]]:
        """`bulk_orders` in lists of `size`, for a sync that commits page by page."""
        page: list[StoreOrder] = []
        for order in self.bulk_orders(updated_at_min=updated_at_min, poll_s=poll_s):
            page.append(order)
            if len(page) >= size:
                yield page
                page = []
        if page:
            yield page


class AsyncShopifyClient(AsyncSourceClient):
    """Async Shopify client (per-order refresh)."""

    configure = staticmethod(config)
    default_pacer = CostPacer

    async def order(self, order_id: int) -> StoreOrder | None:
        return await self.run(order_flow(order_id))

    async def order_by_name(self, name: str) -> StoreOrder | None:
        return await self.run(order_by_name_flow(name))


__all__ = [
    "API_VERSION",
    "PAGE_LIMIT",
    "WEBHOOK_TOPICS",
    "AsyncShopifyClient",
    "CostPacer",
    "OrderPage",
    "ShopifyClient",
    "config",
    "order_by_name_flow",
    "order_call",
    "order_flow",
    "orders_by_ids_call",
    "orders_page_call",
    "search_since",
]
