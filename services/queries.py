"""The overdue queue, the informational view and the discrepancies at any as-of (SPEC §3, §4).

Stored classifications carry dates; lateness is a comparison with the as-of in SQL, so any as-of
answers at once. Each list is a concatenation of index-ordered parts (one per category or code),
so a page costs an index range scan with LIMIT, not a sort of the whole table.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import Select, exists, func, or_, select
from sqlalchemy.engine import Connection

from checks.categories import INFORMATIONAL, OPEN
from checks.discrepancies import CODES
from checks.policy import SlaPolicy
from services.store import T_CLASS, T_DISC, T_ORDER

INFORMATIONAL_ORDER = tuple(
    c
    for c in ("cancelled", "refunded", "third_party_vendor", "awaiting_payment", "sync_delay", "on_hold")
    if c in INFORMATIONAL
)
# Discrepancies a guided fix mends (services.fixes; `sync_delay`, a category, is not a code): "has a fix".
FIXABLE_CODES = ("cancelled_not_stopped", "missing_at_3pl", "tracking_mismatch")
STATIC_CODES = (
    "cancelled_but_shipped",
    "cancelled_not_stopped",
    "tracking_mismatch",
    "carrier_exception",
)


@dataclass(frozen=True)
class QueueRow:
    order_id: int
    order: str
    created_at: datetime
    due_at: datetime  # store time, with offset
    business_days_late: int
    shipping_method: str | None
    warehouse: str | None
    carrier: str | None
    own_open: int
    discrepancies: tuple[str, ...] = ()

    def as_dict(self) -> dict[str, Any]:
        return {
            "order": self.order,
            "due_at": self.due_at.isoformat(),
            "business_days_late": self.business_days_late,
            "created_at": self.created_at.isoformat(),
            "shipping_method": self.shipping_method,
            "warehouse": self.warehouse,
            "carrier": self.carrier,
            "own_open": self.own_open,
            "discrepancies": list(self.discrepancies),
        }


@dataclass(frozen=True)
class InformationalRow:
    order_id: int
    order: str
    category: str
    reason: str
    standard_due_at: datetime
    vendor_late: bool | None
    vendor_due_at: datetime | None

    def as_dict(self) -> dict[str, Any]:
        row: dict[str, Any] = {
            "order": self.order,
            "category": self.category,
            "reason": self.reason,
            "standard_due_at": self.standard_due_at.isoformat(),
        }
        if self.category == "third_party_vendor":
            row["vendor_late"] = bool(self.vendor_late)
            row["vendor_due_at"] = self.vendor_due_at.isoformat() if self.vendor_due_at else None
        return row


@dataclass(frozen=True)
class DiscrepancyRow:
    order_id: int
    order: str
    code: str
    detail: str

    def as_dict(self) -> dict[str, Any]:
        return {"order": self.order, "code": self.code, "detail": self.detail}


@dataclass(frozen=True)
class Part:
    """One index-ordered slice of a list: how many rows it has, and a page of them."""

    count: Callable[[], int]
    fetch: Callable[[int | None, int], list[Any]]


def concat_pages(parts: Sequence[Part], limit: int | None, offset: int) -> list[Any]:
    rows: list[Any] = []
    for part in parts:
        if limit is not None and len(rows) >= limit:
            break
        size = part.count()
        if offset >= size:
            offset -= size
            continue
        want = None if limit is None else limit - len(rows)
        rows += part.fetch(want, offset)
        offset = 0
    return rows


def _page(query: Select[Any], limit: int | None, offset: int) -> Select[Any]:
    if limit is not None:
        query = query.limit(limit)
    return query.offset(offset) if offset else query


def _count(conn: Connection, query: Select[Any]) -> int:
    return int(conn.scalar(select(func.count()).select_from(query.order_by(None).subquery())) or 0)


def business_days_between(policy: SlaPolicy, after: date, until: date) -> int:
    """Business days d with after < d <= until."""
    count, day = 0, after
    while day < until:
        day += timedelta(days=1)
        count += policy.is_business_day(day)
    return count


# ---------------------------------------------------------------- overdue queue


QUEUE_SORTS = ("due", "order", "warehouse", "shipping method", "carrier")


def _has_fix(as_of: datetime, policy: SlaPolicy) -> Any:
    """Orders showing a discrepancy a guided fix mends at `as_of` (a condition on `order_classification`)."""
    static = [c for c in FIXABLE_CODES if c in STATIC_CODES]
    stored = exists(
        select(T_DISC.c.order_id).where(T_DISC.c.order_id == T_CLASS.c.order_id, T_DISC.c.code.in_(static))
    )
    missing = (T_CLASS.c.base_category == OPEN) & (T_CLASS.c.missing_since < _missing_cutoff(as_of, policy))
    return or_(stored, missing)


def _queue_query(
    as_of: datetime,
    policy: SlaPolicy,
    shipping_method: str | None,
    warehouse: str | None,
    sort: str = "due",
    descending: bool = False,
    has_fix: bool = False,
) -> Select[Any]:
    c = T_CLASS.c
    query = select(T_CLASS).where(c.base_category == OPEN, c.due_day < policy.local_date(as_of))
    if has_fix:
        query = query.where(_has_fix(as_of, policy))
    if shipping_method:
        query = query.where(c.shipping_method == shipping_method)
    if warehouse:
        query = query.where(c.warehouse_name == warehouse)
    first = {
        "due": c.due_day,
        "order": c.order_id,
        "warehouse": c.warehouse_name,
        "shipping method": c.shipping_method,
        "carrier": c.carrier,
    }[sort]
    return query.order_by(first.desc() if descending else first, c.due_day, c.order_id)


def overdue_queue(
    conn: Connection,
    *,
    as_of: datetime,
    policy: SlaPolicy,
    limit: int | None = None,
    offset: int = 0,
    shipping_method: str | None = None,
    warehouse: str | None = None,
    sort: str = "due",
    descending: bool = False,
    has_fix: bool = False,
) -> list[QueueRow]:
    """SPEC §3 overdue queue: category `overdue` at `as_of`, oldest due day first (or by `sort`, in the
    query, so every page follows it; `has_fix`: only orders with a discrepancy a guided fix mends)."""
    query = _queue_query(
        as_of, policy, shipping_method, warehouse, sort=sort, descending=descending, has_fix=has_fix
    )
    rows = conn.execute(_page(query, limit, offset)).all()
    return queue_rows(conn, rows, as_of=as_of, policy=policy)


def queue_rows(
    conn: Connection, rows: Sequence[Any], *, as_of: datetime, policy: SlaPolicy
) -> list[QueueRow]:
    """Queue rows from `order_classification` rows, with their lateness and discrepancies at `as_of`."""
    codes = discrepancy_codes_for(conn, [r.order_id for r in rows], as_of=as_of, policy=policy)
    today = policy.local_date(as_of)
    by_day: dict[date, tuple[datetime, int]] = {}  # many orders share a due day
    for r in rows:
        if r.due_day not in by_day:
            by_day[r.due_day] = (policy.due_at(r.due_day), business_days_between(policy, r.due_day, today))
    return [
        QueueRow(
            order_id=r.order_id,
            order=r.order_name,
            created_at=r.created_at,
            due_at=by_day[r.due_day][0],
            business_days_late=by_day[r.due_day][1],
            shipping_method=r.shipping_method,
            warehouse=r.warehouse_name,
            carrier=r.carrier,
            own_open=r.own_open,
            discrepancies=codes.get(r.order_id, ()),
        )
        for r in rows
    ]


def count_overdue(
    conn: Connection,
    *,
    as_of: datetime,
    policy: SlaPolicy,
    shipping_method: str | None = None,
    warehouse: str | None = None,
    has_fix: bool = False,
) -> int:
    return _count(conn, _queue_query(as_of, policy, shipping_method, warehouse, has_fix=has_fix))


# ---------------------------------------------------------------- informational view


def _informational_query(
    category: str,
    as_of: datetime,
    policy: SlaPolicy,
    due_from: date | None = None,
    due_to: date | None = None,
) -> Select[Any]:
    query = select(T_CLASS).where(
        T_CLASS.c.base_category == category,
        T_CLASS.c.looks_unshipped.is_(True),
        T_CLASS.c.standard_due_day < policy.local_date(as_of),
    )
    if due_from is not None:
        query = query.where(T_CLASS.c.standard_due_day >= due_from)
    if due_to is not None:
        query = query.where(T_CLASS.c.standard_due_day <= due_to)
    return query.order_by(T_CLASS.c.standard_due_day, T_CLASS.c.order_id)


def informational_counts(
    conn: Connection,
    *,
    as_of: datetime,
    policy: SlaPolicy,
    due_from: date | None = None,
    due_to: date | None = None,
) -> dict[str, int]:
    """Size of the informational view per category (SPEC §3): the false alarms kept out of the queue.

    `due_from`/`due_to` keep the orders whose standard due day is in that period (the SLA page's range).
    """
    return {
        c: _count(conn, _informational_query(c, as_of, policy, due_from, due_to)) for c in INFORMATIONAL_ORDER
    }


def informational_view(
    conn: Connection,
    *,
    as_of: datetime,
    policy: SlaPolicy,
    categories: Sequence[str] | None = None,
    limit: int | None = None,
    offset: int = 0,
    sort: str = "category",
    descending: bool = False,
) -> list[InformationalRow]:
    """The informational view, a page at a time. `sort`: "category" (SPEC order, then standard due day),
    "standard deadline" or "order"; the database sorts, so every page follows the same order."""
    chosen = [c for c in INFORMATIONAL_ORDER if categories is None or c in categories]

    def part(category: str) -> Part:
        query = _informational_query(category, as_of, policy)
        return Part(lambda: _count(conn, query), lambda lim, off: list(conn.execute(_page(query, lim, off))))

    if sort == "category" or not chosen:
        rows = concat_pages([part(c) for c in chosen], limit, offset)
    else:  # one query over every chosen category, sorted by the database across all pages
        c = T_CLASS.c
        column = {"standard deadline": c.standard_due_day, "order": c.order_id}[sort]
        query = (
            select(T_CLASS)
            .where(
                c.base_category.in_(chosen),
                c.looks_unshipped.is_(True),
                c.standard_due_day < policy.local_date(as_of),
            )
            .order_by(column.desc() if descending else column, c.order_id)
        )
        rows = list(conn.execute(_page(query, limit, offset)))
    today = policy.local_date(as_of)
    return [
        InformationalRow(
            order_id=r.order_id,
            order=r.order_name,
            category=r.base_category,
            reason=r.reason,
            standard_due_at=policy.due_at(r.standard_due_day),
            vendor_late=(today > r.vendor_due_day) if r.vendor_due_day is not None else None,
            vendor_due_at=policy.due_at(r.vendor_due_day) if r.vendor_due_day is not None else None,
        )
        for r in rows
    ]


# ---------------------------------------------------------------- discrepancies


def _missing_cutoff(as_of: datetime, policy: SlaPolicy) -> datetime:
    return as_of - timedelta(hours=policy.missing_after_hours)


def _stalled_cutoff(as_of: datetime, policy: SlaPolicy) -> datetime:
    return as_of - timedelta(days=policy.stalled_after_days)


def _discrepancy_query(code: str, as_of: datetime, policy: SlaPolicy) -> Select[Any]:
    if code == "missing_at_3pl":
        return (
            select(T_CLASS.c.order_id, T_CLASS.c.order_name, T_CLASS.c.missing_since.label("since"))
            # missing_since is only stored for open orders, so the missing_since index alone answers.
            .where(T_CLASS.c.missing_since < _missing_cutoff(as_of, policy))
            .order_by(T_CLASS.c.missing_since, T_CLASS.c.order_id)
        )
    if code == "stalled_in_transit":
        return (
            select(
                T_CLASS.c.order_id,
                T_CLASS.c.order_name,
                T_CLASS.c.stalled_since.label("since"),
                T_CLASS.c.stalled_tracking_code,
            )
            .where(T_CLASS.c.stalled_since < _stalled_cutoff(as_of, policy))
            .order_by(T_CLASS.c.stalled_since, T_CLASS.c.order_id)
        )
    return (
        select(T_DISC.c.order_id, T_ORDER.c.name.label("order_name"), T_DISC.c.detail)
        .join(T_ORDER, T_ORDER.c.id == T_DISC.c.order_id)
        .where(T_DISC.c.code == code)
        .order_by(T_DISC.c.order_id)
    )


def _discrepancy_count_query(code: str, as_of: datetime, policy: SlaPolicy) -> Select[Any]:
    """The same rows as `_discrepancy_query`, without the join that only names them (index-only count)."""
    if code in STATIC_CODES:
        return select(T_DISC.c.order_id).where(T_DISC.c.code == code)
    return _discrepancy_query(code, as_of, policy)


def _discrepancy_row(code: str, row: Any, as_of: datetime) -> DiscrepancyRow:
    if code == "missing_at_3pl":
        hours = (as_of - row.since).total_seconds() / 3600
        detail = f"No 3PL order {hours:.0f} h after the order was placed."
    elif code == "stalled_in_transit":
        days = (as_of - row.since).total_seconds() / 86400
        detail = f"No carrier scan for {row.stalled_tracking_code} in {days:.1f} days."
    else:
        detail = row.detail
    return DiscrepancyRow(order_id=row.order_id, order=row.order_name, code=code, detail=detail)


def discrepancies(
    conn: Connection,
    *,
    as_of: datetime,
    policy: SlaPolicy,
    codes: Sequence[str] | None = None,
    limit: int | None = None,
    offset: int = 0,
) -> list[DiscrepancyRow]:
    """SPEC §4 discrepancies at `as_of`, grouped by code in SPEC order, oldest first within a code."""
    chosen = [c for c in CODES if codes is None or c in codes]

    def part(code: str) -> Part:
        query = _discrepancy_query(code, as_of, policy)
        counted = _discrepancy_count_query(code, as_of, policy)
        return Part(
            lambda: _count(conn, counted),
            lambda lim, off: [_discrepancy_row(code, r, as_of) for r in conn.execute(_page(query, lim, off))],
        )

    return concat_pages([part(c) for c in chosen], limit, offset)


def discrepancy_counts(conn: Connection, *, as_of: datetime, policy: SlaPolicy) -> dict[str, int]:
    return {c: _count(conn, _discrepancy_count_query(c, as_of, policy)) for c in CODES}


def discrepancy_codes_for(
    conn: Connection, order_ids: Sequence[int], *, as_of: datetime, policy: SlaPolicy
) -> dict[int, tuple[str, ...]]:
    """The discrepancy codes of a few orders (a page of the queue), in SPEC order."""
    if not order_ids:
        return {}
    found: dict[int, set[str]] = {}
    for row in conn.execute(select(T_DISC.c.order_id, T_DISC.c.code).where(T_DISC.c.order_id.in_(order_ids))):
        found.setdefault(row.order_id, set()).add(row.code)
    timed = select(
        T_CLASS.c.order_id, T_CLASS.c.missing_since, T_CLASS.c.stalled_since, T_CLASS.c.base_category
    )
    for row in conn.execute(timed.where(T_CLASS.c.order_id.in_(order_ids))):
        if (
            row.base_category == OPEN
            and row.missing_since is not None
            and row.missing_since < _missing_cutoff(as_of, policy)
        ):
            found.setdefault(row.order_id, set()).add("missing_at_3pl")
        if row.stalled_since is not None and row.stalled_since < _stalled_cutoff(as_of, policy):
            found.setdefault(row.order_id, set()).add("stalled_in_transit")
    return {oid: tuple(c for c in CODES if c in codes) for oid, codes in found.items()}
