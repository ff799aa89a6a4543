"""Small builders of domain records for the rule tests: realistic defaults, overrides by keyword.

The default order is `#3001`, placed Wed 2026-07-01 10:00 in New York (before the 14:00 cutoff),
one own line item (1 × MUG-BLUE), paid, nothing shipped, Standard shipping: due Thu 2026-07-02.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

from checks.metrics import MetricRow
from checks.model import (
    Fulfillment,
    InventoryItem,
    LineItem,
    LineQuantity,
    OrderView,
    Refund,
    Shipment,
    StoreOrder,
    Tracker,
    TrackingEvent,
    WarehouseOrder,
    WarehouseProduct,
)
from checks.policy import SlaPolicy

ORDER_ID = 5410000003001
LINE_ID = 13000003001
VENDOR = "Nordic Knitworks"


def at(text: str) -> datetime:
    """An ISO timestamp with its offset, normalized to UTC like every stored timestamp."""
    moment = datetime.fromisoformat(text)
    assert moment.tzinfo is not None, f"{text} has no offset"
    return moment.astimezone(UTC)


def policy(**overrides: Any) -> SlaPolicy:
    """The SPEC §2 example policy."""
    values: dict[str, Any] = {
        "timezone": "America/New_York",
        "cutoff": datetime.strptime("14:00", "%H:%M").time(),
        "handling_days": 1,
        "business_days": frozenset(range(5)),
        "holidays": frozenset({date(2026, 11, 26), date(2026, 12, 25)}),
        "third_party_vendors": frozenset({VENDOR}),
        "vendor_handling_days": 5,
        "missing_after_hours": 4,
        "stalled_after_days": 5,
        "shipping_methods": {"Express": 0},
    }
    values.update(overrides)
    return SlaPolicy(**values)


def line_item(**overrides: Any) -> LineItem:
    values: dict[str, Any] = {
        "id": LINE_ID,
        "sku": "MUG-BLUE",
        "title": "Ceramic Mug",
        "vendor": "Harbor Goods",
        "quantity": 1,
        "fulfillable_quantity": 1,
        "price": "18.00",
    }
    values.update(overrides)
    return LineItem(**values)


def vendor_line_item(**overrides: Any) -> LineItem:
    values: dict[str, Any] = {
        "id": LINE_ID + 500,
        "sku": "SCARF-GRY",
        "title": "Wool Scarf",
        "vendor": VENDOR,
        "price": "55.00",
    }
    values.update(overrides)
    return line_item(**values)


def shipped(line: LineItem, quantity: int | None = None) -> LineQuantity:
    return LineQuantity(line.id, line.quantity if quantity is None else quantity)


def fulfillment(**overrides: Any) -> Fulfillment:
    values: dict[str, Any] = {
        "id": 5503001,
        "status": "success",
        "created_at": at("2026-07-02T12:00:00-04:00"),
        "tracking_numbers": ("1ZHG00000000003001",),
        "tracking_company": "UPS",
        "line_items": (LineQuantity(LINE_ID, 1),),
    }
    values.update(overrides)
    return Fulfillment(**values)


def refund(**overrides: Any) -> Refund:
    values: dict[str, Any] = {
        "id": 8803001,
        "created_at": at("2026-07-02T09:00:00-04:00"),
        "line_items": (LineQuantity(LINE_ID, 1),),
        "note": "damaged",
    }
    values.update(overrides)
    return Refund(**values)


def store_order(**overrides: Any) -> StoreOrder:
    created = overrides.get("created_at", at("2026-07-01T10:00:00-04:00"))
    values: dict[str, Any] = {
        "id": ORDER_ID,
        "name": "#3001",
        "created_at": created,
        "updated_at": created,
        "financial_status": "paid",
        "fulfillment_status": None,
        "line_items": (line_item(),),
        "shipping_method": "Standard",
        "email": "customer3001@example.com",
    }
    values.update(overrides)
    return StoreOrder(**values)


def shipment(**overrides: Any) -> Shipment:
    values: dict[str, Any] = {
        "id": 900003001,
        "status": "Completed",
        "location_name": "Cicero (IL)",
        "tracking_number": "1ZHG00000000003001",
        "carrier": "UPS",
        "shipping_date": at("2026-07-02T11:00:00-04:00"),
        "actual_fulfillment_date": at("2026-07-02T11:00:00-04:00"),
        "created_date": at("2026-07-01T10:05:00-04:00"),
        "ship_option": "Standard",
    }
    values.update(overrides)
    return Shipment(**values)


def warehouse_order(**overrides: Any) -> WarehouseOrder:
    values: dict[str, Any] = {
        "id": 90003001,
        "reference_id": str(ORDER_ID),
        "order_number": "3001",
        "status": "Processing",
        "created_date": at("2026-07-01T10:05:00-04:00"),
        "shipping_method": "Standard",
        "products": (WarehouseProduct("MUG-BLUE", 1, "MUG-BLUE"),),
        "shipments": (
            shipment(
                status="Processing", tracking_number=None, shipping_date=None, actual_fulfillment_date=None
            ),
        ),
    }
    values.update(overrides)
    return WarehouseOrder(**values)


def replacement_order(n: int = 1, **overrides: Any) -> WarehouseOrder:
    values: dict[str, Any] = {
        "id": 90013001 + n,
        "reference_id": f"{ORDER_ID}-R{n}",
        "order_number": f"3001-R{n}",
        "status": "Processing",
        "shipments": (),
    }
    values.update(overrides)
    return warehouse_order(**values)


def tracking_event(**overrides: Any) -> TrackingEvent:
    values: dict[str, Any] = {
        "datetime": at("2026-07-02T18:00:00Z"),
        "status": "in_transit",
        "message": "Departed facility",
    }
    values.update(overrides)
    return TrackingEvent(**values)


def tracker(**overrides: Any) -> Tracker:
    values: dict[str, Any] = {
        "id": "trk_3001",
        "tracking_code": "1ZHG00000000003001",
        "status": "in_transit",
        "carrier": "UPS",
        "created_at": at("2026-07-02T16:00:00Z"),
        "updated_at": at("2026-07-02T18:00:00Z"),
        "events": (tracking_event(),),
    }
    values.update(overrides)
    return Tracker(**values)


def inventory_item(**overrides: Any) -> InventoryItem:
    values: dict[str, Any] = {
        "sku": "MUG-BLUE",
        "total_fulfillable_quantity": 10,
        "by_fulfillment_center": (("Cicero (IL)", 10),),
        "name": "Ceramic Mug - Blue",
    }
    values.update(overrides)
    return InventoryItem(**values)


def inventory(*items: InventoryItem) -> dict[str, InventoryItem]:
    return {item.sku: item for item in items}


def view(**overrides: Any) -> OrderView:
    """An OrderView; `store` defaults to :func:`store_order`, everything else to nothing."""
    values: dict[str, Any] = {"store": store_order()}
    values.update(overrides)
    return OrderView(**values)


def shipped_view(**store_overrides: Any) -> OrderView:
    """The default order fully shipped: store fulfillment success and a Completed 3PL shipment."""
    values: dict[str, Any] = {
        "fulfillment_status": "fulfilled",
        "line_items": (line_item(fulfillable_quantity=0),),
        "fulfillments": (fulfillment(),),
    }
    values.update(store_overrides)
    store = store_order(**values)
    return view(store=store, warehouse=warehouse_order(status="Fulfilled", shipments=(shipment(),)))


def metric_row(**overrides: Any) -> MetricRow:
    """A pending order due Thu 2026-07-02 (23:59:59-04:00), not shipped."""
    due_day = overrides.pop("due_day", date(2026, 7, 2))
    values: dict[str, Any] = {
        "order_name": "#3001",
        "due_day": due_day,
        "due_at": policy().due_at(due_day),
        "base_category": "open",
        "shipped_at": None,
        "warehouse": "Cicero (IL)",
        "shipping_method": "Standard",
        "carrier": "UPS",
        "created_at": at("2026-07-01T10:00:00-04:00"),
    }
    values.update(overrides)
    return MetricRow(**values)
