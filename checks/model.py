"""Domain records: what each system says about an order, independent of storage and transport.

Frozen dataclasses so rules can be called on plain data in tests and results compared with ``==``.
All datetimes are timezone-aware (UTC once normalized).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime


@dataclass(frozen=True)
class LineQuantity:
    """A quantity of one store line item inside a fulfillment or a refund."""

    line_item_id: int
    quantity: int


@dataclass(frozen=True)
class LineItem:
    id: int
    sku: str | None
    title: str
    vendor: str | None
    quantity: int
    # None in older payloads: then derived from fulfillments and refunds (SPEC §3).
    fulfillable_quantity: int | None
    price: str | None = None


@dataclass(frozen=True)
class Fulfillment:
    id: int
    status: str  # pending | open | success | cancelled | error | failure
    created_at: datetime
    tracking_numbers: tuple[str, ...] = ()
    tracking_company: str | None = None
    line_items: tuple[LineQuantity, ...] = ()

    @property
    def is_success(self) -> bool:
        return self.status == "success"


@dataclass(frozen=True)
class Refund:
    id: int
    created_at: datetime
    line_items: tuple[LineQuantity, ...] = ()
    note: str | None = None


@dataclass(frozen=True)
class Address:
    name: str | None = None
    address1: str | None = None
    address2: str | None = None
    city: str | None = None
    province_code: str | None = None
    country_code: str | None = None
    zip: str | None = None
    phone: str | None = None
    company: str | None = None
    email: str | None = None


@dataclass(frozen=True)
class StoreOrder:
    id: int
    name: str  # "#1002"
    created_at: datetime
    updated_at: datetime | None  # None when the record does not say (SPEC §1: it then replaces)
    financial_status: str | None
    fulfillment_status: str | None  # None | "unfulfilled" | "partial" | "fulfilled" | "restocked"
    line_items: tuple[LineItem, ...]
    cancelled_at: datetime | None = None
    cancel_reason: str | None = None
    shipping_method: str | None = None  # first shipping_lines[].title
    fulfillments: tuple[Fulfillment, ...] = ()
    refunds: tuple[Refund, ...] = ()
    email: str | None = None
    phone: str | None = None
    customer_name: str | None = None
    shipping_address: Address | None = None
    note: str | None = None
    tags: str | None = None
    # None when the store's fulfillment-order data was never fetched (snapshots); SPEC §3 rule 7.
    on_hold: bool | None = None
    # Personal data no rule reads; kept so the summaries can redact every form of it.
    billing_address: Address | None = None
    customer_address: Address | None = None  # the customer record's default address
    customer_email: str | None = None  # the customer record's email (the order's own may differ)

    @property
    def number(self) -> str:
        return self.name.lstrip("#")

    @property
    def tracking_numbers(self) -> frozenset[str]:
        """Tracking numbers of every store fulfillment (SPEC §1 and §4 name no status filter)."""
        return frozenset(n for f in self.fulfillments for n in f.tracking_numbers if n)


@dataclass(frozen=True)
class Shipment:
    id: int
    status: str  # Processing | Completed | Cancelled | Exception | OnHold | ...
    location_name: str | None = None
    tracking_number: str | None = None
    carrier: str | None = None
    shipping_date: datetime | None = None
    actual_fulfillment_date: datetime | None = None
    created_date: datetime | None = None
    last_update_at: datetime | None = None
    ship_option: str | None = None

    @property
    def shipped_at(self) -> datetime | None:
        """The 3PL's word on when this shipment left: tracking shipping date, else fulfillment date."""
        return self.shipping_date or self.actual_fulfillment_date


@dataclass(frozen=True)
class WarehouseProduct:
    sku: str | None
    quantity: int
    reference_id: str | None = None


@dataclass(frozen=True)
class WarehouseOrder:
    id: int
    reference_id: str
    order_number: str | None
    status: str | None
    created_date: datetime | None
    shipping_method: str | None = None
    products: tuple[WarehouseProduct, ...] = ()
    shipments: tuple[Shipment, ...] = ()
    last_update_at: datetime | None = None
    recipient: Address | None = None  # the 3PL's copy of the ship-to (never read by the rules)

    @property
    def completed_shipments(self) -> tuple[Shipment, ...]:
        return tuple(s for s in self.shipments if s.status == "Completed")

    @property
    def tracking_numbers(self) -> frozenset[str]:
        return frozenset(s.tracking_number for s in self.shipments if s.tracking_number)

    @property
    def is_shipped(self) -> bool:
        """SPEC §3: at least one shipment, and every shipment that is not Cancelled is Completed."""
        live = [s for s in self.shipments if s.status != "Cancelled"]
        return bool(self.shipments) and bool(live) and all(s.status == "Completed" for s in live)


PRE_TRANSIT = "pre_transit"  # a label created, not yet a carrier's scan


@dataclass(frozen=True)
class TrackingEvent:
    datetime: datetime
    status: str | None
    message: str | None = None
    status_detail: str | None = None
    location: str | None = None


@dataclass(frozen=True)
class Tracker:
    id: str
    tracking_code: str
    status: str
    status_detail: str | None = None
    carrier: str | None = None
    created_at: datetime | None = None
    updated_at: datetime | None = None
    events: tuple[TrackingEvent, ...] = ()
    public_url: str | None = None
    # The newest scan as stored, for a tracker read without its events (classification needs no more).
    scanned_at: datetime | None = None
    # Likewise the oldest carrier scan as stored (see `first_scan_at`).
    first_scanned_at: datetime | None = None

    @property
    def last_scan_at(self) -> datetime | None:
        """Newest tracking_details datetime, else updated_at (SPEC §4 stalled_in_transit)."""
        if self.events:
            return max(e.datetime for e in self.events)
        return self.scanned_at or self.updated_at

    @property
    def first_scan_at(self) -> datetime | None:
        """Oldest tracking_details datetime that is a carrier's scan (SPEC §9 first scan), else None.

        A `pre_transit` detail ("label created, awaiting item") precedes the hand-over: counting it would
        make the first-scan stage negative and hide the wait it is meant to show."""
        if self.events:
            return min((e.datetime for e in self.events if e.status != PRE_TRANSIT), default=None)
        return self.first_scanned_at


@dataclass(frozen=True)
class InventoryItem:
    sku: str
    total_fulfillable_quantity: int
    by_fulfillment_center: tuple[tuple[str, int], ...] = ()
    name: str | None = None
    inventory_id: int | None = None


@dataclass(frozen=True)
class OrderView:
    """One order as the three systems see it, joined by SPEC §1."""

    store: StoreOrder
    warehouse: WarehouseOrder | None = None
    replacements: tuple[WarehouseOrder, ...] = ()
    trackers: tuple[Tracker, ...] = field(default=())
