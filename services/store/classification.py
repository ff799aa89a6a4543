"""Classify orders (SPEC §3, §4 facts), store the results with their links, and reclassify."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime

import msgspec
from sqlalchemy import and_, select
from sqlalchemy.engine import Connection

from checks.categories import classify
from checks.discrepancies import static_discrepancies, timed_facts
from checks.join import linked_tracking_codes
from checks.model import (
    OrderView,
)
from checks.policy import SlaPolicy
from checks.shipping import carrier_name, first_scan_at, handed_over_at, shipped_at, warehouse_name
from services.store import cursor_io
from services.store.cursor_io import (
    bulk_select,
    bulk_write_values,
    in_list,
    placeholder,
    quote,
)
from services.store.tables import (
    T_CLASS,
    T_CODES,
    T_DISC,
    T_ORDER,
    T_TRACKER,
    T_WAREHOUSE,
    chunks,
    replace_children,
)
from services.store.views import load_views

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
    "handed_over_at",
    "first_scan_at",
    "missing_since",
    "stalled_since",
    "stalled_tracking_code",
    "policy_fingerprint",
    "classified_at",
)


# A row of CLASS_COLUMNS.
ClassRow = tuple[
    int, str, str, str, int, int, datetime, date, datetime, date, date | None, bool, str | None,
    str | None, str | None, datetime | None, datetime | None, datetime | None, datetime | None,
    datetime | None, str | None, str, datetime,
]  # fmt: skip


class OrderClassified(msgspec.Struct, array_like=True, frozen=True):
    """One order's classification as it is stored: its row (CLASS_COLUMNS), discrepancies, tracking
    codes and 3PL match. Computed apart from the writing (`classify_views`, then `write_classifications`)."""

    order_id: int
    row: ClassRow
    discrepancies: list[tuple[str, str]]  # (code, detail)
    codes: list[str]
    warehouse_id: int | None

    @property
    def base_category(self) -> str:
        return self.row[2]


def classify_views(views: Sequence[OrderView], policy: SlaPolicy, now: datetime) -> list[OrderClassified]:
    """Classify each order (SPEC §3, §4 facts): what `store_classifications` stores for it."""
    fingerprint = policy.fingerprint()
    out = []
    for view in views:
        c = classify(view, policy)
        timed = timed_facts(view, c)
        order = view.store
        oid = order.id
        row: ClassRow = (
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
            handed_over_at(view),
            first_scan_at(view),
            timed.missing_since,
            timed.stalled_since,
            timed.stalled_tracking_code,
            fingerprint,
            now,
        )
        out.append(
            OrderClassified(
                oid,
                row,
                [(d.code, d.detail) for d in static_discrepancies(view, c)],
                sorted(linked_tracking_codes(view)),
                view.warehouse.id if view.warehouse is not None else None,
            )
        )
    return out


def store_classifications(
    conn: Connection, views: Sequence[OrderView], policy: SlaPolicy, now: datetime
) -> None:
    """Classify each order (SPEC §3, §4 facts) and store the result with its links."""
    write_classifications(conn, classify_views(views, policy, now))


def write_classifications(conn: Connection, classified: Sequence[OrderClassified]) -> None:
    """Store classifications, replacing each order's discrepancies, tracking codes and 3PL match."""
    if not classified:
        return
    ids = [c.order_id for c in classified]
    discrepancies = [(c.order_id, code, detail) for c in classified for code, detail in c.discrepancies]
    codes = [(c.order_id, code) for c in classified for code in c.codes]
    matches = [(c.order_id, c.warehouse_id) for c in classified if c.warehouse_id is not None]
    bulk_write_values(conn, T_CLASS, CLASS_COLUMNS, [c.row for c in classified], ["order_id"])
    replace_children(conn, T_DISC, "order_id", ids, ("order_id", "code", "detail"), discrepancies)
    replace_children(conn, T_CODES, "order_id", ids, ("order_id", "tracking_number"), codes)
    # Re-point the 3PL matches: clear what pointed at these orders, then set the current ones.
    table, column = quote(conn, T_WAREHOUSE.name), quote(conn, "store_order_id")
    for part in chunks(ids, cursor_io.IN_CHUNK):
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
