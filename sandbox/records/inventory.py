"""ShipBob inventory, from the 3PL's (mutable) stock.

- ``inventory_level(world, sku)`` / ``inventory_level_locations(world, sku)``: one item of the API ``2026-07``
  ``GET /inventory-level`` / ``GET /inventory-level/locations`` listings (each item carries its ``sku``);
- ``inventory_item(world, sku)``: the item in the snapshot shape of SPEC §1 (``shipbob/inventory.json``),
  with ``fulfillable_quantity_by_fulfillment_center``; ``product_record``: a product (snapshot extras).
"""

from __future__ import annotations

from typing import Any

from .. import catalog
from ..catalog import SKU_BY_CODE
from ..world import World


def inventory_item(world: World, sku: str) -> dict[str, Any]:
    s = SKU_BY_CODE[sku]
    with world.lock:
        per = {w: tuple(v) for w, v in world.stock[sku].items()}
    fcs: list[dict[str, Any]] = [
        {
            "id": wid,
            "name": catalog.WAREHOUSE_BY_ID[wid][1],
            "fulfillable_quantity": max(0, oh - cm),
            "onhand_quantity": oh,
            "committed_quantity": cm,
            "awaiting_quantity": 0,
            "internal_transfer_quantity": 0,
        }
        for wid, (oh, cm) in sorted(per.items())
    ]
    tf = sum(f["fulfillable_quantity"] for f in fcs)
    return {
        "id": catalog.SB_INVENTORY_ID[sku],
        "name": s.name,
        "is_active": True,
        "is_digital": False,
        "is_case_pick": False,
        "is_lot": False,
        "dimensions": {"weight": round(s.grams / 28.35, 2), "length": 10, "width": 8, "depth": 2},
        "total_fulfillable_quantity": tf,
        "total_onhand_quantity": sum(f["onhand_quantity"] for f in fcs),
        "total_committed_quantity": sum(f["committed_quantity"] for f in fcs),
        "total_sellable_quantity": tf,
        "total_awaiting_quantity": 0,
        "total_exception_quantity": 0,
        "total_internal_transfer_quantity": 0,
        "total_backordered_quantity": sum(
            max(0, f["committed_quantity"] - f["onhand_quantity"]) for f in fcs
        ),
        "fulfillable_quantity_by_fulfillment_center": fcs,
        "fulfillable_quantity_by_lot": [],
        "packaging_attribute": "None",
    }


def inventory_level(world: World, sku: str) -> dict[str, Any]:
    item = inventory_item(world, sku)
    return {
        "inventory_id": item["id"],
        "name": item["name"],
        "sku": sku,
        "total_fulfillable_quantity": item["total_fulfillable_quantity"],
        "total_on_hand_quantity": item["total_onhand_quantity"],
        "total_committed_quantity": item["total_committed_quantity"],
        "total_sellable_quantity": item["total_sellable_quantity"],
        "total_awaiting_quantity": 0,
        "total_exception_quantity": 0,
        "total_internal_transfer_quantity": 0,
        "total_backordered_quantity": item["total_backordered_quantity"],
    }


def inventory_level_locations(world: World, sku: str) -> dict[str, Any]:
    item = inventory_item(world, sku)
    return {
        "inventory_id": item["id"],
        "name": item["name"],
        "sku": sku,
        "locations": [
            {
                "location_id": fc["id"],
                "name": fc["name"],
                "fulfillable_quantity": fc["fulfillable_quantity"],
                "on_hand_quantity": fc["onhand_quantity"],
                "committed_quantity": fc["committed_quantity"],
                "awaiting_quantity": 0,
                "internal_transfer_quantity": 0,
            }
            for fc in item["fulfillable_quantity_by_fulfillment_center"]
        ],
    }


def product_record(world: World, sku: str) -> dict[str, Any]:
    s = SKU_BY_CODE[sku]
    inv = inventory_item(world, sku)
    return {
        "id": catalog.SB_PRODUCT_ID[sku],
        "reference_id": sku,
        "bundle_root_information": None,
        "created_date": "2025-03-14T16:20:11+00:00",
        "channel": {"id": 301, "name": "Harbor Goods Shopify"},
        "sku": sku,
        "name": s.name,
        "barcode": f"08{s.variant_id % 10**10:010d}",
        "gtin": None,
        "upc": f"8{s.variant_id % 10**11:011d}",
        "unit_price": s.price_cents / 100,
        "total_fulfillable_quantity": inv["total_fulfillable_quantity"],
        "total_onhand_quantity": inv["total_onhand_quantity"],
        "total_committed_quantity": inv["total_committed_quantity"],
        "fulfillable_inventory_items": [{"id": inv["id"], "name": s.name, "quantity": 1}],
        "fulfillable_quantity_by_fulfillment_center": inv["fulfillable_quantity_by_fulfillment_center"],
    }
