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

from sqlalchemy import Table, and_, bindparam, delete, func, select, update
from sqlalchemy.dialects import postgresql, sqlite
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
    StoreOrder as StoreOrderRow,
    StoreRefund,
    WarehouseOrder as WarehouseOrderRow,
    WarehouseShipment,
)
from services.bulk import bulk_write
from services.sources.shipbob import parse_reference

T_ORDER: Table = StoreOrderRow.__table__  # type: ignore[assignment]
T_LINE: Table = StoreLineItem.__table__  # type: ignore[assignment]
T_FULFILLMENT: Table = StoreFulfillment.__table__  # type: ignore[assignment]
T_REFUND: Table = StoreRefund.__table__  # type: ignore[assignment]
T_WAREHOUSE: Table = WarehouseOrderRow.__table__  # type: ignore[assignment]
T_SHIPMENT: Table = WarehouseShipment.__table__  # type: ignore[assignment]
T_TRACKER: Table = CarrierTracker.__table__  # type: ignore[assignment]
T_INVENTORY: Table = InventoryLevel.__table__  # type: ignore[assignment]
T_CLASS: Table = OrderClassification.__table__  # type: ignore[assignment]
T_DISC: Table = OrderDiscrepancy.__table__  # type: ignore[assignment]
T_CODES: Table = OrderTrackingNumber.__table__  # type: ignore[assignment]

# SQLite allows 32766 bound parameters per statement; keep IN lists well below it.
IN_CHUNK = 900


def chunks(values: Sequence[Any], size: int = IN_CHUNK) -> Iterable[Sequence[Any]]:
    for start in range(0, len(values), size):
        yield values[start : start + size]


def upsert(conn: Connection, table: Table, rows: list[dict[str, Any]], keys: Sequence[str]) -> None:
    """INSERT … ON CONFLICT (keys) DO UPDATE, on SQLite and PostgreSQL alike."""
    bulk_write(conn, table, rows, keys)


def _replace_children(conn: Connection, table: Table, fk: str, parent_ids: Sequence[int], rows: list[dict]) -> None:
    for part in chunks(list(parent_ids)):
        conn.execute(delete(table).where(table.c[fk].in_(part)))
    bulk_write(conn, table, rows)


# ---------------------------------------------------------------- writes


def write_store_orders(conn: Connection, orders: Sequence[StoreOrder], synced_at: datetime) -> None:
    if not orders:
        return
    ids = [o.id for o in orders]
    rows, lines, fulfillments, refunds = [], [], [], []
    for o in orders:
        rows.append(
            {
                "id": o.id, "name": o.name, "number": o.number, "email": o.email, "phone": o.phone,
                "customer_name": o.customer_name, "created_at": o.created_at, "updated_at": o.updated_at,
                "cancelled_at": o.cancelled_at, "cancel_reason": o.cancel_reason,
                "financial_status": o.financial_status, "fulfillment_status": o.fulfillment_status,
                "shipping_method": o.shipping_method,
                "shipping_address": _address_dict(o.shipping_address), "note": o.note, "tags": o.tags,
                "on_hold": o.on_hold, "synced_at": synced_at,
            }
        )
        for li in o.line_items:
            lines.append(
                {"id": li.id, "order_id": o.id, "sku": li.sku, "title": li.title, "vendor": li.vendor,
                 "quantity": li.quantity, "fulfillable_quantity": li.fulfillable_quantity, "price": li.price}
            )
        for f in o.fulfillments:
            fulfillments.append(
                {"id": f.id, "order_id": o.id, "status": f.status, "created_at": f.created_at,
                 "tracking_company": f.tracking_company, "tracking_numbers": list(f.tracking_numbers),
                 "line_items": [{"id": q.line_item_id, "quantity": q.quantity} for q in f.line_items]}
            )
        for r in o.refunds:
            refunds.append(
                {"id": r.id, "order_id": o.id, "created_at": r.created_at, "note": r.note,
                 "line_items": [{"id": q.line_item_id, "quantity": q.quantity} for q in r.line_items]}
            )
    _upsert_keeping_hold(conn, rows)
    _replace_children(conn, T_LINE, "order_id", ids, lines)
    _replace_children(conn, T_FULFILLMENT, "order_id", ids, fulfillments)
    _replace_children(conn, T_REFUND, "order_id", ids, refunds)


