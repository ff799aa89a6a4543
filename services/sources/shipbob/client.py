"""ShipBob API `2026-07` connector: orders, inventory levels with SKUs, order creation and cancellation,
lookup by reference, webhook subscriptions (the changes from `1.0` are listed in the README).

Calls are flows (see `services.sources.http`), shared by `ShipBobClient` and `AsyncShipBobClient`; how
replies are read and paged is in `services.sources.shipbob.replies`, subscriptions in
`services.sources.shipbob.webhooks`. `create_order` and `cancel_order` are never retried once a byte may
have reached ShipBob: a timeout raises `SourceUnavailable` and the caller looks the order up by its
`reference_id`.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any

import httpx

from checks.model import InventoryItem, WarehouseOrder
from services.errors import ConfigurationError, SourceError, SourceProtocolError
from services.settings import Settings
from services.sources.http import AsyncSourceClient, Call, Flow, Reply, SourceClient, SourceConfig
from services.sources.json_fields import integer, items, parsed, text
from services.sources.shipbob.parse import parse_inventory_level, parse_order
from services.sources.shipbob.replies import (
    SOURCE,
    VERSION,
    EndpointGone,
    Page,
    call,
    iso,
    link,
    listing,
    shape,
    vendor_message,
)
from services.sources.shipbob.webhooks import DEFAULT_TOPICS, WebhookSubscription, subscribe_flow

ORDERS = f"{VERSION}/order"
INVENTORY_LEVELS = f"{VERSION}/inventory-level"
CHANNELS = f"{VERSION}/channel"
PAGE_LIMIT = 250  # orders per page: ShipBob's maximum `Limit`
INVENTORY_PAGE = 100
MAX_REFERENCE_IDS = 50  # per request; longer lists are split


class DuplicateReference(SourceError):
    """ShipBob refused to create an order because one with this `reference_id` already exists (HTTP 422)."""

    def __init__(self, reference_id: str, detail: str = "") -> None:
        super().__init__(
            f"an order with reference_id {reference_id!r} already exists" + (f": {detail}" if detail else ""),
            source=SOURCE,
            call=f"POST /{ORDERS}",
            status=422,
        )
        self.reference_id = reference_id


@dataclass(frozen=True)
class CancelResult:
    """ShipBob's answer to `POST /2026-07/order/{id}:cancel` (`Success`, `PartialSuccess` or `Failure`)."""

    order_id: int
    status: str
    shipments: tuple[tuple[int, bool, str | None], ...]  # (shipment id, cancelled, ShipBob's reason)
    order: WarehouseOrder | None


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


# ---------------------------------------------------------------- orders


def _order_page(limit: int) -> Callable[[Reply], Page]:
    def parse(reply: Reply) -> Page:
        orders = parsed(shape(reply, list, f"GET /{ORDERS}"), parse_order)
        following = link(reply, reply.headers.get("next-page"))
        if following is None and "next-page" not in reply.headers and len(orders) >= limit:
            # No pagination header at all: a full page may have a next one.
            page = int(reply.url.params.get("Page", "1") or 1)
            following = str(reply.url.copy_set_param("Page", str(page + 1)))
        return Page(orders, following)

    return parse


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
        return call(f"GET /{ORDERS} (next page)", next_url, _order_page(limit))
    params: dict[str, Any] = {"Page": page, "Limit": limit, "SortOrder": "Oldest"}  # stable: new ones last
    if last_update_start is not None:
        params["LastUpdateStartDate"] = iso(last_update_start)
    if last_update_end is not None:
        params["LastUpdateEndDate"] = iso(last_update_end)
    if reference_ids:
        params["ReferenceIds"] = ",".join(reference_ids)
    return call(f"GET /{ORDERS}", ORDERS, _order_page(limit), params=params)


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


