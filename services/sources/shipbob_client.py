"""ShipBob API 1.0 connector: orders (paged by the `next-page` header), inventory with SKUs, order creation.

Calls are flows (see `services.sources.http`), shared by `ShipBobClient` and `AsyncShipBobClient`.
`create_order` is never retried once a byte may have reached ShipBob: a timeout raises
`SourceUnavailable` and the caller (replacements) looks the order up by its `reference_id`.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import httpx

from checks.model import InventoryItem, WarehouseOrder
from services.errors import SourceError, SourceProtocolError
from services.settings import Settings
from services.sources.fields import RecordError
from services.sources.http import AsyncSourceClient, Call, Flow, Reply, SourceClient, SourceConfig
from services.sources.shipbob import parse_inventory_item, parse_order

SOURCE = "shipbob"
PAGE_LIMIT = 250
MAX_REFERENCE_IDS = 50  # per request; longer lists are split


class DuplicateReference(SourceError):
    """ShipBob refused to create an order because one with this `reference_id` already exists (HTTP 422)."""

    def __init__(self, reference_id: str, detail: str = "") -> None:
        super().__init__(
            f"an order with reference_id {reference_id!r} already exists" + (f": {detail}" if detail else ""),
            source=SOURCE,
            call="POST /1.0/order",
            status=422,
        )
        self.reference_id = reference_id


def config(settings: Settings, **overrides: Any) -> SourceConfig:
    api_url, token = settings.source_credentials(SOURCE)
    assert api_url and token
    return SourceConfig(
        source=SOURCE,
        base_url=api_url,
        url_setting="SHIPBOB_API_URL",
        secret_setting="SHIPBOB_TOKEN",
        headers={"Authorization": f"Bearer {token}"},
        timeout_s=settings.source_timeout_s,
        retry_after_header="x-retry-after",
        **overrides,
    )


@dataclass(frozen=True)
class Page:
    """One page of a ShipBob list, parsed, and the next page's URL (from the `next-page` header)."""

    records: list[Any]
    next_url: str | None


def _list(reply: Reply, what: str) -> list[Any]:
    if not isinstance(reply.body, list):
        raise SourceProtocolError(
            f"expected a list of {what}, got {type(reply.body).__name__}",
            source=SOURCE,
            call=f"GET /1.0/{what}",
            status=reply.status,
        )
    return reply.body


def _next(reply: Reply) -> str | None:
    """ShipBob's `next-page` is a path and query relative to the API base (e.g. `/1.0/order?Page=2&...`)."""
    link = reply.headers.get("next-page")
    if not link:
        return None
    if link.startswith(("http://", "https://")):
        return link
    path = reply.url.path
    base = path[: path.index("/1.0/")] if "/1.0/" in path else ""
    return str(reply.url.copy_with(raw_path=(base + "/" + link.lstrip("/")).encode()))


def _parsed(raws: list[Any], parse: Callable[[Any], Any]) -> list[Any]:
    out = []
    for i, raw in enumerate(raws):
        try:
            out.append(parse(raw))
        except RecordError as exc:
            raise RecordError(f"[{i}].{exc.field}", exc.problem) from None
    return out


def _order_page(reply: Reply) -> Page:
    return Page(_parsed(_list(reply, "order"), parse_order), _next(reply))


def _raw_page(what: str) -> Callable[[Reply], Page]:
    def parse(reply: Reply) -> Page:
        raws = _list(reply, what)
        for i, raw in enumerate(raws):
            if not isinstance(raw, dict) or "id" not in raw:
                raise RecordError(f"[{i}]", "is not an object with an `id`")
        return Page(raws, _next(reply))

    return parse


