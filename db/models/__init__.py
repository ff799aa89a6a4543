"""All tables, imported here so `SQLModel.metadata` knows every one of them (Alembic reads it)."""

from db.models.alerts import AlertAnnouncement, AlertDigest, AlertPreference, AlertRun, AlertSettings
from db.models.audit import AuditEntry, AuditHead
from db.models.auth import AppUser, AuthSession, LoginThrottle
from db.models.claims import OrderClaim
from db.models.fixes import GuidedFix
from db.models.locks import RunLock
from db.models.orders import (
    CarrierTracker,
    InventoryLevel,
    OrderClassification,
    OrderDiscrepancy,
    OrderTrackingNumber,
    SlaDayTotal,
    StoreFulfillment,
    StoreLineItem,
    StoreOrder,
    StoreRefund,
    WarehouseOrder,
    WarehouseShipment,
)
from db.models.replacements import Replacement
from db.models.state import AppState
from db.models.summaries import SummaryCache
from db.models.sync import SyncRun
from db.models.webhooks import WebhookEvent

__all__ = [
    "AlertAnnouncement",
    "AlertDigest",
    "AlertPreference",
    "AlertRun",
    "AlertSettings",
    "AppState",
    "AppUser",
    "AuditEntry",
    "AuditHead",
    "AuthSession",
    "CarrierTracker",
    "GuidedFix",
    "InventoryLevel",
    "LoginThrottle",
    "OrderClaim",
    "OrderClassification",
    "OrderDiscrepancy",
    "OrderTrackingNumber",
    "Replacement",
    "RunLock",
    "SlaDayTotal",
    "StoreFulfillment",
    "StoreLineItem",
    "StoreOrder",
    "StoreRefund",
    "SummaryCache",
    "SyncRun",
    "WarehouseOrder",
    "WarehouseShipment",
    "WebhookEvent",
]