def create_order_call(payload: dict[str, Any], channel_id: int) -> Call[dict[str, Any]]:
    reference_id = str(payload.get("reference_id", ""))
    name = f"POST /{ORDERS}"

    def parse(reply: Reply) -> dict[str, Any]:
        if reply.status == 403 or (reply.status == 400 and "shipbob_channel_id" in str(reply.body)):
            raise ConfigurationError(
                f"ShipBob refused channel {channel_id} for new orders ({vendor_message(reply.body)}); "
                "check SHIPBOB_CHANNEL_ID and the token's orders_write scope",
                setting="SHIPBOB_CHANNEL_ID",
            )
        if reply.status == 400:
            raise SourceProtocolError(
                f"order refused: {vendor_message(reply.body)}", source=SOURCE, call=name, status=400
            )
        if reply.status == 422:
            # ShipBob: {"reference_id": ["Order with reference id <ref> already exists"]}; other 422s
            # (an unknown product, say) name other fields.
            errors = reply.body if isinstance(reply.body, dict) else {}
            about_reference = " ".join(str(m) for m in errors.get("reference_id") or ())
            if "exist" in about_reference.lower():
                raise DuplicateReference(reference_id, about_reference)
            raise SourceProtocolError(
                f"order refused: {vendor_message(reply.body)}", source=SOURCE, call=name, status=422
            )
        body: dict[str, Any] = shape(reply, dict, name)
        return body

    return call(
        name,
        ORDERS,
        parse,
        method="POST",
        json_body=payload,
        headers={"shipbob_channel_id": str(channel_id)},
        accept=frozenset({400, 403, 422}),
    )


def cancel_order_call(order_id: int) -> Call[CancelResult]:
    name = f"POST /{ORDERS}/{{id}}:cancel"

    def parse(reply: Reply) -> CancelResult:
        if reply.status == 422:
            raise SourceProtocolError(
                f"cancel of order {order_id} refused: {vendor_message(reply.body)}",
                source=SOURCE,
                call=name,
                status=422,
            )
        body = shape(reply, dict, name)
        shipments = tuple(
            (
                integer(r, "shipment_id", path=f"canceled_shipment_results[{i}].") or 0,
                r.get("is_success") is True,
                text(r, "reason", optional=True),
            )
            for i, r in enumerate(items(body, "canceled_shipment_results"))
        )
        order = body.get("order")
        return CancelResult(
            order_id=integer(body, "order_id", optional=True) or order_id,
            status=text(body, "status") or "",
            shipments=shipments,
            order=parse_order(order) if isinstance(order, dict) else None,
        )

    return call(name, f"{ORDERS}/{order_id}:cancel", parse, method="POST", accept=frozenset({422}))


def _locations(raw: Any) -> tuple[int, list[Any]]:
    return integer(raw, "inventory_id") or 0, items(raw, "locations")


def inventory_flow(
    skus: Sequence[str] | None = None, page_size: int = INVENTORY_PAGE
) -> Flow[dict[str, InventoryItem]]:
    """Inventory by SKU: `GET /2026-07/inventory-level` (totals, each item with its SKU) joined with
    `GET /2026-07/inventory-level/locations` (the same items by fulfillment center). SKUs are matched
    exactly here (ShipBob's `SearchBy` is a partial match), so every page is read: a few hundred items."""
    params = {"PageSize": page_size}
    levels = yield from listing(INVENTORY_LEVELS, lambda raw: parse_inventory_level(raw), params)
    located = yield from listing(f"{INVENTORY_LEVELS}/locations", _locations, params)
    centers = dict(located)
    wanted = set(skus) if skus else None
    out: dict[str, InventoryItem] = {}
    for item in levels:
        if item is None or (wanted is not None and item.sku not in wanted) or item.sku in out:
            continue
        where = centers.get(item.inventory_id) if item.inventory_id is not None else None
        if where:
            located_item = parse_inventory_level(
                {"sku": item.sku, "total_fulfillable_quantity": item.total_fulfillable_quantity}, where
            )
            assert located_item is not None
            item = replace(item, by_fulfillment_center=located_item.by_fulfillment_center)
        out[item.sku] = item
    return out


