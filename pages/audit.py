"""Audit log (admin only): who did what, filtered and paginated, the hash chain checked, CSV export."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta

import streamlit as st

from services import audit, audit_search
from services.permissions import Permission, require
from ui import resources, tables
from ui.auth import current_actor
from ui.errors import shown_once
from ui.formatting import store_time

VERIFY_ON_RENDER = 10_000  # beyond this many entries the chain is checked on request, not on every render

actor, policy = current_actor(), resources.policy()
st.title("Audit log")
with shown_once():
    with resources.session() as session:
        require(session, actor, Permission.ADMINISTER, action="audit.view")
    with resources.session() as session:
        known_actions = audit_search.actions(session)
    who, what, outcome_column, order_column, days = st.columns([2, 2, 2, 2, 2])
    filters = {
        "actor": who.text_input("User", key="audit.actor", placeholder="part of a username").strip() or None,
        "action": what.selectbox(
            "Action", ["", *known_actions], key="audit.action", format_func=lambda v: v or "Any action"
        )
        or None,
        "outcome": outcome_column.selectbox(
            "Outcome", ["", *audit.Outcome], key="audit.outcome", format_func=lambda v: v or "Any outcome"
        )
        or None,
        "order": order_column.text_input("Order", key="audit.order", placeholder="2095 or #2095").strip()
        or None,
    }
    period = days.date_input("Days (store time)", value=(), key="audit.period", format="YYYY-MM-DD")
    if len(period) == 2:
        filters["since"] = datetime.combine(period[0], time(0), tzinfo=policy.tz).astimezone(UTC)
        filters["until"] = datetime.combine(
            period[1] + timedelta(days=1), time(0), tzinfo=policy.tz
        ).astimezone(UTC)

    chain = st.container()  # the chain's state, above the list
    with resources.session() as session:
        total_all = audit.count_entries(session)
        check_now = total_all <= VERIFY_ON_RENDER or chain.button("Verify the hash chain", key="audit.verify")
        report = audit.verify(session) if check_now else None
        total = audit_search.count(session, **filters)
        offset = tables.pager(total, key="audit.page")
        entries = audit_search.entries(session, limit=tables.PAGE_SIZE, offset=offset, **filters)
    if report is not None and report.ok:
        chain.success(f"Hash chain intact: {report.checked:,} entries checked.", icon=":material/verified:")
    elif report is not None:
        chain.error(
            f"Hash chain broken at entry {report.first_bad_id}: {report.reason}", icon=":material/gpp_bad:"
        )

    tables.download_button(
        "Export CSV",
        actor=actor,
        action="export.audit",
        file_name="audit-log.csv",
        key="audit.export",
        permission=Permission.ADMINISTER,
        write=lambda session, out: audit_search.export_csv(session, out, **filters),
    )
    if not entries:
        st.info("No audit entry matches these filters.", icon=":material/search_off:")
    else:
        st.caption("Newest first, as the database keeps them: every page follows that order.")
    tables.page_table(
        [
            {
                "id": e.id,
                "at": store_time(e.at, policy, seconds=True),
                "actor": e.actor,
                "role": e.role,
                "action": e.action,
                "order": e.order_name,
                "outcome": e.outcome,
                "details": e.detail or (audit.canonical_json(e.params) if e.params else ""),
            }
            for e in entries
        ],
        ("id", "at", "actor", "role", "action", "order", "outcome", "details"),
        links=("order",),
    )
