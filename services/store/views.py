"""Read stored data back as domain records: store orders, and the joined view of each order (SPEC §1)."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.engine import Connection

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
from checks.shipping import linked_tracking_codes
from services import bulk
from services.bulk import (
    bulk_select,
    in_list,
    quote,
    select_rows,
)
from services.store.tables import (
    T_FULFILLMENT,
    T_INVENTORY,
    T_LINE,
    T_ORDER,
    T_REFUND,
    T_SHIPMENT,
    T_TRACKER,
    T_WAREHOUSE,
    chunks,
)


def _order_from_rows(row: Any, lines: list[Any], fulfillments: list[Any], refunds: list[Any]) -> StoreOrder:
    address = row.shipping_address
    return StoreOrder(
        id=row.id,
        name=row.name,
        created_at=row.created_at,
        updated_at=row.updated_at,
        financial_status=row.financial_status,
        fulfillment_status=row.fulfillment_status,
        line_items=tuple(
            LineItem(
                id=li.id,
                sku=li.sku,
                title=li.title,
                vendor=li.vendor,
                quantity=li.quantity,
                fulfillable_quantity=li.fulfillable_quantity,
                price=li.price,
            )
            for li in sorted(lines, key=lambda x: x.id)
        ),
        cancelled_at=row.cancelled_at,
        cancel_reason=row.cancel_reason,
        shipping_method=row.shipping_method,
        fulfillments=tuple(
            Fulfillment(
                id=f.id,
                status=f.status,
                created_at=f.created_at,
                tracking_numbers=tuple(f.tracking_numbers),
                tracking_company=f.tracking_company,
                line_items=tuple(LineQuantity(q["id"], q["quantity"]) for q in f.line_items),
            )
            for f in sorted(fulfillments, key=lambda x: x.id)
        ),
        refunds=tuple(
            Refund(
                id=r.id,
                created_at=r.created_at,
                note=r.note,
                line_items=tuple(LineQuantity(q["id"], q["quantity"]) for q in r.line_items),
            )
            for r in sorted(refunds, key=lambda x: x.id)
        ),
        email=row.email,
        phone=row.phone,
        customer_name=row.customer_name,
        shipping_address=Address(**address) if address else None,
        note=row.note,
        tags=row.tags,
        on_hold=row.on_hold,
    )


def load_store_orders(conn: Connection, order_ids: Sequence[int]) -> dict[int, StoreOrder]:
    ids = list(order_ids)
    rows, lines, fulfillments, refunds = {}, defaultdict(list), defaultdict(list), defaultdict(list)
    for part in chunks(ids):
        for row in conn.execute(select(T_ORDER).where(T_ORDER.c.id.in_(part))):
            rows[row.id] = row
        for row in conn.execute(select(T_LINE).where(T_LINE.c.order_id.in_(part))):
            lines[row.order_id].append(row)
        for row in conn.execute(select(T_FULFILLMENT).where(T_FULFILLMENT.c.order_id.in_(part))):
            fulfillments[row.order_id].append(row)
        for row in conn.execute(select(T_REFUND).where(T_REFUND.c.order_id.in_(part))):
            refunds[row.order_id].append(row)
    return {i: _order_from_rows(r, lines[i], fulfillments[i], refunds[i]) for i, r in rows.items()}


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
TRACKER_SUMMARY = (*TRACKER_READ[:-1], "last_scan_at")


def _warehouse_from_row(row: tuple[Any, ...], shipments: list[Shipment]) -> WarehouseOrder:
    wid, reference_id, order_number, status, created_date, shipping_method, last_update_at, products, _, _ = (
        row
    )
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
    row: tuple[Any, ...], *, events: tuple[TrackingEvent, ...] = (), scanned_at: datetime | None = None
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
    )


def _tracker_without_events(row: tuple[Any, ...]) -> Tracker:
    """A TRACKER_SUMMARY row: the stored newest scan instead of the scans."""
    return _tracker(row, scanned_at=row[8])


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


def _warehouse_candidates(conn: Connection, orders: Sequence[StoreOrder]) -> list[tuple[Any, ...]]:
    """3PL rows that may belong to `orders` (SPEC §1): those whose reference names one of them, and
    originals whose order number is one of theirs. One indexed query per chunk of orders.

    "Originals" is checked here, not in SQL: `replacement_of IS NULL` in the WHERE clause tempts
    SQLite into scanning the replacement_of index (nearly every row) instead of order_number's."""
    found: dict[int, tuple[Any, ...]] = {}
    half = bulk.IN_CHUNK // 2
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
    """Join store orders with their 3PL orders, replacements and trackers (SPEC §1), in a few queries.

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
    by_reference: dict[str, WarehouseOrder] = {}
    by_number: dict[str, WarehouseOrder] = {}
    replacements: dict[int, list[WarehouseOrder]] = defaultdict(list)
    for row in candidates:  # in id order: the lowest id wins a tie
        warehouse = _warehouse_from_row(row, shipments[row[0]])
        replacement_of = row[8]
        if replacement_of is not None:
            replacements[replacement_of].append(warehouse)
        else:
            by_reference.setdefault(warehouse.reference_id, warehouse)
            if warehouse.order_number:
                by_number.setdefault(warehouse.order_number, warehouse)
    partial: list[tuple[StoreOrder, WarehouseOrder | None, tuple[WarehouseOrder, ...], frozenset[str]]] = []
    codes: set[str] = set()
    for order in orders:
        match = by_reference.get(str(order.id))
        if match is None:
            match = by_number.get(order.number)
        reps = tuple(replacements.get(order.id, ()))
        linked = linked_tracking_codes(OrderView(store=order, warehouse=match))
        partial.append((order, match, reps, linked))
        codes |= linked
    trackers: dict[str, Tracker] = {}
    columns, read = (
        (TRACKER_READ, _tracker_from_row) if events else (TRACKER_SUMMARY, _tracker_without_events)
    )
    for row in bulk_select(conn, T_TRACKER, columns, "tracking_code", sorted(codes)):
        trackers[row[1]] = read(row)
    return [
        OrderView(
            store=order,
            warehouse=warehouse,
            replacements=reps,
            trackers=tuple(trackers[c] for c in sorted(linked) if c in trackers),
        )
        for order, warehouse, reps, linked in partial
    ]


def load_views(conn: Connection, order_ids: Sequence[int], *, events: bool = True) -> list[OrderView]:
    orders = load_store_orders(conn, order_ids)
    return build_views(conn, [orders[i] for i in order_ids if i in orders], events=events)


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
