"""One order from all three systems (lookup), and finding orders by what an agent has in hand."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.engine import Connection

from checks.categories import category_at, classify, is_informational_at, vendor_late_at
from checks.discrepancies import discrepancies_at
from checks.model import InventoryItem, OrderView
from checks.policy import SlaPolicy
from checks.results import CheckResult
from checks.validations import CheckContext, ResendItem, run_checks
from services import store
from services.lookup.detail import OrderDetail
from services.lookup.search import SearchHit, search_orders

__all__ = ["SearchHit", "normalize_name", "order_detail", "search_orders"]
from services.store import T_ORDER, T_TRACKER, T_WAREHOUSE


def normalize_name(text: str) -> str:
    """'1002', '#1002' and ' #1002 ' all name order #1002."""
    text = text.strip()
    return text if text.startswith("#") else f"#{text}"


def find_order_id(conn: Connection, name: str) -> int | None:
    return conn.scalar(select(T_ORDER.c.id).where(T_ORDER.c.name == normalize_name(name)))


def sources_as_of(conn: Connection, view: OrderView) -> dict[str, datetime | None]:
    """When each system's data about this order was last fetched."""
    store_at = conn.scalar(select(T_ORDER.c.synced_at).where(T_ORDER.c.id == view.store.id))
    warehouse_at = (
        conn.scalar(select(T_WAREHOUSE.c.synced_at).where(T_WAREHOUSE.c.id == view.warehouse.id))
        if view.warehouse
        else None
    )
    carrier_at = None
    if view.trackers:
        carrier_at = conn.scalar(
            select(func.min(T_TRACKER.c.synced_at)).where(T_TRACKER.c.id.in_([t.id for t in view.trackers]))
        )
    return {"store": store_at, "3pl": warehouse_at, "carrier": carrier_at}


def console_replacement_count(conn: Connection, order_id: int) -> int:
    """Replacements the console recorded for the order (pending or created)."""
    # Imported here: services.replacements builds on this module.
    from services.replacements.records import recorded_replacements

    return int(recorded_replacements(conn, order_id))


def order_detail(
    conn: Connection,
    *,
    name: str,
    as_of: datetime,
    policy: SlaPolicy,
    inventory: dict[str, InventoryItem] | None = None,
    items: tuple[ResendItem, ...] | None = None,
) -> OrderDetail | None:
    """Everything the lookup page shows about one order, or None when the store has no such order.

    `inventory` is the 3PL inventory to check against; None reads the stored inventory.
    """
    order_id = find_order_id(conn, name)
    if order_id is None:
        return None
    views = store.load_views(conn, [order_id])
    if not views:
        return None
    view = views[0]
    return detail_from_view(conn, view, as_of=as_of, policy=policy, inventory=inventory, items=items)


def detail_from_view(
    conn: Connection,
    view: OrderView,
    *,
    as_of: datetime,
    policy: SlaPolicy,
    inventory: dict[str, InventoryItem] | None = None,
    items: tuple[ResendItem, ...] | None = None,
) -> OrderDetail:
    skus = {li.sku for li in view.store.line_items if li.sku}
    if inventory is None:
        inventory = store.load_inventory(conn, skus)
    checks = run_checks(
        CheckContext(
            order_name=view.store.name,
            view=view,
            policy=policy,
            inventory=inventory,
            items=items,
            console_replacements=console_replacement_count(conn, view.store.id),
        )
    )
    return detail_at(view, checks=checks, as_of=as_of, policy=policy, sources_as_of=sources_as_of(conn, view))


def detail_at(
    view: OrderView,
    *,
    checks: tuple[CheckResult, ...],
    as_of: datetime,
    policy: SlaPolicy,
    sources_as_of: dict[str, datetime | None],
) -> OrderDetail:
    """The rules' answers for one order at `as_of` (classification, category, deadline, discrepancies),
    around the checks already run and the sources' times: no database."""
    classification = classify(view, policy)
    return OrderDetail(
        view=view,
        classification=classification,
        category=category_at(classification, as_of, policy),
        due_at=policy.due_at(classification.due_day),
        discrepancies=discrepancies_at(view, classification, as_of, policy),
        checks=checks,
        as_of=as_of,
        policy=policy,
        sources_as_of=sources_as_of,
        informational=is_informational_at(classification, as_of, policy),
        vendor_late=vendor_late_at(classification, as_of, policy),
    )


def missing_order_checks(name: str, policy: SlaPolicy) -> tuple[Any, ...]:
    """The check results for an order the store does not have: order.exists blocked, nothing else."""
    return run_checks(CheckContext(order_name=normalize_name(name), view=None, policy=policy, inventory={}))
