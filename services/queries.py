"""The informational view and the discrepancies at any as-of (SPEC §3, §4); the overdue queue is
`services.queue`.

Stored classifications carry dates; lateness is a comparison with the as-of in SQL, so any as-of
answers at once. Each list is a concatenation of index-ordered parts (one per category or code),
so a page costs an index range scan with LIMIT, not a sort of the whole table.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy import Select, select
from sqlalchemy.engine import Connection

from checks.categories import INFORMATIONAL, OPEN
from checks.discrepancies import (
    CODES,
    missing_at_3pl_detail,
    missing_cutoff,
    stalled_cutoff,
    stalled_detail,
)
from checks.policy import SlaPolicy
from services.paging import Part, concat_pages, count_rows, page
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
        c: count_rows(conn, _informational_query(c, as_of, policy, due_from, due_to))
        for c in INFORMATIONAL_ORDER
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
        return Part(
            lambda: count_rows(conn, query), lambda lim, off: list(conn.execute(page(query, lim, off)))
        )

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
        rows = list(conn.execute(page(query, limit, offset)))
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


def discrepancy_query(code: str, as_of: datetime, policy: SlaPolicy) -> Select[Any]:
    if code == "missing_at_3pl":
        return (
            select(T_CLASS.c.order_id, T_CLASS.c.order_name, T_CLASS.c.missing_since.label("since"))
            # missing_since is only stored for open orders, so the missing_since index alone answers.
            .where(T_CLASS.c.missing_since < missing_cutoff(as_of, policy))
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
            .where(T_CLASS.c.stalled_since < stalled_cutoff(as_of, policy))
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
    return discrepancy_query(code, as_of, policy)


def discrepancy_row(code: str, row: Any, as_of: datetime) -> DiscrepancyRow:
    if code == "missing_at_3pl":
        detail = missing_at_3pl_detail(row.since, as_of)
    elif code == "stalled_in_transit":
        detail = stalled_detail(row.stalled_tracking_code, row.since, as_of)
    else:  # stored by the rules when the order was classified
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
        query = discrepancy_query(code, as_of, policy)
        counted = _discrepancy_count_query(code, as_of, policy)
        return Part(
            lambda: count_rows(conn, counted),
            lambda lim, off: [discrepancy_row(code, r, as_of) for r in conn.execute(page(query, lim, off))],
        )

    return concat_pages([part(c) for c in chosen], limit, offset)


def discrepancy_counts(conn: Connection, *, as_of: datetime, policy: SlaPolicy) -> dict[str, int]:
    return {c: count_rows(conn, _discrepancy_count_query(c, as_of, policy)) for c in CODES}


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
            and row.missing_since < missing_cutoff(as_of, policy)
        ):
            found.setdefault(row.order_id, set()).add("missing_at_3pl")
        if row.stalled_since is not None and row.stalled_since < stalled_cutoff(as_of, policy):
            found.setdefault(row.order_id, set()).add("stalled_in_transit")
    return {oid: tuple(c for c in CODES if c in codes) for oid, codes in found.items()}
