"""Finding orders by whatever an agent has in hand, forgivingly, ranked, with the field that matched.

Keys, best match first: the order name or number; the store's order id or a ShipBob order id; a
replacement's reference (`2072-R1`); a tracking number (any case); the whole email; then part of the
customer's name or email (three characters or more). Every lookup is indexed (migration 0011): exact keys
by their own or case-folded expression indexes; parts of a name or email by an FTS5 trigram index on
SQLite and pg_trgm GIN indexes on PostgreSQL, never by scanning every order.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import ColumnElement, func, or_, select, text
from sqlalchemy.engine import Connection

from services.store import T_CLASS, T_CODES, T_ORDER, T_SHIPMENT, T_WAREHOUSE

MIN_PART = 3  # trigram indexes find parts of three characters or more
MAX_QUERY = 200  # longer input is cut: no key is that long
TRACKING = re.compile(r"[A-Za-z0-9]{6,64}")
REPLACEMENT = re.compile(r"#?(\d+)-[Rr](\d+)")

# Rank of each matched field (lower is better) and how the page names it.
FIELDS = {
    "order name": 0,
    "store order id": 1,
    "ShipBob order id": 1,
    "replacement reference": 2,
    "tracking number": 2,
    "customer email": 3,
    "customer name": 4,
    "part of the customer name": 5,
    "part of the email": 6,
}


@dataclass(frozen=True)
class SearchHit:
    order_id: int
    order: str
    email: str | None
    created_at: datetime
    category: str | None
    matched_on: str
    customer_name: str | None = None


def clean_query(raw: str) -> str:
    """The query as searched: trimmed, and cut to MAX_QUERY characters."""
    return raw.strip()[:MAX_QUERY]


def _name(value: str) -> str:
    return value if value.startswith("#") else f"#{value}"


def _warehouse_store_id() -> ColumnElement[int]:
    w = T_WAREHOUSE.c
    return func.coalesce(w.store_order_id, w.replacement_of, w.reference_store_id)


def _exact(conn: Connection, query: str, limit: int) -> Iterable[tuple[int, str]]:
    number = query.lstrip("#")
    o = T_ORDER.c
    for oid in conn.scalars(select(o.id).where(or_(o.name == _name(query), o.number == number)).limit(limit)):
        yield oid, "order name"
    if number.isdigit() and len(number) < 19:
        for oid in conn.scalars(select(o.id).where(o.id == int(number))):
            yield oid, "store order id"
        for oid in conn.scalars(select(_warehouse_store_id()).where(T_WAREHOUSE.c.id == int(number))):
            if oid is not None:
                yield oid, "ShipBob order id"
    replacement = REPLACEMENT.fullmatch(query)
    if replacement:
        reference = f"{replacement.group(1)}-R{replacement.group(2)}"
        w = T_WAREHOUSE.c
        found = select(_warehouse_store_id()).where(
            or_(
                func.upper(w.order_number) == reference.upper(),
                func.upper(w.reference_id) == reference.upper(),
            )
        )
        for oid in conn.scalars(found.limit(limit)):
            if oid is not None:
                yield oid, "replacement reference"
    if TRACKING.fullmatch(query):
        code = query.upper()
        for oid in conn.scalars(
            select(T_CODES.c.order_id).where(func.upper(T_CODES.c.tracking_number) == code).limit(limit)
        ):
            yield oid, "tracking number"
        # A 3PL shipment whose order is not linked yet still points at its store order by reference.
        shipped = (
            select(_warehouse_store_id())
            .join(T_SHIPMENT, T_SHIPMENT.c.warehouse_order_id == T_WAREHOUSE.c.id)
            .where(func.upper(T_SHIPMENT.c.tracking_number) == code)
            .limit(limit)
        )
        for oid in conn.scalars(shipped):
            if oid is not None:
                yield oid, "tracking number"
    if "@" in query:
        for oid in conn.scalars(
            select(o.id).where(func.lower(o.email) == query.lower()).order_by(o.id.desc()).limit(limit)
        ):
            yield oid, "customer email"


def _fts_phrase(part: str) -> str:
    return '"' + part.replace('"', '""') + '"'


def _like(part: str) -> str:
    escaped = part.lower().replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


def _parts(conn: Connection, query: str, limit: int) -> Iterable[tuple[int, str]]:
    """Orders whose customer name or email contains `query` (newest first), from the trigram indexes."""
    part = query.lstrip("#").strip()
    if len(part) < MIN_PART:
        return
    o = T_ORDER.c
    for column, field in (("customer_name", "customer name"), ("email", "email")):
        if conn.dialect.name == "sqlite":
            ids = conn.scalars(
                text(
                    "SELECT rowid FROM order_search WHERE order_search MATCH :match "
                    "ORDER BY rowid DESC LIMIT :limit"
                ),
                {"match": f"{column} : {_fts_phrase(part)}", "limit": limit},
            )
        else:
            ids = conn.scalars(
                select(o.id)
                .where(func.lower(getattr(o, column)).like(_like(part), escape="\\"))
                .order_by(o.id.desc())
                .limit(limit)
            )
        for oid in ids:
            yield oid, field


def search_orders(conn: Connection, raw: str, *, limit: int = 20) -> list[SearchHit]:
    """Orders matching `raw` on any key (see the module docstring), best match first, then newest."""
    query = clean_query(raw)
    if not query:
        return []
    found: dict[int, str] = {}
    for oid, field in _exact(conn, query, limit):
        if FIELDS[field] < FIELDS.get(found.get(oid, ""), 99):
            found[oid] = field
    part_ids = list(_parts(conn, query, limit))
    if part_ids:
        rows = conn.execute(
            select(T_ORDER.c.id, T_ORDER.c.customer_name, T_ORDER.c.email).where(
                T_ORDER.c.id.in_({oid for oid, _ in part_ids})
            )
        ).all()
        by_id = {r.id: r for r in rows}
        lowered = query.lstrip("#").strip().lower()
        for oid, field in part_ids:
            row = by_id.get(oid)
            if row is None:
                continue
            if field == "customer name":
                name = (row.customer_name or "").lower()
                field = (
                    "customer name"
                    if name == lowered or name.startswith(lowered)
                    else "part of the customer name"
                )
            else:
                field = "part of the email"
            if FIELDS[field] < FIELDS.get(found.get(oid, ""), 99):
                found[oid] = field
    if not found:
        return []
    rows = conn.execute(
        select(
            T_ORDER.c.id,
            T_ORDER.c.name,
            T_ORDER.c.email,
            T_ORDER.c.customer_name,
            T_ORDER.c.created_at,
            T_CLASS.c.base_category,
        )
        .outerjoin(T_CLASS, T_CLASS.c.order_id == T_ORDER.c.id)
        .where(T_ORDER.c.id.in_(list(found)))
    ).all()
    hits = [
        SearchHit(r.id, r.name, r.email, r.created_at, r.base_category, found[r.id], r.customer_name)
        for r in rows
    ]
    hits.sort(key=lambda h: (FIELDS[h.matched_on], -h.created_at.timestamp()))
    return hits[:limit]


def example_order(conn: Connection) -> str | None:
    """A real order to suggest in the search box: the newest overdue one, else the newest order."""
    c = T_CLASS.c
    name = conn.scalar(select(c.order_name).where(c.base_category == "open").order_by(c.due_day).limit(1))
    return name or conn.scalar(select(T_ORDER.c.name).order_by(T_ORDER.c.id.desc()).limit(1))
