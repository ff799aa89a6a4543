"""The overdue queue (SPEC §3): the open orders late at an as-of, its filters (shipping method,
warehouse, "has a fix", who claimed it), its sort orders and its rows with lateness and discrepancies.

Stored classifications carry due days; lateness is a comparison with the as-of's store day in SQL, so
any as-of answers at once, and a page is an index range scan with LIMIT.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any, Literal

from sqlalchemy import Select, exists, or_, select
from sqlalchemy.engine import Connection

from checks.categories import OPEN
from checks.discrepancies import missing_cutoff
from checks.policy import SlaPolicy
from services.claims import T_CLAIM
from services.paging import count_rows, page
from services.queries import FIXABLE_CODES, STATIC_CODES, discrepancy_codes_for
from services.store import T_CLASS, T_DAY_TOTAL, T_DISC

Owner = Literal["anyone", "me", "unclaimed"]


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


QUEUE_SORTS = ("due", "order", "warehouse", "shipping method", "carrier")


def has_fix_condition(as_of: datetime, policy: SlaPolicy) -> Any:
    """Orders showing a discrepancy a guided fix mends at `as_of` (a condition on `order_classification`)."""
    static = [c for c in FIXABLE_CODES if c in STATIC_CODES]
    stored = exists(
        select(T_DISC.c.order_id).where(T_DISC.c.order_id == T_CLASS.c.order_id, T_DISC.c.code.in_(static))
    )
    missing = (T_CLASS.c.base_category == OPEN) & (T_CLASS.c.missing_since < missing_cutoff(as_of, policy))
    return or_(stored, missing)


def owned_by(query: Select[Any], owner: Owner, username: str | None) -> Select[Any]:
    """`query` narrowed to the orders `username` claimed ("me") or nobody claimed ("unclaimed")."""
    if owner == "me":
        return query.where(
            T_CLASS.c.order_id.in_(select(T_CLAIM.c.order_id).where(T_CLAIM.c.username == username))
        )
    if owner == "unclaimed":
        return query.where(T_CLASS.c.order_id.not_in(select(T_CLAIM.c.order_id)))
    return query


def queue_query(
    as_of: datetime,
    policy: SlaPolicy,
    shipping_method: str | None = None,
    warehouse: str | None = None,
    sort: str = "due",
    descending: bool = False,
    has_fix: bool = False,
    owner: Owner = "anyone",
    username: str | None = None,
) -> Select[Any]:
    """The queue's rows of `order_classification`, filtered and in the order asked (every page follows
    it): open orders whose due day is before the as-of's store day."""
    c = T_CLASS.c
    query = select(T_CLASS).where(c.base_category == OPEN, c.due_day < policy.local_date(as_of))
    query = owned_by(query, owner, username)
    if has_fix:
        query = query.where(has_fix_condition(as_of, policy))
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
    owner: Owner = "anyone",
    username: str | None = None,
) -> list[QueueRow]:
    """SPEC §3 overdue queue: category `overdue` at `as_of`, oldest due day first (or by `sort`, in the
    query, so every page follows it; `has_fix`: only orders with a discrepancy a guided fix mends;
    `owner`: only `username`'s claims, or only unclaimed orders)."""
    query = queue_query(
        as_of,
        policy,
        shipping_method,
        warehouse,
        sort=sort,
        descending=descending,
        has_fix=has_fix,
        owner=owner,
        username=username,
    )
    rows = conn.execute(page(query, limit, offset)).all()
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
            by_day[r.due_day] = (policy.due_at(r.due_day), policy.business_days_between(r.due_day, today))
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
    owner: Owner = "anyone",
    username: str | None = None,
) -> int:
    query = queue_query(
        as_of, policy, shipping_method, warehouse, has_fix=has_fix, owner=owner, username=username
    )
    return count_rows(conn, query)


def queue_filter_values(conn: Connection) -> dict[str, list[str]]:
    """The shipping methods and warehouses of open orders: the choices of the queue's filters.

    Read from the per-day totals (`sla_day_total`), which count every open order by both: a few thousand
    rows rather than every open order (a third of a second at a million orders)."""
    values: dict[str, list[str]] = {}
    d = T_DAY_TOTAL.c
    for key, column in (("shipping_method", d.shipping_method), ("warehouse", d.warehouse_name)):
        query = select(column).where(d.base_category == OPEN, d.orders > 0, column != "").distinct()
        values[key] = sorted(conn.scalars(query))
    return values
