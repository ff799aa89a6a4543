"""Reading and writing the store for the Shopify fixes: fulfillment orders, one mutation, the read-back."""

from __future__ import annotations

from typing import Any

import httpx

from checks.model import StoreOrder
from services.settings import Settings
from services.sources.shopify.mutations import FulfillmentOrder


def fulfillment_orders(
    settings: Settings, order_id: int, transport: httpx.BaseTransport | None
) -> list[FulfillmentOrder] | None:
    """The order's fulfillment orders, live; None when Shopify is not configured or has no such order."""
    if not settings.source_configured("shopify"):
        return None
    from services.sources.shopify.client import ShopifyClient
    from services.sources.shopify.mutations import fulfillment_orders_call

    with ShopifyClient(settings, transport=transport) as client:
        return client.call(fulfillment_orders_call(order_id))


def send_mutation(
    settings: Settings, body: dict[str, Any], transport: httpx.BaseTransport | None
) -> dict[str, Any]:
    """Send the mutation once; the fulfillment it answers with (MutationRefused on `userErrors`)."""
    from services.sources.shopify.client import ShopifyClient
    from services.sources.shopify.mutations import mutation_call

    with ShopifyClient(settings, transport=transport) as client:
        return client.call(mutation_call(body))


def read_order(settings: Settings, order_id: int, transport: httpx.BaseTransport | None) -> StoreOrder | None:
    from services.sources.shopify.client import ShopifyClient

    with ShopifyClient(settings, transport=transport) as client:
        return client.order(order_id)


def order_id_of(target: str) -> int:
    """The store order id at the end of a target `…@order:<id>`."""
    return int(target.rsplit("@order:", 1)[1])
