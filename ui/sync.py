"""Refreshing data from the sources with progress on the page; the work is `services.sync`'s."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

import streamlit as st

from services import sync, webhooks
from services.errors import OrderReconError
from services.permissions import Actor
from ui import bulk_job, resources
from ui.formatting import ago, store_time

LABELS = {
    "shopify": "store",
    "shipbob": "3PL",
    "easypost": "carrier",
    "store": "store",
    "3pl": "3PL",
    "carrier": "carrier",
}


def refresh_order(name: str, sources: Sequence[str], actor: Actor) -> None:
    """Fetch one order again from `sources` (everyone may: SPEC §7 per-order sync); says what changed."""
    words = ", ".join(LABELS[s] for s in sources)
    with st.status(f"Refreshing {name} from {words}…", expanded=False) as status:
        try:  # checked against the stored role and audited by the service, however it ends
            result = sync.refresh_order_as(
                resources.engine(),
                resources.settings(),
                resources.policy(),
                actor,
                name,
                sources=sources,
                now=datetime.now(UTC),
            )
        except OrderReconError as exc:  # shown here, once; the stored view of the order still renders below
            status.update(label=f"Could not refresh {name}: {exc}", state="error")
            return
        for source, report in result.sources.items():
            if not report.ok:
                st.markdown(f"⛔ {LABELS[source]}: {report.error}")
            else:
                st.markdown(
                    f"✅ {LABELS[source]}: {report.detail or ('changed' if report.changed else 'no change')}"
                )
        if result.category_before != result.category_after:
            st.markdown(f"Category: {result.category_before} → **{result.category_after}**")
        label = f"{name} refreshed from {words}" + ("" if result.changed else " (no change)")
        status.update(
            label=label if result.ok else f"{name}: some sources failed",
            expanded=not result.ok,
            state="complete" if result.ok else "error",
        )


def bulk_refresh(names: Sequence[str], actor: Actor) -> None:
    """Refresh several orders from every source (`bulk_sync`: ops and admin) beside the page."""
    bulk_job.start(names, actor)


def sync_sources(actor: Actor) -> None:
    """An incremental sync of every source (`bulk_sync`), one status line per source."""
    for source in sync.SYNC_ORDER:
        with st.status(f"Syncing {LABELS[source]}…", expanded=False) as status:

            def progress(step: sync.SyncProgress, _status: Any = status) -> None:
                _status.update(label=f"Syncing {LABELS[step.source]}… {step.records:,} {step.kind} records")

            result = sync.sync_all_as(
                resources.engine(),
                resources.settings(),
                resources.policy(),
                actor,
                sources=[source],
                now=datetime.now(UTC),
                progress=progress,
            )[source]
            if result.error == sync.busy_message(source):  # a cron or another person's sync: not a failure
                status.update(label=sync.busy_message(LABELS[source]), state="complete")
            elif result.ok:
                status.update(label=f"{LABELS[source]}: {result.records:,} records", state="complete")
            else:
                status.update(label=f"{LABELS[source]} failed: {result.error}", state="error")


def freshness_line() -> None:
    """When each source's data is complete as of: `store 3 min ago · 3PL 3 min ago · carrier never`."""
    now, policy = datetime.now(UTC), resources.policy()
    with resources.connect() as conn:
        when = sync.freshness(conn)
        hooks = webhooks.last_events(conn)
    parts = [f"{LABELS[s]} **{ago(when.get(s), now)}**" for s in sync.SOURCES]
    latest = [m for m in when.values() if m is not None]
    # Webhooks keep orders current between syncs: when each source's last one arrived.
    pushed = [f"{LABELS[s]} {ago(hooks[s], now)}" for s in sync.SOURCES if hooks.get(s) is not None]
    st.caption(
        "Data as of: "
        + " · ".join(parts)
        + (f" (latest {store_time(max(latest), policy)})" if latest else "")
        + (f" · Last webhook: {' · '.join(pushed)}" if pushed else "")
    )