def _upsert_keeping_hold(conn: Connection, rows: list[dict[str, Any]]) -> None:
    """Upsert store orders; an unknown hold (None: a snapshot says nothing about holds) keeps what a
    live sync learned instead of blanking it."""
    dialect = postgresql if conn.dialect.name == "postgresql" else sqlite
    stmt = dialect.insert(T_ORDER)
    updates = {c.name: stmt.excluded[c.name] for c in T_ORDER.columns if c.name != "id"}
    updates["on_hold"] = func.coalesce(stmt.excluded["on_hold"], T_ORDER.c.on_hold)
    conn.execute(stmt.on_conflict_do_update(index_elements=["id"], set_=updates), rows)


def _address_dict(address: Address | None) -> dict[str, Any] | None:
    return None if address is None else {k: v for k, v in address.__dict__.items() if v is not None}


def write_warehouse_orders(conn: Connection, orders: Sequence[WarehouseOrder], synced_at: datetime) -> None:
    if not orders:
        return
    rows, shipments = [], []
    for w in orders:
        store_id, seq = parse_reference(w.reference_id)
        rows.append(
            {
                "id": w.id, "reference_id": w.reference_id, "order_number": w.order_number, "status": w.status,
                "created_date": w.created_date, "last_update_at": w.last_update_at,
                "shipping_method": w.shipping_method,
                "products": [{"sku": p.sku, "quantity": p.quantity, "reference_id": p.reference_id} for p in w.products],
                "reference_store_id": store_id, "replacement_of": store_id if seq is not None else None,
                "replacement_seq": seq, "synced_at": synced_at,
            }
        )
        for s in w.shipments:
            shipments.append(
                {"id": s.id, "warehouse_order_id": w.id, "status": s.status, "location_name": s.location_name,
                 "tracking_number": s.tracking_number, "carrier": s.carrier, "ship_option": s.ship_option,
                 "shipping_date": s.shipping_date, "actual_fulfillment_date": s.actual_fulfillment_date,
                 "created_date": s.created_date, "last_update_at": s.last_update_at}
            )
    # store_order_id is resolved by classification; keep the stored match on update.
    upsert(conn, T_WAREHOUSE, rows, ["id"])
    _replace_children(conn, T_SHIPMENT, "warehouse_order_id", [w.id for w in orders], shipments)


def write_trackers(conn: Connection, trackers: Sequence[Tracker], synced_at: datetime) -> None:
    rows = [
        {
            "id": t.id, "tracking_code": t.tracking_code, "status": t.status, "status_detail": t.status_detail,
            "carrier": t.carrier, "public_url": t.public_url, "created_at": t.created_at,
            "updated_at": t.updated_at, "last_scan_at": t.last_scan_at,
            "events": [
                {"datetime": e.datetime.isoformat(), "status": e.status, "message": e.message,
                 "status_detail": e.status_detail, "location": e.location}
                for e in t.events
            ],
            "synced_at": synced_at,
        }
        for t in trackers
    ]
    # Trackers are linked by code: a re-created tracker (new id, same code) replaces the old row.
    for part in chunks(list(trackers)):
        conn.execute(delete(T_TRACKER).where(
            T_TRACKER.c.tracking_code.in_([t.tracking_code for t in part]),
            T_TRACKER.c.id.not_in([t.id for t in part]),
        ))
    upsert(conn, T_TRACKER, rows, ["id"])


