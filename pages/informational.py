"""Informational view: orders a naive dashboard would flag as late, kept out of the queue, and why."""

from __future__ import annotations

import streamlit as st

from services import queries
from ui import resources, tables
from ui.auth import current_actor
from ui.errors import shown_once
from ui.formatting import local_times, store_time

LABELS = {
    "cancelled": "Cancelled",
    "refunded": "Refunded",
    "third_party_vendor": "Third-party vendor",
    "awaiting_payment": "Awaiting payment",
    "sync_delay": "Sync delay",
    "on_hold": "On hold",
}

SORTS = ("category", "standard deadline", "order")

actor, policy, as_of = current_actor(), resources.policy(), resources.as_of()
st.title("Informational view")
st.caption(
    "Unshipped-looking orders past the standard deadline that are not SLA breaches: each row says why."
)
with shown_once():
    with resources.connect() as conn:
        counts = queries.informational_counts(conn, as_of=as_of, policy=policy)
    st.metric("False alarms kept out of the queue", f"{sum(counts.values()):,}")
    for column, (category, count) in zip(st.columns(len(counts)), counts.items(), strict=True):
        column.metric(LABELS.get(category, category), f"{count:,}")

    chosen = st.multiselect(
        "Categories",
        list(counts),
        default=list(counts),
        format_func=LABELS.get,
        key="informational.categories",
    )
    sort_column, order_column = st.columns([3, 1], vertical_alignment="bottom")
    sort = sort_column.selectbox(
        "Sort by",
        SORTS,
        key="informational.sort",
        help="Sorted by the database, so every page of the list follows it.",
    )
    descending = order_column.toggle(
        "Descending", key="informational.descending", disabled=sort == "category"
    )
    scope = {
        "as_of": as_of,
        "policy": policy,
        "categories": chosen,
        "sort": sort,
        "descending": descending,
    }
    tables.export_button(
        "Export CSV",
        actor=actor,
        action="export.informational",
        file_name="informational.csv",
        key="informational.export",
        rows=lambda conn: (
            r.as_dict()
            for r in tables.batches(
                lambda c, limit, offset: queries.informational_view(c, limit=limit, offset=offset, **scope),
                conn,
            )
        ),
    )

    total = sum(counts[c] for c in chosen)
    offset = tables.pager(total, key="informational.page")
    with resources.connect() as conn:
        rows = queries.informational_view(conn, limit=tables.PAGE_SIZE, offset=offset, **scope)
    tables.page_table(
        [
            {
                "order": r.order,
                "category": LABELS.get(r.category, r.category),
                "why": local_times(r.reason, policy),
                "standard deadline": store_time(r.standard_due_at, policy),
                "vendor deadline": store_time(r.vendor_due_at, policy) if r.vendor_due_at else "",
                "vendor late": {True: "yes", False: "no", None: ""}[r.vendor_late],
            }
            for r in rows
        ],
        ("order", "category", "why", "standard deadline", "vendor deadline", "vendor late"),
        links=("order",),
    )
