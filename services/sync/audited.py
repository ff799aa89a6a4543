"""Syncs that someone starts: the console's buttons and `order-recon sync` call these, never the
engine directly, so every caller passes the same permission check (the stored role; SPEC §7) and leaves
the same audit entries. Webhooks and the demo's start-up sync are the system's own work and call the
engine.

- `refresh_order_as`: one order from some sources (`lookup`: every role may).
- `sync_all_as`: a sync of whole sources (`bulk_sync`: ops and admin); one `sync.source` entry per
  source that ran. A source whose sync is already running elsewhere is reported, not audited: nothing
  was done.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from datetime import datetime

from sqlalchemy.engine import Engine

from checks.policy import SlaPolicy
from db.session import session_scope
from services import audit
from services.errors import OrderReconError
from services.permissions import Actor, Permission, audit_as, require
from services.settings import Settings
from services.sync.engine import SyncProgress, busy_message, sync_all
from services.sync.refresh import RefreshResult, refresh_order
from services.sync.runs import SOURCES, SyncRunResult


def _record(engine: Engine, actor: Actor, action: str, ok: bool, at: datetime, **fields: object) -> None:
    order = fields.pop("order", None)
    with session_scope(engine) as session:
        audit_as(
            session,
            actor,
            action=action,
            outcome=audit.Outcome.OK if ok else audit.Outcome.FAILED,
            order=str(order) if order is not None else None,
            params=fields,
            at=at,
        )


def refresh_order_as(
    engine: Engine,
    settings: Settings,
    policy: SlaPolicy,
    actor: Actor,
    name: str,
    *,
    sources: Sequence[str],
    now: datetime,
) -> RefreshResult:
    """Refresh `name` from `sources` for `actor`; audited as `sync.order` however it ends."""
    with session_scope(engine) as session:
        require(session, actor, Permission.LOOKUP, action="sync.order", order=name, clock=lambda: now)
    try:
        result = refresh_order(engine, settings, policy, name, sources=tuple(sources), now=now)
    except OrderReconError as exc:
        _record(engine, actor, "sync.order", False, now, order=name, sources=list(sources), error=str(exc))
        raise
    failed = [source for source, report in result.sources.items() if not report.ok]
    _record(
        engine, actor, "sync.order", result.ok, now, order=result.name, sources=list(sources), failed=failed
    )
    return result


def sync_all_as(
    engine: Engine,
    settings: Settings,
    policy: SlaPolicy,
    actor: Actor,
    *,
    sources: Iterable[str] = SOURCES,
    full: bool = False,
    now: datetime,
    progress: Callable[[SyncProgress], None] | None = None,
) -> dict[str, SyncRunResult]:
    """Sync `sources` in order for `actor` (`bulk_sync`); each source that ran is audited as `sync.source`."""
    chosen = list(sources)
    with session_scope(engine) as session:
        require(
            session,
            actor,
            Permission.BULK_SYNC,
            action="sync.all",
            params={"sources": chosen},
            clock=lambda: now,
        )
    results = sync_all(engine, settings, policy, sources=chosen, full=full, now=now, progress=progress)
    for source, result in results.items():
        if result.error == busy_message(source):
            continue
        _record(
            engine,
            actor,
            "sync.source",
            result.ok,
            now,
            source=source,
            mode=result.mode,
            records=result.records,
            error=result.error,
        )
    return results
