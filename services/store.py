"""Write what the sources say, read it back as domain records, and store each order's classification.

Works on a SQLAlchemy `Connection` inside the caller's transaction: the snapshot import wraps a whole
snapshot in one, the sync engine one page at a time. Core statements, not ORM objects, because
imports move hundreds of thousands of rows.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import Table, and_, select
from sqlalchemy.engine import Connection

from checks.categories import classify
from checks.discrepancies import static_discrepancies, timed_facts
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
from checks.policy import SlaPolicy
from checks.shipping import carrier_name, linked_tracking_codes, shipped_at, warehouse_name
from db.models import (
    CarrierTracker,
    InventoryLevel,
    OrderClassification,
    OrderDiscrepancy,
    OrderTrackingNumber,
    StoreFulfillment,
    StoreLineItem,
    StoreRefund,
    WarehouseShipment,
)
from db.models import (
    StoreOrder as StoreOrderRow,
)
from db.models import (
    WarehouseOrder as WarehouseOrderRow,
)
from services import bulk
from services.bulk import (
    bulk_delete,
    bulk_select,
    bulk_write,
    bulk_write_values,
    in_list,
    placeholder,
    quote,
    select_rows,
)
from services.sources.shipbob import parse_reference

T_ORDER: Table = StoreOrderRow.__table__  # type: ignore[attr-defined]
T_LINE: Table = StoreLineItem.__table__  # type: ignore[attr-defined]
T_FULFILLMENT: Table = StoreFulfillment.__table__  # type: ignore[attr-defined]
T_REFUND: Table = StoreRefund.__table__  # type: ignore[attr-defined]
T_WAREHOUSE: Table = WarehouseOrderRow.__table__  # type: ignore[attr-defined]
T_SHIPMENT: Table = WarehouseShipment.__table__  # type: ignore[attr-defined]
T_TRACKER: Table = CarrierTracker.__table__  # type: ignore[attr-defined]
T_INVENTORY: Table = InventoryLevel.__table__  # type: ignore[attr-defined]
T_CLASS: Table = OrderClassification.__table__  # type: ignore[attr-defined]
T_DISC: Table = OrderDiscrepancy.__table__  # type: ignore[attr-defined]
T_CODES: Table = OrderTrackingNumber.__table__  # type: ignore[attr-defined]

# SQLite allows 32766 bound parameters per statement; keep IN lists well below it.
IN_CHUNK = 900


def chunks(values: Sequence[Any], size: int = IN_CHUNK) -> Iterable[Sequence[Any]]:
    for start in range(0, len(values), size):
        yield values[start : start + size]


def upsert(conn: Connection, table: Table, rows: list[dict[str, Any]], keys: Sequence[str]) -> None:
    """INSERT … ON CONFLICT (keys) DO UPDATE, on SQLite and PostgreSQL alike."""
    bulk_write(conn, table, rows, keys)


def _replace_children(
    conn: Connection,
    table: Table,
    fk: str,
    parent_ids: Sequence[int],
    columns: Sequence[str],
    rows: list[tuple[Any, ...]],
) -> None:
    """Delete the children of `parent_ids`, then insert `rows` (tuples in `columns` order)."""
    bulk_delete(conn, table, fk, parent_ids)
    bulk_write_values(conn, table, columns, rows)


# ---------------------------------------------------------------- writes
# Rows are built as tuples in a fixed column order: the import writes hundreds of thousands of them.

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
    "note",
    "tags",
    "on_hold",
    "synced_at",
)
LINE_COLUMNS = ("id", "order_id", "sku", "title", "vendor", "quantity", "fulfillable_quantity", "price")
FULFILLMENT_COLUMNS = (
    "id",
    "order_id",
    "status",
    "created_at",
    "tracking_company",
    "tracking_numbers",
    "line_items",
)
REFUND_COLUMNS = ("id", "order_id", "created_at", "note", "line_items")


def write_store_orders(conn: Connection, orders: Sequence[StoreOrder], synced_at: datetime) -> None:
    if not orders:
        return
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
    _replace_children(conn, T_LINE, "order_id", ids, LINE_COLUMNS, lines)
    _replace_children(conn, T_FULFILLMENT, "order_id", ids, FULFILLMENT_COLUMNS, fulfillments)
    _replace_children(conn, T_REFUND, "order_id", ids, REFUND_COLUMNS, refunds)


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
    _replace_children(
        conn, T_SHIPMENT, "warehouse_order_id", [w.id for w in orders], SHIPMENT_COLUMNS, shipments
    )


def write_trackers(conn: Connection, trackers: Sequence[Tracker], synced_at: datetime) -> None:
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
            "last_scan_at": t.last_scan_at,
            # Written by orjson as it stands: a dataclass becomes an object of its fields and an aware
            # UTC datetime its isoformat(), the same JSON the dicts spelled out gave, without building them.
            "events": t.events,
            "synced_at": synced_at,
        }
        for t in trackers
    ]
    # Trackers are linked by code: a re-created tracker (new id, same code) replaces the old row.
    # Find those rows first (rare), so the common case costs one indexed read, not a DELETE per chunk.
    ids = {t.id for t in trackers}
    codes = list(dict.fromkeys(t.tracking_code for t in trackers))
    stale = [
        tid for (tid,) in bulk_select(conn, T_TRACKER, ("id",), "tracking_code", codes) if tid not in ids
    ]
    bulk_delete(conn, T_TRACKER, "id", stale)
    upsert(conn, T_TRACKER, rows, ["id"])


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


# ---------------------------------------------------------------- reads


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


# ---------------------------------------------------------------- classification


CLASS_COLUMNS = (
    "order_id",
    "order_name",
    "base_category",
    "reason",
    "own_open",
    "vendor_open",
    "created_at",
    "due_day",
    "due_at",
    "standard_due_day",
    "vendor_due_day",
    "looks_unshipped",
    "shipping_method",
    "warehouse_name",
    "carrier",
    "shipped_at",
    "missing_since",
    "stalled_since",
    "stalled_tracking_code",
    "policy_fingerprint",
    "classified_at",
)


def store_classifications(
    conn: Connection, views: Sequence[OrderView], policy: SlaPolicy, now: datetime
) -> None:
    """Classify each order (SPEC §3, §4 facts) and store the result with its links."""
    if not views:
        return
    fingerprint = policy.fingerprint()
    rows, discrepancies, codes = [], [], []
    matches: list[tuple[int, int]] = []
    for view in views:
        c = classify(view, policy)
        timed = timed_facts(view, c)
        order = view.store
        oid = order.id
        rows.append(
            (
                oid,
                order.name,
                c.base_category,
                c.reason,
                c.own_open,
                c.vendor_open,
                c.created_at,
                c.due_day,
                policy.due_at(c.due_day),
                c.standard_due_day,
                c.vendor_due_day,
                c.looks_unshipped,
                order.shipping_method,
                warehouse_name(view),
                carrier_name(view),
                shipped_at(view),
                timed.missing_since,
                timed.stalled_since,
                timed.stalled_tracking_code,
                fingerprint,
                now,
            )
        )
        discrepancies += [(oid, d.code, d.detail) for d in static_discrepancies(view, c)]
        codes += [(oid, code) for code in sorted(linked_tracking_codes(view))]
        if view.warehouse is not None:
            matches.append((oid, view.warehouse.id))
    ids = [v.store.id for v in views]
    bulk_write_values(conn, T_CLASS, CLASS_COLUMNS, rows, ["order_id"])
    _replace_children(conn, T_DISC, "order_id", ids, ("order_id", "code", "detail"), discrepancies)
    _replace_children(conn, T_CODES, "order_id", ids, ("order_id", "tracking_number"), codes)
    # Re-point the 3PL matches: clear what pointed at these orders, then set the current ones.
    table, column = quote(conn, T_WAREHOUSE.name), quote(conn, "store_order_id")
    for part in chunks(ids, bulk.IN_CHUNK):
        conn.exec_driver_sql(
            f"UPDATE {table} SET {column} = NULL WHERE {column} IN {in_list(conn, len(part))}", tuple(part)
        )
    if matches:
        mark = placeholder(conn)
        conn.exec_driver_sql(
            f"UPDATE {table} SET {column} = {mark} WHERE {quote(conn, 'id')} = {mark}", matches
        )


def touched_order_ids(conn: Connection, since: datetime, *, include_store: bool = True) -> list[int]:
    """Store orders whose own data, 3PL order or linked tracker was written at or after `since`.

    With `include_store=False`, orders whose store row was itself written since then are left out
    (the caller classified those already).
    """
    ids: set[int] = set()
    if include_store:
        ids |= set(conn.scalars(select(T_ORDER.c.id).where(T_ORDER.c.synced_at >= since)))
    warehouse = select(
        T_WAREHOUSE.c.reference_store_id, T_WAREHOUSE.c.order_number, T_WAREHOUSE.c.store_order_id
    ).where(T_WAREHOUSE.c.synced_at >= since)
    numbers: set[str] = set()
    for row in conn.execute(warehouse):
        ids.update(v for v in (row.reference_store_id, row.store_order_id) if v is not None)
        if row.order_number:
            numbers.add(row.order_number)
    ids.update(i for (i,) in bulk_select(conn, T_ORDER, ("id",), "number", sorted(numbers)))
    linked = (
        select(T_CODES.c.order_id)
        .join(T_TRACKER, T_TRACKER.c.tracking_code == T_CODES.c.tracking_number)
        .where(T_TRACKER.c.synced_at >= since)
    )
    ids |= set(conn.scalars(linked))
    # Driver SQL (one statement per few thousand ids): after a large import this is every order.
    rows = bulk_select(conn, T_ORDER, ("id", "synced_at"), "id", sorted(ids))
    if not include_store:  # as SQL's `synced_at < since` would: a null synced_at never passes
        rows = [r for r in rows if r[1] is not None and r[1] < since]
    return sorted(i for i, _ in rows)


def reclassify(
    conn: Connection, order_ids: Sequence[int], policy: SlaPolicy, now: datetime, batch: int = 2000
) -> int:
    for part in chunks(list(order_ids), batch):
        store_classifications(conn, load_views(conn, part, events=False), policy, now)
    return len(order_ids)


def reclassify_all(conn: Connection, policy: SlaPolicy, now: datetime, batch: int = 2000) -> int:
    """One batch pass over every order, e.g. after a policy change."""
    last, done = -1, 0
    while True:
        ids = list(
            conn.scalars(select(T_ORDER.c.id).where(T_ORDER.c.id > last).order_by(T_ORDER.c.id).limit(batch))
        )
        if not ids:
            return done
        store_classifications(conn, load_views(conn, ids, events=False), policy, now)
        done += len(ids)
        last = ids[-1]


def classification_out_of_date(conn: Connection, policy: SlaPolicy) -> bool:
    """True when some stored classification was made under another policy."""
    stale = conn.execute(
        select(T_CLASS.c.order_id).where(T_CLASS.c.policy_fingerprint != policy.fingerprint()).limit(1)
    ).first()
    unclassified = conn.execute(
        select(T_ORDER.c.id)
        .outerjoin(T_CLASS, T_CLASS.c.order_id == T_ORDER.c.id)
        .where(and_(T_CLASS.c.order_id.is_(None)))
        .limit(1)
    ).first()
    return stale is not None or unclassified is not None


__all__ = [
    "build_views",
    "chunks",
    "classification_out_of_date",
    "load_inventory",
    "load_store_orders",
    "load_views",
    "reclassify",
    "reclassify_all",
    "store_classifications",
    "touched_order_ids",
    "upsert",
    "write_inventory",
    "write_store_orders",
    "write_trackers",
    "write_warehouse_orders",
]
