"""A store page's holds (SPEC §3 rule 7), asked before the page is written.

The store's order listing does not say whether fulfillment is on hold; the fulfillment orders do. They
are asked, 100 orders per GraphQL query, for the orders whose category a hold can decide (not
cancelled, refunded, awaiting payment or fulfilled). The others keep the stored hold (None: never
asked). This is the only place a sync asks holds, so it goes when the order query brings them.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace

from checks.model import StoreOrder
from services.sources.shopify_client import ShopifyClient, may_be_on_hold


def with_holds(client: ShopifyClient, orders: Sequence[StoreOrder]) -> list[StoreOrder]:
    """The orders, with the hold of each that may be on hold asked from the store."""
    ask = [o.id for o in orders if o.on_hold is None and may_be_on_hold(o)]
    if not ask:
        return list(orders)
    holds = client.holds(ask)
    return [replace(o, on_hold=holds[o.id]) if o.id in holds else o for o in orders]
