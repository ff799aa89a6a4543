"""Refreshing data from the sources with progress on the page; the work is `services.sync`'s."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

import streamlit as st

from services import audit, sync, webhooks
from services.errors import ConflictError, OrderReconError
from services.permissions import Actor, Permission, require
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


def _refresh(name: str, sources: Sequence[str]) -> sync.RefreshResult:
    return sync.refresh_order(
        resources.engine(),
        resources.settings(),
        resources.policy(),
        name,
        sources=tuple(sources),
        now=datetime.now(UTC),
    )


def _audit_sync(actor: Actor, action: str, outcome: str, *, order: str | None = None, **params: Any) -> None:
    """Every sync a person starts is in the audit log, with what it asked and how it ended."""
    with resources.session() as session:
        audit.append(
            session,
            actor=actor.username,
            role=actor.role,
            action=action,
            outcome=outcome,
            order=order,
            params=params,
            at=datetime.now(UTC),
        )


def refresh_order(name: str, sources: Sequence[str], actor: Actor) -> None:
    """Fetch one order again from `sources` (everyone may: SPEC §7 per-order sync); says what changed."""
    words = ", ".join(LABELS[s] for s in sources)
    with st.status(f"Refreshing {name} from {words}…", expanded=False) as status:
        try:
            with resources.session() as session:  # the stored role, not the one the page holds
                require(session, actor, Permission.LOOKUP, action="sync.order", order=name)
            result = _refresh(name, sources)
        except OrderReconError as exc:  # shown here, once; the stored view of the order still renders below
            _audit_sync(
                actor, "sync.order", audit.Outcome.FAILED, order=name, sources=list(sources), error=str(exc)
            )
            status.update(label=f"Could not refresh {name}: {exc}", state="error")
            return
        _audit_sync(
            actor,
            "sync.order",
            audit.Outcome.OK if result.ok else audit.Outcome.FAILED,
            order=name,
            sources=list(sources),
            failed=[s for s, r in result.sources.items() if not r.ok],
        )
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
    now = datetime.now(UTC)
    with resources.session() as session:
        require(session, actor, Permission.BULK_SYNC, action="sync.all", clock=lambda: now)
    for source in sync.SYNC_ORDER:
        with st.status(f"Syncing {LABELS[source]}…", expanded=False) as status:

            def progress(step: sync.SyncProgress, _status: Any = status) -> None:
                _status.update(label=f"Syncing {LABELS[step.source]}… {step.records:,} {step.kind} records")

            try:
                result = sync.sync_source(
                    resources.engine(),
                    resources.settings(),
                    resources.policy(),
                    source,
                    now=datetime.now(UTC),
                    progress=progress,
                )
            except ConflictError:  # a cron or another person's sync of it is running: not a failure
                status.update(label=sync.busy_message(LABELS[source]), state="complete")
                continue
            _audit_sync(
                actor,
                "sync.source",
                audit.Outcome.OK if result.ok else audit.Outcome.FAILED,
                source=source,
                records=result.records,
                error=result.error,
            )
            if result.ok:
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
