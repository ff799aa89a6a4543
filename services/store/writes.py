"""Write what the sources say: store orders, 3PL orders, trackers, inventory (rows as tuples, in bulk)."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, TypeVar

import orjson
from sqlalchemy.engine import Connection

from checks.join import parse_reference
from checks.model import (
    Address,
    InventoryItem,
    StoreOrder,
    Tracker,
    WarehouseOrder,
)
from services.store.cursor_io import (
    bulk_select,
    bulk_write_values,
)
from services.store.tables import (
    FULFILLMENT_COLUMNS,
    LINE_COLUMNS,
    REFUND_COLUMNS,
    T_FULFILLMENT,
    T_INVENTORY,
    T_LINE,
    T_ORDER,
    T_REFUND,
    T_SHIPMENT,
    T_TRACKER,
    T_WAREHOUSE,
    replace_children,
    upsert,
)

R = TypeVar("R")

ORDER_COLUMNS = (
    "id",
    "name",
    "number",
    "email",
    "phone",
    "customer_name",
    "created_at",
    "updated_at",
    "cancelled_at",
    "cancel_reason",
    "financial_status",
    "fulfillment_status",
    "shipping_method",
    "shipping_address",
    "billing_address",
    "customer_address",
    "customer_email",
    "note",
    "tags",
    "on_hold",
    "synced_at",
)


def newest(
    conn: Connection,
    table: Any,
    records: Sequence[R],
    key: Callable[[R], Any],
    updated: Callable[[R], datetime | None],
) -> list[R]:
    """SPEC §1 newest wins: `records` less those whose `updated_at` is older than the stored row's.

    A record without one, or without a stored row (or a stored time), is kept; an equal time is kept,
    so the same record written again still refreshes its row. Holds for every writer (an import, a
    sync, a per-order refresh, a webhook) because they all write through here."""
    dated = [key(r) for r in records if updated(r) is not None]
    if not dated:
        return list(records)
    stored = {
        k: at for k, at in bulk_select(conn, table, ("id", "updated_at"), "id", dated) if at is not None
    }
    return [
        r
        for r in records
        if (moment := updated(r)) is None or (at := stored.get(key(r))) is None or moment >= at
    ]


def write_store_orders(
    conn: Connection, orders: Sequence[StoreOrder], synced_at: datetime
) -> list[StoreOrder]:
    """Write the orders not older than the stored ones; returns those written (SPEC §1 newest wins)."""
    orders = newest(conn, T_ORDER, orders, _order_id, _order_updated)
    if not orders:
        return []
    ids = [o.id for o in orders]
    rows, lines, fulfillments, refunds = [], [], [], []
    for o in orders:
        oid = o.id
        rows.append(
            (
                oid,
                o.name,
                o.number,
                o.email,
                o.phone,
                o.customer_name,
                o.created_at,
                o.updated_at,
                o.cancelled_at,
                o.cancel_reason,
                o.financial_status,
                o.fulfillment_status,
                o.shipping_method,
                _address_dict(o.shipping_address),
                _address_dict(o.billing_address),
                _address_dict(o.customer_address),
                o.customer_email,
                o.note,
                o.tags,
                o.on_hold,
                synced_at,
            )
        )
        for li in o.line_items:
            lines.append(
                (li.id, oid, li.sku, li.title, li.vendor, li.quantity, li.fulfillable_quantity, li.price)
            )
        for f in o.fulfillments:
            fulfillments.append(
                (
                    f.id,
                    oid,
                    f.status,
                    f.created_at,
                    f.tracking_company,
                    list(f.tracking_numbers),
                    [{"id": q.line_item_id, "quantity": q.quantity} for q in f.line_items],
                )
            )
        for r in o.refunds:
            refunds.append(
                (
                    r.id,
                    oid,
                    r.created_at,
                    r.note,
                    [{"id": q.line_item_id, "quantity": q.quantity} for q in r.line_items],
                )
            )
    # An unknown hold (None: a snapshot says nothing about holds) keeps what a live sync learned
    # instead of blanking it.
    bulk_write_values(conn, T_ORDER, ORDER_COLUMNS, rows, ["id"], keep_on_null=["on_hold"])
    replace_children(conn, T_LINE, "order_id", ids, LINE_COLUMNS, lines)
    replace_children(conn, T_FULFILLMENT, "order_id", ids, FULFILLMENT_COLUMNS, fulfillments)
    replace_children(conn, T_REFUND, "order_id", ids, REFUND_COLUMNS, refunds)
    return orders


def _order_id(order: StoreOrder) -> int:
    return order.id


def _order_updated(order: StoreOrder) -> datetime | None:
    return order.updated_at


def _address_dict(address: Address | None) -> dict[str, Any] | None:
    return None if address is None else {k: v for k, v in address.__dict__.items() if v is not None}


WAREHOUSE_COLUMNS = (
    "id",
    "reference_id",
    "order_number",
    "status",
    "created_date",
    "last_update_at",
    "shipping_method",
    "products",
    "reference_store_id",
    "replacement_of",
    "replacement_seq",
    "recipient",
    "synced_at",
)
SHIPMENT_COLUMNS = (
    "id",
    "warehouse_order_id",
    "status",
    "location_name",
    "tracking_number",
    "carrier",
    "ship_option",
    "shipping_date",
    "actual_fulfillment_date",
    "created_date",
    "last_update_at",
)


def write_warehouse_orders(conn: Connection, orders: Sequence[WarehouseOrder], synced_at: datetime) -> None:
    if not orders:
        return
    rows, shipments = [], []
    for w in orders:
        store_id, seq = parse_reference(w.reference_id)
        rows.append(
            (
                w.id,
                w.reference_id,
                w.order_number,
                w.status,
                w.created_date,
                w.last_update_at,
                w.shipping_method,
                [{"sku": p.sku, "quantity": p.quantity, "reference_id": p.reference_id} for p in w.products],
                store_id,
                store_id if seq is not None else None,
                seq,
                _address_dict(w.recipient),
                synced_at,
            )
        )
        for s in w.shipments:
            shipments.append(
                (
                    s.id,
                    w.id,
                    s.status,
                    s.location_name,
                    s.tracking_number,
                    s.carrier,
                    s.ship_option,
                    s.shipping_date,
                    s.actual_fulfillment_date,
                    s.created_date,
                    s.last_update_at,
                )
            )
    # store_order_id is resolved by classification; keep the stored match on update.
    bulk_write_values(conn, T_WAREHOUSE, WAREHOUSE_COLUMNS, rows, ["id"])
    replace_children(
        conn, T_SHIPMENT, "warehouse_order_id", [w.id for w in orders], SHIPMENT_COLUMNS, shipments
    )


@dataclass(frozen=True)
class TrackerScans:
    """A tracker as it is written: its scans already the JSON text of the `events` column.

    A sync page carries trackers in this form. Its scans are most of a tracker's bytes and all that the
    committing process does with them is store them, so they travel as text rather than as thousands of
    scan records, each with its timestamp, to decode and encode again."""

    tracker: Tracker  # without its scans; `scanned_at` the newest of them, `first_scanned_at` the oldest scan
    events_json: str


def as_written(t: Tracker) -> TrackerScans:
    # orjson writes a dataclass as an object of its fields and an aware UTC datetime as its isoformat():
    # the JSON the stored scans have always had. (Built field by field: `dataclasses.replace` costs
    # several times more, and a sync page holds hundreds of trackers.)
    without_scans = Tracker(
        t.id, t.tracking_code, t.status, t.status_detail, t.carrier, t.created_at, t.updated_at, (),
        t.public_url, t.last_scan_at, t.first_scan_at,
    )  # fmt: skip
    return TrackerScans(without_scans, orjson.dumps(t.events).decode())


def write_trackers(conn: Connection, trackers: Sequence[Tracker], synced_at: datetime) -> None:
    write_tracker_scans(conn, [as_written(t) for t in trackers], synced_at)


def write_tracker_scans(conn: Connection, trackers: Sequence[TrackerScans], synced_at: datetime) -> None:
    """Upsert trackers by id, those not older than the stored ones (SPEC §1 newest wins). Two
    trackers may share a tracking code: both are kept, and both link to the code's order."""
    trackers = newest(conn, T_TRACKER, trackers, _scans_id, _scans_updated)
    if not trackers:
        return
    rows = [
        {
            "id": t.id,
            "tracking_code": t.tracking_code,
            "status": t.status,
            "status_detail": t.status_detail,
            "carrier": t.carrier,
            "public_url": t.public_url,
            "created_at": t.created_at,
            "updated_at": t.updated_at,
            "last_scan_at": t.scanned_at,
            "first_scan_at": t.first_scanned_at,
            "events": orjson.Fragment(w.events_json),  # written as it is
            "synced_at": synced_at,
        }
        for w in trackers
        for t in (w.tracker,)
    ]
    upsert(conn, T_TRACKER, rows, ["id"])


def _scans_id(scans: TrackerScans) -> str:
    return scans.tracker.id


def _scans_updated(scans: TrackerScans) -> datetime | None:
    return scans.tracker.updated_at


def write_inventory(conn: Connection, items: Sequence[InventoryItem], synced_at: datetime) -> None:
    rows = [
        {
            "sku": i.sku,
            "inventory_id": i.inventory_id,
            "name": i.name,
            "total_fulfillable_quantity": i.total_fulfillable_quantity,
            "by_fulfillment_center": [
                {"name": n, "fulfillable_quantity": q} for n, q in i.by_fulfillment_center
            ],
            "synced_at": synced_at,
        }
        for i in items
    ]
    upsert(conn, T_INVENTORY, rows, ["sku"])
