"""Tables for what the three systems say about orders, and each order's stored classification."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import JSON, BigInteger, Column, Date, ForeignKey, Index, Integer, String
from sqlmodel import Field, SQLModel

from db.types import UTCDateTime


def _ts(*, nullable: bool = True, index: bool = False) -> Any:
    return Field(default=None, sa_column=Column(UTCDateTime(), nullable=nullable, index=index))


class StoreOrder(SQLModel, table=True):
    __tablename__ = "store_order"

    id: int = Field(sa_column=Column(BigInteger, primary_key=True, autoincrement=False))
    name: str = Field(sa_column=Column(String(64), nullable=False, unique=True))
    number: str = Field(sa_column=Column(String(64), nullable=False, index=True))
    email: str | None = Field(default=None, sa_column=Column(String(320), index=True))
    phone: str | None = None
    customer_name: str | None = None
    created_at: datetime = _ts(nullable=False)
    updated_at: datetime | None = _ts()  # None: the record did not say (SPEC §1 newest wins)
    cancelled_at: datetime | None = _ts()
    cancel_reason: str | None = None
    financial_status: str | None = None
    fulfillment_status: str | None = None
    shipping_method: str | None = None
    shipping_address: dict[str, Any] | None = Field(default=None, sa_column=Column(JSON))
    # Personal data no rule reads: kept only so the summary redactor knows every form of it.
    billing_address: dict[str, Any] | None = Field(default=None, sa_column=Column(JSON))
    customer_address: dict[str, Any] | None = Field(default=None, sa_column=Column(JSON))
    customer_email: str | None = Field(default=None, sa_column=Column(String(320)))
    note: str | None = None
    tags: str | None = None
    on_hold: bool | None = None
    synced_at: datetime | None = _ts()


class StoreLineItem(SQLModel, table=True):
    __tablename__ = "store_line_item"

    id: int = Field(sa_column=Column(BigInteger, primary_key=True, autoincrement=False))
    order_id: int = Field(
        sa_column=Column(
            BigInteger, ForeignKey("store_order.id", ondelete="CASCADE"), nullable=False, index=True
        )
    )
    sku: str | None = None
    title: str = ""
    vendor: str | None = None
    quantity: int = 0
    fulfillable_quantity: int | None = None
    price: str | None = None


class StoreFulfillment(SQLModel, table=True):
    __tablename__ = "store_fulfillment"

    id: int = Field(sa_column=Column(BigInteger, primary_key=True, autoincrement=False))
    order_id: int = Field(
        sa_column=Column(
            BigInteger, ForeignKey("store_order.id", ondelete="CASCADE"), nullable=False, index=True
        )
    )
    status: str = ""
    created_at: datetime = _ts(nullable=False)
    tracking_company: str | None = None
    tracking_numbers: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    line_items: list[dict[str, int]] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))


class StoreRefund(SQLModel, table=True):
    __tablename__ = "store_refund"

    id: int = Field(sa_column=Column(BigInteger, primary_key=True, autoincrement=False))
    order_id: int = Field(
        sa_column=Column(
            BigInteger, ForeignKey("store_order.id", ondelete="CASCADE"), nullable=False, index=True
        )
    )
    created_at: datetime = _ts(nullable=False)
    note: str | None = None
    line_items: list[dict[str, int]] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))


class WarehouseOrder(SQLModel, table=True):
    """A ShipBob order; `store_order_id` is resolved at write time (SPEC §1 join)."""

    __tablename__ = "warehouse_order"

    id: int = Field(sa_column=Column(BigInteger, primary_key=True, autoincrement=False))
    reference_id: str = Field(sa_column=Column(String(128), nullable=False, index=True))
    order_number: str | None = Field(default=None, sa_column=Column(String(64), index=True))
    status: str | None = None
    created_date: datetime | None = _ts()
    last_update_at: datetime | None = _ts()
    shipping_method: str | None = None
    products: list[dict[str, Any]] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    # The store order id the reference_id names ("<id>" or "<id>-R<n>"), None when not numeric.
    reference_store_id: int | None = Field(default=None, sa_column=Column(BigInteger, index=True))
    # The store order this is the fulfillment of, resolved by SPEC §1; None for replacements and unmatched.
    store_order_id: int | None = Field(default=None, sa_column=Column(BigInteger, index=True))
    # Set when reference_id is "<store order id>-R<n>".
    replacement_of: int | None = Field(default=None, sa_column=Column(BigInteger, index=True))
    replacement_seq: int | None = None
    # The 3PL's copy of the ship-to (name, address, email, phone): only for the summary redactor.
    recipient: dict[str, Any] | None = Field(default=None, sa_column=Column(JSON))
    synced_at: datetime | None = _ts()


class WarehouseShipment(SQLModel, table=True):
    __tablename__ = "warehouse_shipment"

    id: int = Field(sa_column=Column(BigInteger, primary_key=True, autoincrement=False))
    warehouse_order_id: int = Field(
        sa_column=Column(
            BigInteger, ForeignKey("warehouse_order.id", ondelete="CASCADE"), nullable=False, index=True
        )
    )
    status: str = ""
    location_name: str | None = None
    tracking_number: str | None = Field(default=None, sa_column=Column(String(128), index=True))
    carrier: str | None = None
    ship_option: str | None = None
    shipping_date: datetime | None = _ts()
    actual_fulfillment_date: datetime | None = _ts()
    created_date: datetime | None = _ts()
    last_update_at: datetime | None = _ts()


class CarrierTracker(SQLModel, table=True):
    __tablename__ = "carrier_tracker"

    id: str = Field(sa_column=Column(String(64), primary_key=True))
    # Not unique: carriers reuse codes, and two trackers of one code both link (SPEC §1).
    tracking_code: str = Field(sa_column=Column(String(128), nullable=False, index=True))
    status: str = ""
    status_detail: str | None = None
    carrier: str | None = None
    public_url: str | None = None
    created_at: datetime | None = _ts()
    updated_at: datetime | None = _ts()
    last_scan_at: datetime | None = _ts()
    # The oldest detail that is a carrier's scan (not pre_transit): the report's first-scan stage.
    first_scan_at: datetime | None = _ts()
    events: list[dict[str, Any]] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    synced_at: datetime | None = _ts()


class InventoryLevel(SQLModel, table=True):
    __tablename__ = "inventory_level"

    sku: str = Field(sa_column=Column(String(128), primary_key=True))
    inventory_id: int | None = Field(default=None, sa_column=Column(BigInteger))
    name: str | None = None
    total_fulfillable_quantity: int = 0
    by_fulfillment_center: list[dict[str, Any]] = Field(
        default_factory=list, sa_column=Column(JSON, nullable=False)
    )
    synced_at: datetime | None = _ts()


class OrderTrackingNumber(SQLModel, table=True):
    """Every tracking number an order is known by (store fulfillments and its own 3PL shipments)."""

    __tablename__ = "order_tracking_number"

    tracking_number: str = Field(sa_column=Column(String(128), primary_key=True))
    order_id: int = Field(
        sa_column=Column(
            BigInteger, ForeignKey("store_order.id", ondelete="CASCADE"), primary_key=True, index=True
        )
    )


class OrderClassification(SQLModel, table=True):
    """What an order is, stored when it changes; lateness is compared with the as-of at query time."""

    __tablename__ = "order_classification"
    __table_args__ = (
        # Overdue queue: open orders by due day; informational view: per category, by standard due day.
        Index("ix_classification_category_due", "base_category", "due_day", "order_id"),
        Index("ix_classification_naive", "base_category", "looks_unshipped", "standard_due_day", "order_id"),
    )

    order_id: int = Field(
        sa_column=Column(BigInteger, ForeignKey("store_order.id", ondelete="CASCADE"), primary_key=True)
    )
    order_name: str = Field(sa_column=Column(String(64), nullable=False))
    base_category: str = Field(sa_column=Column(String(32), nullable=False))
    reason: str = ""
    own_open: int = 0
    vendor_open: int = 0
    created_at: datetime = _ts(nullable=False)
    due_day: date = Field(sa_column=Column(Date, nullable=False))
    due_at: datetime = _ts(nullable=False)
    standard_due_day: date = Field(sa_column=Column(Date, nullable=False))
    vendor_due_day: date | None = Field(default=None, sa_column=Column(Date))
    looks_unshipped: bool = False
    shipping_method: str | None = None
    warehouse_name: str | None = None
    carrier: str | None = None
    shipped_at: datetime | None = _ts()
    # SPEC §9 stage ends, stored with the rest so the leadership report reads no 3PL order or scan.
    handed_over_at: datetime | None = _ts()
    first_scan_at: datetime | None = _ts()
    # SPEC §4 time-dependent rules: compared with the as-of in SQL.
    missing_since: datetime | None = _ts(index=True)
    stalled_since: datetime | None = _ts(index=True)
    stalled_tracking_code: str | None = None
    policy_fingerprint: str = ""
    classified_at: datetime = _ts(nullable=False)


class SlaDayTotal(SQLModel, table=True):
    """How many orders of the SLA population share one due day and every fact their SPEC §6 outcome and
    breakdowns depend on, so a period's metrics read a few thousand rows instead of every order due in it.

    Kept by the database itself (triggers on `order_classification`, migration 0016), so every writer
    (import, sync, refresh, webhook, reclassification, a cascading delete) keeps it whole. Text columns
    hold '' for "none": a key column must not be NULL for the upsert to find its row."""

    __tablename__ = "sla_day_total"

    due_day: date = Field(sa_column=Column(Date, primary_key=True))
    base_category: str = Field(sa_column=Column(String(32), primary_key=True))
    warehouse_name: str = Field(sa_column=Column(String, primary_key=True))
    shipping_method: str = Field(sa_column=Column(String, primary_key=True))
    carrier: str = Field(sa_column=Column(String, primary_key=True))
    due_at: datetime = Field(sa_column=Column(UTCDateTime(), primary_key=True))
    shipped: str = Field(sa_column=Column(String(8), primary_key=True))  # none, on_time or late
    orders: int = Field(sa_column=Column(Integer, nullable=False))


class OrderDiscrepancy(SQLModel, table=True):
    """The discrepancies that are facts about the data (not the as-of): stored at write time."""

    __tablename__ = "order_discrepancy"
    __table_args__ = (Index("ix_discrepancy_code_order", "code", "order_id"),)

    order_id: int = Field(
        sa_column=Column(BigInteger, ForeignKey("store_order.id", ondelete="CASCADE"), primary_key=True)
    )
    code: str = Field(sa_column=Column(String(32), primary_key=True))
    detail: str = ""
