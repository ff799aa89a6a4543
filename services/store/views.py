"""Read stored data back as domain records: store orders, and the joined view of each order (SPEC §1).

Over 400 lines as one module because every reader shares the column lists and row converters below
(a column added to one must be read by all); the join rule itself is `checks.join`.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import replace
from datetime import datetime
from typing import Any

import orjson
from sqlalchemy import select
from sqlalchemy.engine import Connection

from checks.join import WarehouseJoin, linked_tracking_codes
from checks.model import (
    Address,
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
from services.store import cursor_io
from services.store.cursor_io import (
    bulk_select,
    in_list,
    quote,
    select_rows,
)
from services.store.tables import (
    FULFILLMENT_COLUMNS,
    LINE_COLUMNS,
    REFUND_COLUMNS,
    T_CLASS,
    T_FULFILLMENT,
    T_INVENTORY,
    T_LINE,
    T_ORDER,
    T_REFUND,
    T_SHIPMENT,
    T_TRACKER,
    T_WAREHOUSE,
)
from services.store.writes import TrackerScans

ORDER_READ = (
    "id",
    "name",
    "created_at",
    "updated_at",
    "financial_status",
    "fulfillment_status",
    "cancelled_at",
    "cancel_reason",
    "shipping_method",
    "email",
    "phone",
    "customer_name",
    "shipping_address",
    "billing_address",
    "customer_address",
    "customer_email",
    "note",
    "tags",
    "on_hold",
)


def _order_from_rows(
    row: tuple[Any, ...],
    lines: list[tuple[Any, ...]],
    fulfillments: list[tuple[Any, ...]],
    refunds: list[tuple[Any, ...]],
) -> StoreOrder:
    (
        oid,
        name,
        created_at,
        updated_at,
        financial_status,
        fulfillment_status,
        cancelled_at,
        cancel_reason,
        shipping_method,
        email,
        phone,
        customer_name,
        address,
        billing,
        customer_address,
        customer_email,
        note,
        tags,
        on_hold,
    ) = row
    return StoreOrder(
        id=oid,
        name=name,
        created_at=created_at,
        updated_at=updated_at,
        financial_status=financial_status,
        fulfillment_status=fulfillment_status,
        line_items=tuple(
            LineItem(
                id=lid,
                sku=sku,
                title=title,
                vendor=vendor,
                quantity=quantity,
                fulfillable_quantity=open_,
                price=price,
            )
            for lid, _, sku, title, vendor, quantity, open_, price in sorted(lines, key=_first)
        ),
        cancelled_at=cancelled_at,
        cancel_reason=cancel_reason,
        shipping_method=shipping_method,
        fulfillments=tuple(
            Fulfillment(
                id=fid,
                status=status,
                created_at=at,
                tracking_numbers=tuple(numbers),
                tracking_company=company,
                line_items=tuple(LineQuantity(q["id"], q["quantity"]) for q in quantities),
            )
            for fid, _, status, at, company, numbers, quantities in sorted(fulfillments, key=_first)
        ),
        refunds=tuple(
            Refund(
                id=rid,
                created_at=at,
                note=refund_note,
                line_items=tuple(LineQuantity(q["id"], q["quantity"]) for q in quantities),
            )
            for rid, _, at, refund_note, quantities in sorted(refunds, key=_first)
        ),
        email=email,
        phone=phone,
        customer_name=customer_name,
        shipping_address=_address(address),
        note=note,
        tags=tags,
        on_hold=on_hold,
        billing_address=_address(billing),
        customer_address=_address(customer_address),
        customer_email=customer_email,
    )


def _address(stored: dict[str, Any] | None) -> Address | None:
    return Address(**stored) if stored else None


def _first(row: tuple[Any, ...]) -> Any:
    return row[0]


def load_store_orders(conn: Connection, order_ids: Sequence[int]) -> dict[int, StoreOrder]:
    """The stored store orders of `order_ids` (those that exist), read with driver SQL: this runs for
    every reclassification, e.g. of every order after a change of SLA policy."""
    ids = list(dict.fromkeys(order_ids))
    lines: dict[int, list[tuple[Any, ...]]] = defaultdict(list)
    fulfillments: dict[int, list[tuple[Any, ...]]] = defaultdict(list)
    refunds: dict[int, list[tuple[Any, ...]]] = defaultdict(list)
    for row in bulk_select(conn, T_LINE, LINE_COLUMNS, "order_id", ids):
        lines[row[1]].append(row)
    for row in bulk_select(conn, T_FULFILLMENT, FULFILLMENT_COLUMNS, "order_id", ids):
        fulfillments[row[1]].append(row)
    for row in bulk_select(conn, T_REFUND, REFUND_COLUMNS, "order_id", ids):
        refunds[row[1]].append(row)
    return {
        row[0]: _order_from_rows(row, lines[row[0]], fulfillments[row[0]], refunds[row[0]])
        for row in bulk_select(conn, T_ORDER, ORDER_READ, "id", ids)
    }


W_READ = (
    "id",
    "reference_id",
    "order_number",
    "status",
    "created_date",
    "shipping_method",
    "last_update_at",
    "products",
    "replacement_of",
    "reference_store_id",
    "recipient",
)
S_READ = (
    "id",
    "warehouse_order_id",
    "status",
    "location_name",
    "tracking_number",
    "carrier",
    "shipping_date",
    "actual_fulfillment_date",
    "created_date",
    "last_update_at",
    "ship_option",
)
TRACKER_READ = (
    "id",
    "tracking_code",
    "status",
    "status_detail",
    "carrier",
    "created_at",
    "updated_at",
    "public_url",
    "events",
)
TRACKER_SUMMARY = (*TRACKER_READ[:-1], "last_scan_at", "first_scan_at")


def _warehouse_from_row(row: tuple[Any, ...], shipments: list[Shipment]) -> WarehouseOrder:
    wid, reference_id, order_number, status, created_date, shipping_method, last_update_at, products, _, _ = (
        row[:10]
    )
    recipient = row[10]
    return WarehouseOrder(
        id=wid,
        reference_id=reference_id,
        order_number=order_number,
        status=status,
        created_date=created_date,
        shipping_method=shipping_method,
        last_update_at=last_update_at,
        products=tuple(
            WarehouseProduct(sku=p.get("sku"), quantity=p["quantity"], reference_id=p.get("reference_id"))
            for p in products
        ),
        shipments=tuple(sorted(shipments, key=lambda x: x.id)),
        recipient=_address(recipient),
    )


def _shipment_from_row(row: tuple[Any, ...]) -> Shipment:
    (
        sid,
        _,
        status,
        location_name,
        tracking_number,
        carrier,
        shipping_date,
        actual_fulfillment_date,
        created_date,
        last_update_at,
        ship_option,
    ) = row
    return Shipment(
        id=sid,
        status=status,
        location_name=location_name,
        tracking_number=tracking_number,
        carrier=carrier,
        shipping_date=shipping_date,
        actual_fulfillment_date=actual_fulfillment_date,
        created_date=created_date,
        last_update_at=last_update_at,
        ship_option=ship_option,
    )


def _tracker(
    row: tuple[Any, ...],
    *,
    events: tuple[TrackingEvent, ...] = (),
    scanned_at: datetime | None = None,
    first_scanned_at: datetime | None = None,
) -> Tracker:
    tid, tracking_code, status, status_detail, carrier, created_at, updated_at, public_url = row[:8]
    return Tracker(
        id=tid,
        tracking_code=tracking_code,
        status=status,
        status_detail=status_detail,
        carrier=carrier,
        created_at=created_at,
        updated_at=updated_at,
        public_url=public_url,
        events=events,
        scanned_at=scanned_at,
        first_scanned_at=first_scanned_at,
    )


def _tracker_without_events(row: tuple[Any, ...]) -> Tracker:
    """A TRACKER_SUMMARY row: the stored newest and oldest scans instead of the scans."""
    return _tracker(row, scanned_at=row[8], first_scanned_at=row[9])


def _tracker_from_row(row: tuple[Any, ...]) -> Tracker:
    """A TRACKER_READ row, scans included."""
    events = tuple(
        TrackingEvent(
            datetime=datetime.fromisoformat(e["datetime"]),
            status=e.get("status"),
            message=e.get("message"),
            status_detail=e.get("status_detail"),
            location=e.get("location"),
        )
        for e in row[8]
    )
    return _tracker(row, events=events)


def unchanged_store_orders(conn: Connection, orders: Sequence[StoreOrder], fingerprint: str) -> set[int]:
    """Ids of the store orders stored exactly as given and classified under the policy `fingerprint`."""
    ids = [o.id for o in orders]
    classified = {
        oid
        for oid, stored_fingerprint in bulk_select(
            conn, T_CLASS, ("order_id", "policy_fingerprint"), "order_id", ids
        )
        if stored_fingerprint == fingerprint
    }
    if not classified:
        return set()
    stored = load_store_orders(conn, [i for i in ids if i in classified])
    return {o.id for o in orders if o.id in stored and stored[o.id] == _children_by_id(o)}


def _children_by_id(order: StoreOrder) -> StoreOrder:
    """As `load_store_orders` reads an order back: lines, fulfillments and refunds by id."""
    return replace(
        order,
        line_items=tuple(sorted(order.line_items, key=lambda x: x.id)),
        fulfillments=tuple(sorted(order.fulfillments, key=lambda x: x.id)),
        refunds=tuple(sorted(order.refunds, key=lambda x: x.id)),
    )


def unchanged_warehouse_orders(conn: Connection, orders: Sequence[WarehouseOrder]) -> set[int]:
    """Ids of the 3PL orders stored exactly as given: writing them again changes no classification."""
    rows = bulk_select(conn, T_WAREHOUSE, W_READ, "id", [w.id for w in orders])
    if not rows:
        return set()
    shipments: dict[int, list[Shipment]] = defaultdict(list)
    for row in bulk_select(conn, T_SHIPMENT, S_READ, "warehouse_order_id", [r[0] for r in rows]):
        shipments[row[1]].append(_shipment_from_row(row))
    stored = {r[0]: _warehouse_from_row(r, shipments[r[0]]) for r in rows}
    return {
        w.id
        for w in orders
        if stored.get(w.id) == replace(w, shipments=tuple(sorted(w.shipments, key=lambda x: x.id)))
    }


_SCANS = len(TRACKER_SUMMARY)  # where the stored scans follow a summary row


def unchanged_trackers(conn: Connection, trackers: Sequence[TrackerScans]) -> set[str]:
    """Ids of the trackers stored exactly as given, scans included (compared as JSON values)."""
    stored = {
        row[0]: row
        for row in bulk_select(
            conn, T_TRACKER, (*TRACKER_SUMMARY, "events"), "id", [w.tracker.id for w in trackers]
        )
    }
    same = set()
    for w in trackers:
        row = stored.get(w.tracker.id)
        if (
            row is not None
            and _tracker_without_events(row) == w.tracker
            and row[_SCANS] == orjson.loads(w.events_json)
        ):
            same.add(w.tracker.id)
    return same


def with_stored_holds(conn: Connection, orders: Sequence[StoreOrder]) -> list[StoreOrder]:
    """An order whose hold was not asked (None) keeps the stored one, for its classification as for
    its row."""
    unknown = [o.id for o in orders if o.on_hold is None]
    stored = {
        oid: hold
        for oid, hold in bulk_select(conn, T_ORDER, ("id", "on_hold"), "id", unknown)
        if hold is not None
    }
    return [replace(o, on_hold=stored[o.id]) if o.id in stored else o for o in orders]


def _warehouse_candidates(conn: Connection, orders: Sequence[StoreOrder]) -> list[tuple[Any, ...]]:
    """3PL rows that may belong to `orders` (SPEC §1): those whose reference names one of them, and
    originals whose order number is one of theirs. One indexed query per chunk of orders.

    "Originals" is checked here, not in SQL: `replacement_of IS NULL` in the WHERE clause tempts
    SQLite into scanning the replacement_of index (nearly every row) instead of order_number's."""
    found: dict[int, tuple[Any, ...]] = {}
    half = cursor_io.IN_CHUNK // 2
    for start in range(0, len(orders), half):
        part = orders[start : start + half]
        ids, numbers = [o.id for o in part], list(dict.fromkeys(o.number for o in part))
        where = (
            f"{quote(conn, 'reference_store_id')} IN {in_list(conn, len(ids))}"
            f" OR {quote(conn, 'order_number')} IN {in_list(conn, len(numbers))}"
        )
        wanted_ids, wanted_numbers = set(ids), set(numbers)
        for row in select_rows(conn, T_WAREHOUSE, W_READ, where, [*ids, *numbers]):
            replacement_of, reference_store_id, order_number = row[8], row[9], row[2]
            if reference_store_id in wanted_ids or (
                replacement_of is None and order_number in wanted_numbers
            ):
                found[row[0]] = row
    return [found[i] for i in sorted(found)]


