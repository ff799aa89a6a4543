"""Overdue queue: SLA breaches oldest first, a page at a time, with who is working each one."""

from __future__ import annotations

from typing import Any

import streamlit as st

from services import claims, queue
from services.permissions import Permission, allowed
from ui import bulk_job, resources, sync, tables
from ui import claims as ui_claims
from ui.auth import current_actor
from ui.errors import shown_once
from ui.formatting import store_time

OWNERS = {"anyone": "Anyone", "me": "Claimed by me", "unclaimed": "Unclaimed"}

actor, policy, as_of = current_actor(), resources.policy(), resources.as_of()
st.title("Overdue queue")
with shown_once():
    top_left, top_right = st.columns([4, 1], vertical_alignment="center")
    if allowed(actor.role, Permission.BULK_SYNC) and top_right.button(
        "Sync now", key="overdue.sync", icon=":material/sync:"
    ):
        sync.sync_sources(actor)
    with top_left:  # drawn after a sync, so it says what the sync just fetched
        sync.freshness_line()

    choices = resources.cached_filter_values()
    method_column, warehouse_column, owner_column = st.columns(3)
    method = method_column.selectbox(
        "Shipping method",
        ["", *choices["shipping_method"]],
        key="overdue.method",
        format_func=lambda v: v or "Any",
    )
    warehouse = warehouse_column.selectbox(
        "Warehouse", ["", *choices["warehouse"]], key="overdue.warehouse", format_func=lambda v: v or "Any"
    )
    owner = (
        owner_column.segmented_control(
            "Owner", list(OWNERS), format_func=OWNERS.get, key="overdue.owner", default="anyone"
        )
        or "anyone"
    )
    has_fix = st.toggle(
        "Has a fix", key="overdue.has_fix", help="Only orders with a discrepancy a guided fix mends"
    )
    scope: dict[str, Any] = {
        "as_of": as_of,
        "policy": policy,
        "owner": owner,
        "username": actor.username,
        "shipping_method": method or None,
        "warehouse": warehouse or None,
        "has_fix": has_fix,
    }

    sort_column, direction_column = st.columns([3, 1], vertical_alignment="bottom")
    order: dict[str, Any] = {
        "sort": sort_column.selectbox(
            "Sort by",
            queue.QUEUE_SORTS,
            key="overdue.sort",
            help="Sorted by the database, so every page of the queue follows it.",
        ),
        "descending": direction_column.toggle("Descending", key="overdue.descending"),
    }

    with resources.connect() as conn:
        total = queue.count_overdue(conn, **scope)
        st.metric("Overdue orders", f"{total:,}")
        offset = tables.pager(total, key="overdue.page")
        rows = queue.overdue_queue(conn, limit=tables.PAGE_SIZE, offset=offset, **scope, **order)
    # The orders of this page to act on (a new page, a new choice: the options are part of the widget).
    selected = st.multiselect(
        "Orders to act on",
        [r.order for r in rows],
        key="overdue.selected",
        placeholder="Choose orders of this page to claim, release or refresh",
    )
    actions = st.container(horizontal=True, vertical_alignment="center")
    if actions.button("Claim", key="overdue.claim", disabled=not selected, icon=":material/back_hand:"):
        ui_claims.claim(selected, actor)
    if actions.button(
        "Release", key="overdue.release", disabled=not selected, icon=":material/do_not_touch:"
    ):
        ui_claims.release(selected, actor)
    if allowed(actor.role, Permission.BULK_SYNC) and actions.button(
        "Refresh from all systems", key="overdue.refresh", disabled=not selected, icon=":material/sync:"
    ):
        sync.bulk_refresh(selected, actor)
    bulk_job.panel()
    with actions:
        tables.export_button(
            "Export CSV",
            actor=actor,
            action="export.overdue",
            file_name="overdue-queue.csv",
            key="overdue.export",
            rows=lambda conn: (
                r.as_dict()
                for r in tables.batches(
                    lambda c, limit, offset: queue.overdue_queue(
                        c, limit=limit, offset=offset, **scope, **order
                    ),
                    conn,
                )
            ),
        )

    with resources.connect() as conn:  # read after a claim or release, so the owners are current
        owners = claims.claims_for(conn, [r.order_id for r in rows])
    tables.page_table(
        [
            {
                "order": r.order,
                "due": store_time(r.due_at, policy),
                "business days late": r.business_days_late,
                "shipping method": r.shipping_method,
                "warehouse": r.warehouse,
                "carrier": r.carrier,
                "discrepancies": ", ".join(r.discrepancies),
                "owner": ui_claims.owner(owners, r.order_id),
            }
            for r in rows
        ],
        (
            "order",
            "due",
            "business days late",
            "shipping method",
            "warehouse",
            "carrier",
            "discrepancies",
            "owner",
        ),
        links=("order",),
    )
