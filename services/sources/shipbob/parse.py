"""ShipBob API `2026-07` records → domain records.

- `parse_order`: an `Order` with `shipments[]` (`GET /2026-07/order`, `POST /2026-07/order`, webhooks, and
  the `shipbob/orders.json` snapshot). Since `2026-01` shipments carry no `store_order_id`; nothing here
  reads it. Unknown fields and status values are kept as text (the rules compare `Completed`/`Cancelled`).
- `parse_inventory_level`: one item of `GET /2026-07/inventory-level` (totals and the item's `sku`),
  optionally with the `locations[]` of `GET /2026-07/inventory-level/locations`.
- `parse_inventory_item`: the snapshot shape of SPEC §1 (`shipbob/inventory.json`).
"""

from __future__ import annotations

from typing import Any

from checks.model import Address, InventoryItem, Shipment, WarehouseOrder, WarehouseProduct
from services.sources.json_fields import field, integer, items, quantity, text, timestamp


def parse_order(raw: Any) -> WarehouseOrder:
    order_id = integer(raw, "id")
    assert order_id is not None
    return WarehouseOrder(
        id=order_id,
        # Nullable in the API: such an order is matched by its order number (SPEC §1).
        reference_id=text(raw, "reference_id", optional=True, max_length=128) or "",
        order_number=text(raw, "order_number", optional=True, max_length=64),
        status=text(raw, "status", optional=True),
        created_date=timestamp(raw, "created_date", optional=True),
        shipping_method=text(raw, "shipping_method", optional=True),
        products=tuple(_product(p, f"products[{i}].") for i, p in enumerate(items(raw, "products"))),
        shipments=tuple(_shipment(s, f"shipments[{i}].") for i, s in enumerate(items(raw, "shipments"))),
        last_update_at=timestamp(raw, "last_update_at", optional=True),
        recipient=_recipient(field(raw, "recipient", dict, optional=True)),
    )


def _recipient(raw: dict[str, Any] | None) -> Address | None:
    """The 3PL's copy of the ship-to: `{name, address: {...}, email, phone_number}`. No rule reads it; it
    is kept so the summary redactor knows every form of the recipient's name, street, phone and email."""
    if not raw:
        return None
    inner = raw.get("address")
    address: dict[str, Any] = inner if isinstance(inner, dict) else {}

    def s(record: dict[str, Any], key: str) -> str | None:
        value = record.get(key)
        return value if isinstance(value, str) and value else None

    found = Address(
        name=s(raw, "name"),
        address1=s(address, "address1"),
        address2=s(address, "address2"),
        city=s(address, "city"),
        province_code=s(address, "state"),
        country_code=s(address, "country"),
        zip=s(address, "zip_code"),
        phone=s(raw, "phone_number"),
        company=s(address, "company_name"),
        email=s(raw, "email"),
    )
    return found if found != Address() else None


def _product(raw: Any, path: str) -> WarehouseProduct:
    units = quantity(raw, "quantity", path=path)
    assert units is not None
    return WarehouseProduct(
        sku=text(raw, "sku", path=path, optional=True),
        quantity=units,
        reference_id=text(raw, "reference_id", path=path, optional=True),
    )


def _shipment(raw: Any, path: str) -> Shipment:
    shipment_id = integer(raw, "id", path=path)
    status = text(raw, "status", path=path)
    assert shipment_id is not None and status is not None
    tracking = field(raw, "tracking", dict, path=path, optional=True) or {}
    location = field(raw, "location", dict, path=path, optional=True) or {}
    tpath = f"{path}tracking."
    return Shipment(
        id=shipment_id,
        status=status,
        location_name=text(location, "name", path=f"{path}location.", optional=True),
        tracking_number=text(tracking, "tracking_number", path=tpath, optional=True, max_length=128) or None,
        carrier=text(tracking, "carrier", path=tpath, optional=True),
        shipping_date=timestamp(tracking, "shipping_date", path=tpath, optional=True),
        actual_fulfillment_date=timestamp(raw, "actual_fulfillment_date", path=path, optional=True),
        created_date=timestamp(raw, "created_date", path=path, optional=True),
        last_update_at=timestamp(raw, "last_update_at", path=path, optional=True),
        ship_option=text(raw, "ship_option", path=path, optional=True),
    )


def parse_inventory_level(raw: Any, locations: Any = None) -> InventoryItem | None:
    """A `2026-07` inventory level; None when it has no SKU (nothing in the store can ask for it).
    `locations`: the same item's `locations[]` from the by-fulfillment-center listing, if read."""
    sku = text(raw, "sku", optional=True)
    total = integer(raw, "total_fulfillable_quantity")
    assert total is not None
    inventory_id = integer(raw, "inventory_id", optional=True)
    if not sku:
        return None
    centers = []
    for i, center in enumerate(locations or ()):
        path = f"locations[{i}]."
        centers.append(
            (
                text(center, "name", path=path, optional=True) or "",
                integer(center, "fulfillable_quantity", path=path) or 0,
            )
        )
    return InventoryItem(
        sku=sku,
        total_fulfillable_quantity=total,
        by_fulfillment_center=tuple(centers),
        name=text(raw, "name", optional=True),
        inventory_id=inventory_id,
    )


def parse_inventory_item(raw: Any) -> InventoryItem:
    """A ShipBob inventory item carrying its product's `sku` (the snapshot shape of SPEC §1)."""
    sku = text(raw, "sku", max_length=128)
    total = quantity(raw, "total_fulfillable_quantity")
    assert sku is not None and total is not None
    centers = []
    for i, center in enumerate(items(raw, "fulfillable_quantity_by_fulfillment_center")):
        path = f"fulfillable_quantity_by_fulfillment_center[{i}]."
        centers.append(
            (text(center, "name", path=path) or "", quantity(center, "fulfillable_quantity", path=path) or 0)
        )
    return InventoryItem(
        sku=sku,
        total_fulfillable_quantity=total,
        by_fulfillment_center=tuple(centers),
        name=text(raw, "name", optional=True),
        inventory_id=integer(raw, "id", optional=True),
    )
