"""The one write path for what the sources say: sync pages, per-order refreshes, a replacement's record,
the snapshot import and webhooks all store records through `apply_records`.

Lock order: every transaction that writes source data or classifications takes, in this order,

1. the write lock (`services.write_lock`): PostgreSQL `pg_advisory_xact_lock` (one per schema), SQLite
   the database's own write lock (`BEGIN IMMEDIATE`). It is released when the transaction ends, also
   when its process dies (PostgreSQL drops the session's locks; SQLite's lock is the file's);
2. then the source rows: store orders and their children, 3PL orders and shipments, trackers,
   inventory (`services.store` writes, newest wins);
3. then the classifications of the store orders those rows touch;
4. then the writer's own rows: its `sync_run` row, a replacement row, the audit chain.

Why this gives the answers of a sequential sync whatever the interleaving: the write lock is one lock
that every writer takes first, so writers run one after another and never deadlock with each other.
Each one finds the store orders its records touch (SPEC §1 joins, below) *after* taking the lock, so
it reads everything committed before it, and reclassifies them before it lets go. An order's
classification depends only on its store order, its 3PL orders and the trackers of its tracking
numbers; whichever writer last changed any of those classified it from all of them as they stand.

Readers (the console, the queue) take no lock: they read the last committed state.

Statements wait at most `db.session.LOCK_TIMEOUT_S` for a lock (PostgreSQL `lock_timeout`, set on
every connection by `make_engine`; SQLite's busy timeout), so a stuck holder shows as an error, never
as a hang.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime

from sqlalchemy.engine import Connection

from checks.join import parse_reference
from checks.model import InventoryItem, StoreOrder, Tracker, WarehouseOrder
from checks.policy import SlaPolicy
from services import store
from services.store import T_CODES, T_ORDER, T_WAREHOUSE, TrackerScans
from services.store.cursor_io import bulk_select
from services.write_lock import write_lock

__all__ = ["apply_records", "orders_of_trackers", "orders_of_warehouse", "write_lock"]


def apply_records(
    conn: Connection,
    policy: SlaPolicy,
    now: datetime,
    *,
    store_orders: Sequence[StoreOrder] = (),
    warehouse_orders: Sequence[WarehouseOrder] = (),
    trackers: Sequence[Tracker | TrackerScans] = (),
    inventory: Sequence[InventoryItem] = (),
    reclassify_unchanged: bool = False,
) -> set[int]:
    """Store the records and reclassify the store orders they touch, inside the caller's transaction.

    Takes the write lock first (see the module docstring), then writes through `services.store`
    (`now` is the rows' `synced_at` and the classification time). A store order whose hold is None
    (not asked) keeps the stored hold. Records stored exactly as they come again change no
    classification and are not reclassified for it, unless `reclassify_unchanged`. Returns the ids of
    the store orders reclassified (only stored ones: a 3PL order or tracker of an order not stored
    yet is classified when its store order comes).
    """
    write_lock(conn)
    scans = [t if isinstance(t, TrackerScans) else store.as_written(t) for t in trackers]
    affected: set[int] = set()

    if store_orders:
        orders = store.with_stored_holds(conn, list(store_orders))
        same = (
            set()
            if reclassify_unchanged
            else store.unchanged_store_orders(conn, orders, policy.fingerprint())
        )
        written = store.write_store_orders(conn, orders, now)  # newest wins: less any older than stored
        affected.update(o.id for o in written if o.id not in same)

    if warehouse_orders:
        same = set() if reclassify_unchanged else store.unchanged_warehouse_orders(conn, warehouse_orders)
        # Before the write: the orders they matched until now (a changed reference moves the match).
        affected.update(orders_of_warehouse(conn, [w for w in warehouse_orders if w.id not in same]))
        store.write_warehouse_orders(conn, warehouse_orders, now)

    if scans:
        same_trackers = set() if reclassify_unchanged else store.unchanged_trackers(conn, scans)
        changed = [w.tracker for w in scans if w.tracker.id not in same_trackers]
        store.write_tracker_scans(conn, scans, now)
        affected.update(orders_of_trackers(conn, changed))

    if inventory:
        store.write_inventory(conn, list(inventory), now)  # no category depends on stock

    stored = _stored(conn, affected)
    store.reclassify(conn, sorted(stored), policy, now)
    return stored


# SPEC §1 joins, from a record to the store orders whose classification reads it. Driver SQL
# (services.store.cursor_io), one statement per chunk of ids, rather than Core's expanding IN.


def orders_of_warehouse(conn: Connection, warehouse: Sequence[WarehouseOrder]) -> set[int]:
    """Store orders a 3PL order may belong to: by reference (its own or a replacement's), by order
    number, and the store order it matched when stored."""
    ids = {sid for sid in (parse_reference(w.reference_id)[0] for w in warehouse) if sid is not None}
    numbers = sorted({w.order_number for w in warehouse if w.order_number})
    ids.update(i for (i,) in bulk_select(conn, T_ORDER, ("id",), "number", numbers))
    ids.update(
        i
        for (i,) in bulk_select(conn, T_WAREHOUSE, ("store_order_id",), "id", [w.id for w in warehouse])
        if i is not None
    )
    return ids


def orders_of_trackers(conn: Connection, trackers: Iterable[Tracker]) -> set[int]:
    """Store orders one of whose tracking numbers is a tracker's code."""
    codes = sorted({t.tracking_code for t in trackers})
    return {i for (i,) in bulk_select(conn, T_CODES, ("order_id",), "tracking_number", codes)}


def _stored(conn: Connection, ids: set[int]) -> set[int]:
    return {i for (i,) in bulk_select(conn, T_ORDER, ("id",), "id", sorted(ids))}