def write_inventory(conn: Connection, items: Sequence[InventoryItem], synced_at: datetime) -> None:
    rows = [
        {
            "sku": i.sku, "inventory_id": i.inventory_id, "name": i.name,
            "total_fulfillable_quantity": i.total_fulfillable_quantity,
            "by_fulfillment_center": [{"name": n, "fulfillable_quantity": q} for n, q in i.by_fulfillment_center],
            "synced_at": synced_at,
        }
        for i in items
    ]
    upsert(conn, T_INVENTORY, rows, ["sku"])


# ---------------------------------------------------------------- reads


def _order_from_rows(row: Any, lines: list[Any], fulfillments: list[Any], refunds: list[Any]) -> StoreOrder:
    address = row.shipping_address
    return StoreOrder(
        id=row.id, name=row.name, created_at=row.created_at, updated_at=row.updated_at,
        financial_status=row.financial_status, fulfillment_status=row.fulfillment_status,
        line_items=tuple(
            LineItem(id=li.id, sku=li.sku, title=li.title, vendor=li.vendor, quantity=li.quantity,
                     fulfillable_quantity=li.fulfillable_quantity, price=li.price)
            for li in sorted(lines, key=lambda x: x.id)
        ),
        cancelled_at=row.cancelled_at, cancel_reason=row.cancel_reason, shipping_method=row.shipping_method,
        fulfillments=tuple(
            Fulfillment(id=f.id, status=f.status, created_at=f.created_at,
                        tracking_numbers=tuple(f.tracking_numbers), tracking_company=f.tracking_company,
                        line_items=tuple(LineQuantity(q["id"], q["quantity"]) for q in f.line_items))
            for f in sorted(fulfillments, key=lambda x: x.id)
        ),
        refunds=tuple(
            Refund(id=r.id, created_at=r.created_at, note=r.note,
                   line_items=tuple(LineQuantity(q["id"], q["quantity"]) for q in r.line_items))
            for r in sorted(refunds, key=lambda x: x.id)
        ),
        email=row.email, phone=row.phone, customer_name=row.customer_name,
        shipping_address=Address(**address) if address else None,
        note=row.note, tags=row.tags, on_hold=row.on_hold,
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


def _warehouse_from_rows(row: Any, shipments: list[Any]) -> WarehouseOrder:
    return WarehouseOrder(
        id=row.id, reference_id=row.reference_id, order_number=row.order_number, status=row.status,
        created_date=row.created_date, shipping_method=row.shipping_method, last_update_at=row.last_update_at,
        products=tuple(WarehouseProduct(sku=p.get("sku"), quantity=p["quantity"], reference_id=p.get("reference_id"))
                       for p in row.products),
        shipments=tuple(
            Shipment(id=s.id, status=s.status, location_name=s.location_name, tracking_number=s.tracking_number,
                     carrier=s.carrier, shipping_date=s.shipping_date,
                     actual_fulfillment_date=s.actual_fulfillment_date, created_date=s.created_date,
                     last_update_at=s.last_update_at, ship_option=s.ship_option)
            for s in sorted(shipments, key=lambda x: x.id)
        ),
    )


def _tracker_from_row(row: Any) -> Tracker:
    return Tracker(
        id=row.id, tracking_code=row.tracking_code, status=row.status, status_detail=row.status_detail,
        carrier=row.carrier, created_at=row.created_at, updated_at=row.updated_at, public_url=row.public_url,
        events=tuple(
            TrackingEvent(datetime=datetime.fromisoformat(e["datetime"]), status=e.get("status"),
                          message=e.get("message"), status_detail=e.get("status_detail"),
                          location=e.get("location"))
            for e in row.events
        ),
    )


def build_views(conn: Connection, orders: Sequence[StoreOrder]) -> list[OrderView]:
    """Join store orders with their 3PL orders, replacements and trackers (SPEC §1), in a few queries."""
    if not orders:
        return []
    ids = [o.id for o in orders]
    numbers = [o.number for o in orders]
    candidates: dict[int, Any] = {}
    for part in chunks(ids):
        for row in conn.execute(select(T_WAREHOUSE).where(T_WAREHOUSE.c.reference_store_id.in_(part))):
            candidates[row.id] = row
    for part in chunks(numbers):
        for row in conn.execute(select(T_WAREHOUSE).where(
            T_WAREHOUSE.c.order_number.in_(part), T_WAREHOUSE.c.replacement_of.is_(None)
        )):
            candidates[row.id] = row
    shipments: dict[int, list[Any]] = defaultdict(list)
    for part in chunks(list(candidates)):
        for row in conn.execute(select(T_SHIPMENT).where(T_SHIPMENT.c.warehouse_order_id.in_(part))):
            shipments[row.warehouse_order_id].append(row)
    by_reference: dict[str, Any] = {}
    by_number: dict[str, list[Any]] = defaultdict(list)
    replacements: dict[int, list[Any]] = defaultdict(list)
    for row in sorted(candidates.values(), key=lambda r: r.id):
        if row.replacement_of is not None:
            replacements[row.replacement_of].append(row)
        else:
            by_reference.setdefault(row.reference_id, row)
            if row.order_number:
                by_number[row.order_number].append(row)
    partial: list[tuple[StoreOrder, WarehouseOrder | None, tuple[WarehouseOrder, ...]]] = []
    codes: set[str] = set()
    for order in orders:
        match = by_reference.get(str(order.id))
        if match is None:
            match = next(iter(by_number.get(order.number, ())), None)
        warehouse = _warehouse_from_rows(match, shipments[match.id]) if match is not None else None
        reps = tuple(_warehouse_from_rows(r, shipments[r.id]) for r in replacements.get(order.id, ()))
        partial.append((order, warehouse, reps))
        codes |= linked_tracking_codes(OrderView(store=order, warehouse=warehouse))
    trackers: dict[str, Tracker] = {}
    for part in chunks(sorted(codes)):
        for row in conn.execute(select(T_TRACKER).where(T_TRACKER.c.tracking_code.in_(part))):
            trackers[row.tracking_code] = _tracker_from_row(row)
    views = []
    for order, warehouse, reps in partial:
        linked = linked_tracking_codes(OrderView(store=order, warehouse=warehouse))
        views.append(
            OrderView(
                store=order, warehouse=warehouse, replacements=reps,
                trackers=tuple(trackers[c] for c in sorted(linked) if c in trackers),
            )
        )
    return views


def load_views(conn: Connection, order_ids: Sequence[int]) -> list[OrderView]:
    orders = load_store_orders(conn, order_ids)
    return build_views(conn, [orders[i] for i in order_ids if i in orders])


def load_inventory(conn: Connection, skus: Iterable[str] | None = None) -> dict[str, InventoryItem]:
    query = select(T_INVENTORY)
    if skus is not None:
        query = query.where(T_INVENTORY.c.sku.in_(list(skus)))
    return {
        row.sku: InventoryItem(
            sku=row.sku, total_fulfillable_quantity=row.total_fulfillable_quantity,
            by_fulfillment_center=tuple((c.get("name", ""), c.get("fulfillable_quantity", 0))
                                        for c in row.by_fulfillment_center),
            name=row.name, inventory_id=row.inventory_id,
        )
        for row in conn.execute(query)
    }


# ---------------------------------------------------------------- classification


def store_classifications(conn: Connection, views: Sequence[OrderView], policy: SlaPolicy, now: datetime) -> None:
    """Classify each order (SPEC §3, §4 facts) and store the result with its links."""
    if not views:
        return
    fingerprint = policy.fingerprint()
    rows, discrepancies, codes = [], [], []
    matches: list[dict[str, Any]] = []
    for view in views:
        c = classify(view, policy)
        timed = timed_facts(view, c)
        order = view.store
        rows.append(
            {
                "order_id": order.id, "order_name": order.name, "base_category": c.base_category,
                "reason": c.reason, "own_open": c.own_open, "vendor_open": c.vendor_open,
                "created_at": c.created_at, "due_day": c.due_day, "due_at": policy.due_at(c.due_day),
                "standard_due_day": c.standard_due_day, "vendor_due_day": c.vendor_due_day,
                "looks_unshipped": c.looks_unshipped, "shipping_method": order.shipping_method,
                "warehouse_name": warehouse_name(view), "carrier": carrier_name(view),
                "shipped_at": shipped_at(view), "missing_since": timed.missing_since,
                "stalled_since": timed.stalled_since, "stalled_tracking_code": timed.stalled_tracking_code,
                "policy_fingerprint": fingerprint, "classified_at": now,
            }
        )
        discrepancies += [{"order_id": order.id, "code": d.code, "detail": d.detail}
                          for d in static_discrepancies(view, c)]
        codes += [{"order_id": order.id, "tracking_number": code} for code in sorted(linked_tracking_codes(view))]
        if view.warehouse is not None:
            matches.append({"wid": view.warehouse.id, "sid": order.id})
    ids = [v.store.id for v in views]
    upsert(conn, T_CLASS, rows, ["order_id"])
    _replace_children(conn, T_DISC, "order_id", ids, discrepancies)
    _replace_children(conn, T_CODES, "order_id", ids, codes)
    for part in chunks(ids):
        conn.execute(update(T_WAREHOUSE).where(T_WAREHOUSE.c.store_order_id.in_(part)).values(store_order_id=None))
    if matches:
        conn.execute(
            update(T_WAREHOUSE).where(T_WAREHOUSE.c.id == bindparam("wid")).values(store_order_id=bindparam("sid")),
            matches,
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
    for part in chunks(sorted(numbers)):
        ids |= set(conn.scalars(select(T_ORDER.c.id).where(T_ORDER.c.number.in_(part))))
    linked = (
        select(T_CODES.c.order_id)
        .join(T_TRACKER, T_TRACKER.c.tracking_code == T_CODES.c.tracking_number)
        .where(T_TRACKER.c.synced_at >= since)
    )
    ids |= set(conn.scalars(linked))
    existing: set[int] = set()
    for part in chunks(sorted(ids)):
        query = select(T_ORDER.c.id).where(T_ORDER.c.id.in_(part))
        if not include_store:
            query = query.where(T_ORDER.c.synced_at < since)
        existing |= set(conn.scalars(query))
    return sorted(existing)


def reclassify(conn: Connection, order_ids: Sequence[int], policy: SlaPolicy, now: datetime, batch: int = 2000) -> int:
    for part in chunks(list(order_ids), batch):
        store_classifications(conn, load_views(conn, part), policy, now)
    return len(order_ids)


def reclassify_all(conn: Connection, policy: SlaPolicy, now: datetime, batch: int = 2000) -> int:
    """One batch pass over every order, e.g. after a policy change."""
    last, done = -1, 0
    while True:
        ids = list(conn.scalars(select(T_ORDER.c.id).where(T_ORDER.c.id > last).order_by(T_ORDER.c.id).limit(batch)))
        if not ids:
            return done
        store_classifications(conn, load_views(conn, ids), policy, now)
        done += len(ids)
        last = ids[-1]


def classification_out_of_date(conn: Connection, policy: SlaPolicy) -> bool:
    """True when some stored classification was made under another policy."""
    stale = conn.execute(
        select(T_CLASS.c.order_id).where(T_CLASS.c.policy_fingerprint != policy.fingerprint()).limit(1)
    ).first()
    unclassified = conn.execute(
        select(T_ORDER.c.id).outerjoin(T_CLASS, T_CLASS.c.order_id == T_ORDER.c.id)
        .where(and_(T_CLASS.c.order_id.is_(None))).limit(1)
    ).first()
    return stale is not None or unclassified is not None


__all__ = [
    "build_views", "chunks", "classification_out_of_date", "load_inventory", "load_store_orders", "load_views",
    "reclassify", "reclassify_all", "store_classifications", "touched_order_ids", "upsert", "write_inventory",
    "write_store_orders", "write_trackers", "write_warehouse_orders"
]
