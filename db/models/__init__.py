"""All tables, imported here so `SQLModel.metadata` knows every one of them (Alembic reads it)."""

from db.models.orders import (
    CarrierTracker,
    InventoryLevel,
    OrderClassification,
    OrderDiscrepancy,
    OrderTrackingNumber,
    StoreFulfillment,
    StoreLineItem,
    StoreOrder,
    StoreRefund,
    WarehouseOrder,
    WarehouseShipment,
)

__all__ = [
    "CarrierTracker",
    "InventoryLevel",
    "OrderClassification",
    "OrderDiscrepancy",
    "OrderTrackingNumber",
    "StoreFulfillment",
    "StoreLineItem",
    "StoreOrder",
    "StoreRefund",
    "WarehouseOrder",
    "WarehouseShipment",
]