def _channel(raw: Any) -> tuple[int, tuple[str, ...]]:
    return integer(raw, "id") or 0, tuple(str(s) for s in items(raw, "scopes"))


def channel_flow() -> Flow[int]:
    """The id of the first channel the token may create orders on (scope `orders_write`)."""
    channels = yield from listing(CHANNELS, _channel, {"RecordsPerPage": 50})
    for channel_id, scopes in channels:
        if "orders_write" in scopes:
            return int(channel_id)
    raise ConfigurationError(
        "no ShipBob channel of this token has the orders_write scope; set SHIPBOB_CHANNEL_ID",
        setting="SHIPBOB_CHANNEL_ID",
    )


# ---------------------------------------------------------------- clients


class ShipBobClient(SourceClient):
    """Blocking ShipBob client (sync engine, replacements, guided fixes, webhook set-up)."""

    configure = staticmethod(config)

    def __init__(self, settings: Settings, **kwargs: Any) -> None:
        super().__init__(settings, **kwargs)
        self._channel_id: int | None = settings.shipbob_channel_id

    def order_pages(
        self,
        *,
        last_update_start: datetime | None = None,
        last_update_end: datetime | None = None,
        page: int = 1,
        limit: int = PAGE_LIMIT,
    ) -> Iterator[Page]:
        """Every page of orders last updated in the window, oldest id first, following `next-page`."""
        current = self.call(
            orders_page_call(
                last_update_start=last_update_start, last_update_end=last_update_end, page=page, limit=limit
            )
        )
        yield current
        while current.next_url:
            current = self.call(orders_page_call(next_url=current.next_url, limit=limit))
            yield current

    def orders_by_reference(self, reference_ids: Sequence[str]) -> list[WarehouseOrder]:
        return self.run(orders_by_reference_flow(reference_ids))

    def inventory(
        self, skus: Sequence[str] | None = None, *, page_size: int = INVENTORY_PAGE
    ) -> dict[str, InventoryItem]:
        return self.run(inventory_flow(skus, page_size))

    def channel_id(self) -> int:
        """SHIPBOB_CHANNEL_ID, else the token's channel with `orders_write` (looked up once)."""
        if self._channel_id is None:
            self._channel_id = self.run(channel_flow())
        return self._channel_id

    def create_order(self, payload: dict[str, Any], *, channel_id: int | None = None) -> dict[str, Any]:
        """POST /2026-07/order on the channel (header `shipbob_channel_id`). Raises DuplicateReference on
        ShipBob's 422 for a reference_id already used; SourceUnavailable when the outcome is unknown (look
        the order up by reference, never re-post)."""
        return self.call(create_order_call(payload, channel_id or self.channel_id()))

    def cancel_order(self, order_id: int) -> CancelResult:
        """POST /2026-07/order/{id}:cancel (SPEC §8 `cancelled_not_stopped`); sent once, never retried."""
        return self.call(cancel_order_call(order_id))

    def subscribe_webhooks(
        self,
        url: str,
        topics: Sequence[str] = DEFAULT_TOPICS,
        *,
        secret: str | None = None,
        description: str = "order-recon",
    ) -> list[WebhookSubscription]:
        """Subscriptions at `url` covering `topics`, creating one only for topics not yet covered."""
        return self.run(subscribe_flow(url, topics, secret, description))


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
    "DEFAULT_TOPICS",
    "VERSION",
    "AsyncShipBobClient",
    "CancelResult",
    "DuplicateReference",
    "EndpointGone",
    "Page",
    "ShipBobClient",
    "WebhookSubscription",
    "cancel_order_call",
    "channel_flow",
    "config",
    "create_order_call",
    "fetch_inventory_for_skus",
    "inventory_flow",
    "orders_by_reference_flow",
    "orders_page_call",
    "subscribe_flow",
    "vendor_message",
]
