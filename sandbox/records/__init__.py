"""Renders the world's records in the exact shapes of the three APIs, as of a world clock ``T``.

One module per API (``shopify``, ``shipbob``, ``inventory``, ``easypost``), built on ``static`` (what never
changes about an order), ``ids`` (identifiers) and ``common`` (shared constants and helpers). Callers may
rely on these names, imported from ``sandbox.records`` itself (the modules behind them may change):
- ``shop_order_bytes(world, row, T)`` -> the Shopify REST ``Order`` JSON (bytes, compact): what ``orders/*``
  webhooks carry and ``shopify/orders.json`` snapshots hold;
  ``shop_order_str`` -> the same as text, uncached; ``shop_status_filter(world, row, T, f)`` -> whether it
  passes the orders endpoint's ``financial_status`` / ``fulfillment_status`` filters;
- ``fulfillment_orders(world, row, T)`` -> the order's fulfillment orders in the REST shape
  (``fulfillment_orders_bytes`` -> ``{"fulfillment_orders": [...]}``, cached); ``graphql_order(world, row, T)``
  (``sandbox.records.shopify_graphql``) -> the GraphQL Admin 2026-10 ``Order``, ``jsonl_lines`` -> its bulk JSONL;
- ``sb_record_bytes(world, sb_id, T)`` / ``sb_records_bytes(world, ids, T)`` -> ShipBob ``2026-07`` ``Order``s (with
  ``shipments[]``) for store-linked, replacement (``<id>-R1``) and API-created orders;
  ``sb_order_bytes(world, row, T)`` / ``sb_replacement_bytes(world, row, T)`` -> a store-linked order / its
  replacement; ``sb_created(world, c, T)`` -> the dict of an API-created order;
- ``tracker_bytes(world, key, T)`` -> an EasyPost ``Tracker``; ``tracker_schedule(world, row, k)`` -> all its
  scans, past and future; ``tracker_str(world, row, key, T, sched)`` -> its JSON, uncached;
  ``tracker_created_delay(seed, key)`` -> seconds from shipping to the tracker's creation (``sandbox.world``'s);
  ``tracker_id(seed, key)``, ``tracker_key_from_id``, ``tracking_code``, ``key_from_tracking_code`` convert
  identifiers; ``code_for(world, row, k)`` / ``shipment_carrier(row, k)`` -> shipment ``k``'s tracking code /
  carrier;
- ``inventory_item(world, sku)`` / ``product_record(world, sku)`` -> ShipBob inventory item (SPEC §1 snapshot
  shape) / product; ``inventory_level`` / ``inventory_level_locations`` -> ``2026-07`` inventory levels;
- rendering is a pure function of ``(seed, index, T)`` (plus, for inventory and created orders, the 3PL's
  mutable state): the same seed and clock give byte-identical output. Hot paths are string templates
  (not ``json.dumps`` of dicts) and results are cached per order per visible state in the world's LRUs.
"""

from __future__ import annotations

from ..timeline import tracker_created_delay
from .easypost import tracker_bytes, tracker_schedule, tracker_str
from .ids import (
    code_for,
    key_from_tracking_code,
    shipment_carrier,
    tracker_id,
    tracker_key_from_id,
    tracking_code,
)
from .inventory import inventory_item, inventory_level, inventory_level_locations, product_record
from .shipbob import sb_created, sb_order_bytes, sb_record_bytes, sb_records_bytes, sb_replacement_bytes
from .shopify import (
    fulfillment_orders,
    fulfillment_orders_bytes,
    shop_order_bytes,
    shop_order_str,
    shop_status_filter,
)

__all__ = [
    "code_for",
    "fulfillment_orders",
    "fulfillment_orders_bytes",
    "inventory_item",
    "inventory_level",
    "inventory_level_locations",
    "key_from_tracking_code",
    "product_record",
    "sb_created",
    "sb_order_bytes",
    "sb_record_bytes",
    "sb_records_bytes",
    "sb_replacement_bytes",
    "shipment_carrier",
    "shop_order_bytes",
    "shop_order_str",
    "shop_status_filter",
    "tracker_bytes",
    "tracker_created_delay",
    "tracker_id",
    "tracker_key_from_id",
    "tracker_schedule",
    "tracker_str",
    "tracking_code",
]
