"""What a channel has not been told yet: orders that entered the overdue queue, and new discrepancy rows.

The queries are the queue's and the discrepancies' own (`services.queue`, `services.queries`), each narrowed by an
anti-join on `alert_announcement`, so a run reads only what is new for that channel. Orders in the
informational view are never alerted (SPEC §9): the queue holds none by construction, and discrepancy
rows of such orders are left out here.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy import Select, Table, and_, exists, not_, or_, select
from sqlalchemy.engine import Connection

from checks.categories import INFORMATIONAL
from checks.discrepancies import CODES
from checks.policy import SlaPolicy
from db.models.alerts import AlertAnnouncement
from db.models.claims import OrderClaim
from services.queries import discrepancy_query, discrepancy_row
from services.queue import queue_query
from services.store import T_CLASS

T_ANNOUNCED: Table = AlertAnnouncement.__table__  # type: ignore[attr-defined]
T_CLAIM: Table = OrderClaim.__table__  # type: ignore[attr-defined]
OVERDUE = "overdue"  # the announcement kind of a breach; a discrepancy's kind is its code
KINDS = (OVERDUE, *CODES)


@dataclass(frozen=True)
class Item:
    """One thing to announce: an order's breach, or one of its discrepancies."""

    kind: str
    order_id: int
    order: str
    due_day: date | None
    detail: str = ""

    @property
    def sort_key(self) -> tuple[date, str, int, int]:
        return (self.due_day or date.max, self.order, self.order_id, KINDS.index(self.kind))


def _not_announced(channel: str, kind: str, order_id: Any) -> Any:
    return ~exists(
        select(T_ANNOUNCED.c.order_id).where(
            T_ANNOUNCED.c.channel == channel,
            T_ANNOUNCED.c.kind == kind,
            T_ANNOUNCED.c.order_id == order_id,
        )
    )


def _claimed_by(order_id: Any, owner: str) -> Any:
    return order_id.in_(select(T_CLAIM.c.order_id).where(T_CLAIM.c.username == owner))


def new_breaches(
    conn: Connection, *, channel: str, as_of: datetime, policy: SlaPolicy, owner: str | None = None
) -> list[Item]:
    """Orders in the overdue queue at `as_of` that `channel` has not been told of, oldest due first."""
    c = T_CLASS.c
    query = (
        queue_query(as_of, policy, None, None)
        .with_only_columns(c.order_id, c.order_name, c.due_day, c.warehouse_name, c.shipping_method)
        .where(_not_announced(channel, OVERDUE, c.order_id))
    )
    if owner is not None:
        query = query.where(_claimed_by(c.order_id, owner))
    today = policy.local_date(as_of)
    late_by: dict[date, int] = {}  # many orders share a due day
    items = []
    for row in conn.execute(query):
        if row.due_day not in late_by:
            late_by[row.due_day] = policy.business_days_between(row.due_day, today)
        where = " · ".join(v for v in (row.warehouse_name, row.shipping_method) if v)
        days = late_by[row.due_day]
        detail = f"{days} business day{'s' if days != 1 else ''} late" + (f" · {where}" if where else "")
        items.append(Item(OVERDUE, row.order_id, row.order_name, row.due_day, detail))
    return items


def _informational(info: Any, today: date) -> Any:
    return and_(
        info.c.base_category.in_(sorted(INFORMATIONAL)),
        info.c.looks_unshipped.is_(True),
        info.c.standard_due_day < today,
    )


def _new_discrepancy_query(
    code: str, channel: str, as_of: datetime, policy: SlaPolicy, owner: str | None
) -> Select[Any]:
    rows = discrepancy_query(code, as_of, policy).order_by(None).subquery()
    info = T_CLASS.alias("info")
    query = (
        select(rows, info.c.due_day.label("class_due_day"))
        .select_from(rows.outerjoin(info, info.c.order_id == rows.c.order_id))
        .where(
            _not_announced(channel, code, rows.c.order_id),
            or_(info.c.order_id.is_(None), not_(_informational(info, policy.local_date(as_of)))),
        )
    )
    if owner is not None:
        query = query.where(_claimed_by(rows.c.order_id, owner))
    return query


def new_discrepancies(
    conn: Connection, *, channel: str, as_of: datetime, policy: SlaPolicy, owner: str | None = None
) -> list[Item]:
    """Discrepancy rows at `as_of` that `channel` has not been told of, orders in the informational view left out."""
    items = []
    for code in CODES:
        for row in conn.execute(_new_discrepancy_query(code, channel, as_of, policy, owner)):
            found = discrepancy_row(code, row, as_of)
            items.append(Item(code, found.order_id, found.order, row.class_due_day, found.detail))
    return items


def new_items(
    conn: Connection, *, channel: str, as_of: datetime, policy: SlaPolicy, owner: str | None = None
) -> list[Item]:
    """Everything new for `channel` (only `owner`'s claims when given), oldest due first."""
    found = new_breaches(conn, channel=channel, as_of=as_of, policy=policy, owner=owner)
    found += new_discrepancies(conn, channel=channel, as_of=as_of, policy=policy, owner=owner)
    return sorted(found, key=lambda item: item.sort_key)


def owners_of(conn: Connection, order_ids: Sequence[int]) -> dict[int, str]:
    """The claimant of each of a few orders (those shown in a digest)."""
    if not order_ids:
        return {}
    rows = conn.execute(
        select(T_CLAIM.c.order_id, T_CLAIM.c.username).where(T_CLAIM.c.order_id.in_(list(order_ids)))
    )
    return {r.order_id: r.username for r in rows}