def _iso(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat(timespec="seconds")


def orders_page_call(
    *,
    last_update_start: datetime | None = None,
    last_update_end: datetime | None = None,
    reference_ids: Sequence[str] | None = None,
    page: int = 1,
    limit: int = PAGE_LIMIT,
    next_url: str | None = None,
) -> Call[Page]:
    if next_url is not None:
        return Call("GET /1.0/order (next page)", next_url, _order_page)
    params: dict[str, Any] = {"Page": page, "Limit": limit, "SortOrder": "Oldest"}  # stable: new ones last
    if last_update_start is not None:
        params["LastUpdateStartDate"] = _iso(last_update_start)
    if last_update_end is not None:
        params["LastUpdateEndDate"] = _iso(last_update_end)
    if reference_ids:
        params["ReferenceIds"] = ",".join(reference_ids)
    return Call("GET /1.0/order", "1.0/order", _order_page, params=params)


def list_call(
    what: str, *, next_url: str | None = None, limit: int = PAGE_LIMIT, **filters: Any
) -> Call[Page]:
    """A page of `/1.0/inventory` or `/1.0/product` (raw records)."""
    if next_url is not None:
        return Call(f"GET /1.0/{what} (next page)", next_url, _raw_page(what))
    return Call(
        f"GET /1.0/{what}", f"1.0/{what}", _raw_page(what), params={"Page": 1, "Limit": limit, **filters}
    )


def orders_by_reference_flow(reference_ids: Sequence[str]) -> Flow[list[WarehouseOrder]]:
    found: list[WarehouseOrder] = []
    wanted = list(dict.fromkeys(reference_ids))
    for start in range(0, len(wanted), MAX_REFERENCE_IDS):
        page: Page = yield orders_page_call(reference_ids=wanted[start : start + MAX_REFERENCE_IDS])
        found += page.records
        while page.next_url:
            page = yield orders_page_call(next_url=page.next_url)
            found += page.records
    return found


def join_inventory(
    inventory: Sequence[dict[str, Any]], products: Sequence[dict[str, Any]]
) -> list[InventoryItem]:
    """Give each inventory item its product's SKU (ShipBob keeps SKUs on products), then parse it.
    Items no product points at have no SKU and are left out."""
    sku_by_inventory_id: dict[int, str] = {}
    for product in products:
        sku = product.get("sku") or product.get("reference_id")
        for item in product.get("fulfillable_inventory_items") or ():
            if sku and isinstance(item, dict) and item.get("id") is not None:
                sku_by_inventory_id.setdefault(int(item["id"]), str(sku))
    out = []
    for raw in inventory:
        sku = sku_by_inventory_id.get(int(raw["id"]))
        if sku is None:
            continue
        try:
            out.append(parse_inventory_item({**raw, "sku": sku}))
        except RecordError as exc:
            raise SourceProtocolError(
                f"inventory item {raw['id']} is not in the expected shape: {exc}",
                source=SOURCE,
                call="GET /1.0/inventory",
            ) from None
    return out


def _all_pages(first: Call[Page]) -> Flow[list[Any]]:
    page: Page = yield first
    records = list(page.records)
    while page.next_url:
        page = yield list_call(first.path.removeprefix("1.0/"), next_url=page.next_url)
        records += page.records
    return records


def inventory_flow(skus: Sequence[str] | None = None) -> Flow[dict[str, InventoryItem]]:
    """Inventory by SKU: products (all, or those whose reference is one of `skus`) joined with their items."""
    if not skus:
        products = yield from _all_pages(list_call("product"))
        inventory = yield from _all_pages(list_call("inventory"))
        return {item.sku: item for item in join_inventory(inventory, products)}
    wanted = set(skus)
    products = yield from _all_pages(list_call("product", ReferenceIds=",".join(sorted(wanted))))
    products = [p for p in products if (p.get("sku") or p.get("reference_id")) in wanted]
    ids = sorted(
        {
            int(i["id"])
            for p in products
            for i in p.get("fulfillable_inventory_items") or ()
            if isinstance(i, dict) and i.get("id") is not None
        }
    )
    inventory = (yield from _all_pages(list_call("inventory", IDs=",".join(map(str, ids))))) if ids else []
    return {item.sku: item for item in join_inventory(inventory, products)}


def create_order_call(payload: dict[str, Any]) -> Call[dict[str, Any]]:
    reference_id = str(payload.get("reference_id", ""))

    def parse(reply: Reply) -> dict[str, Any]:
        if reply.status == 422:
            # ShipBob: {"reference_id": ["Order with reference id <ref> already exists"]}; other 422s
            # (an unknown product, say) name other fields.
            errors = reply.body if isinstance(reply.body, dict) else {}
            about_reference = " ".join(str(m) for m in errors.get("reference_id") or ())
            if "exist" in about_reference.lower():
                raise DuplicateReference(reference_id, about_reference)
            raise SourceProtocolError(
                f"order refused: {str(reply.body)[:300]}", source=SOURCE, call="POST /1.0/order", status=422
            )
        if not isinstance(reply.body, dict):
            raise SourceProtocolError(
                "the created order is not an object",
                source=SOURCE,
                call="POST /1.0/order",
                status=reply.status,
            )
        return reply.body

    return Call(
        "POST /1.0/order", "1.0/order", parse, method="POST", json_body=payload, accept=frozenset({422})
    )


class ShipBobClient(SourceClient):
    """Blocking ShipBob client (sync engine, replacements)."""

    configure = staticmethod(config)

    def order_pages(
        self,
        *,
        last_update_start: datetime | None = None,
        last_update_end: datetime | None = None,
        page: int = 1,
        limit: int = PAGE_LIMIT,
    ) -> Iterator[Page]:
        """Every page of orders last updated in the window, following the `next-page` header."""
        current = self.call(
            orders_page_call(
                last_update_start=last_update_start, last_update_end=last_update_end, page=page, limit=limit
            )
        )
        yield current
        while current.next_url:
            current = self.call(orders_page_call(next_url=current.next_url))
            yield current

    def orders_by_reference(self, reference_ids: Sequence[str]) -> list[WarehouseOrder]:
        return self.run(orders_by_reference_flow(reference_ids))

    def inventory(self, skus: Sequence[str] | None = None) -> dict[str, InventoryItem]:
        return self.run(inventory_flow(skus))

    def create_order(self, payload: dict[str, Any]) -> dict[str, Any]:
        """POST /1.0/order. Raises DuplicateReference on ShipBob's 422 for a reference_id already used;
        SourceUnavailable when the outcome is unknown (look the order up by reference, never re-post)."""
        return self.call(create_order_call(payload))


class AsyncShipBobClient(AsyncSourceClient):
    """Async ShipBob client (per-order refresh)."""

    configure = staticmethod(config)

    async def orders_by_reference(self, reference_ids: Sequence[str]) -> list[WarehouseOrder]:
        return await self.run(orders_by_reference_flow(reference_ids))


def fetch_inventory_for_skus(
    settings: Settings, skus: Sequence[str], *, transport: httpx.BaseTransport | None = None
) -> dict[str, InventoryItem]:
    """Live 3PL inventory of `skus` (SKUs the 3PL does not know are absent from the result)."""
    if not skus:
        return {}
    with ShipBobClient(settings, transport=transport) as client:
        return client.inventory(sorted(set(skus)))


__all__ = [
    "AsyncShipBobClient",
    "DuplicateReference",
    "Page",
    "ShipBobClient",
    "config",
    "create_order_call",
    "fetch_inventory_for_skus",
    "inventory_flow",
    "join_inventory",
    "orders_by_reference_flow",
    "orders_page_call",
]