def build_views(conn: Connection, orders: Sequence[StoreOrder], *, events: bool = True) -> list[OrderView]:
    """Join store orders with their 3PL orders, replacements and trackers by `checks.join` (SPEC §1), in a
    few queries.

    Reads with driver SQL and converts only the columns the views need: this runs for every batch of
    an import. `events=False` reads trackers without their scans (only the stored newest scan time):
    enough to classify, and the scans are most of a tracker's bytes.
    """
    if not orders:
        return []
    candidates = _warehouse_candidates(conn, orders)
    shipments: dict[int, list[Shipment]] = defaultdict(list)
    for row in bulk_select(conn, T_SHIPMENT, S_READ, "warehouse_order_id", [r[0] for r in candidates]):
        shipments[row[1]].append(_shipment_from_row(row))
    join = WarehouseJoin(_warehouse_from_row(row, shipments[row[0]]) for row in candidates)
    partial: list[tuple[StoreOrder, WarehouseOrder | None, tuple[WarehouseOrder, ...], frozenset[str]]] = []
    codes: set[str] = set()
    for order in orders:
        match = join.match(order)
        linked = linked_tracking_codes(OrderView(store=order, warehouse=match))
        partial.append((order, match, join.replacements(order), linked))
        codes |= linked
    # Trackers are keyed by id: every tracker of a linked code links (SPEC §1), in code then id order.
    trackers: dict[str, list[Tracker]] = defaultdict(list)
    columns, read = (
        (TRACKER_READ, _tracker_from_row) if events else (TRACKER_SUMMARY, _tracker_without_events)
    )
    for row in sorted(bulk_select(conn, T_TRACKER, columns, "tracking_code", sorted(codes)), key=_first):
        trackers[row[1]].append(read(row))
    return [
        OrderView(
            store=order,
            warehouse=warehouse,
            replacements=reps,
            trackers=tuple(t for c in sorted(linked) for t in trackers.get(c, ())),
        )
        for order, warehouse, reps, linked in partial
    ]


def load_views(conn: Connection, order_ids: Sequence[int], *, events: bool = True) -> list[OrderView]:
    orders = load_store_orders(conn, order_ids)
    return build_views(conn, [orders[i] for i in order_ids if i in orders], events=events)


def load_trackers(conn: Connection, tracker_ids: Sequence[str]) -> dict[str, Tracker]:
    """Stored trackers by id, with their scans."""
    return {
        row[0]: _tracker_from_row(row)
        for row in bulk_select(conn, T_TRACKER, TRACKER_READ, "id", tracker_ids)
    }


def load_inventory(conn: Connection, skus: Iterable[str] | None = None) -> dict[str, InventoryItem]:
    query = select(T_INVENTORY)
    if skus is not None:
        query = query.where(T_INVENTORY.c.sku.in_(list(skus)))
    return {
        row.sku: InventoryItem(
            sku=row.sku,
            total_fulfillable_quantity=row.total_fulfillable_quantity,
            by_fulfillment_center=tuple(
                (c.get("name", ""), c.get("fulfillable_quantity", 0)) for c in row.by_fulfillment_center
            ),
            name=row.name,
            inventory_id=row.inventory_id,
        )
        for row in conn.execute(query)
    }
