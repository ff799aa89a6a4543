"""Apply stored webhook events: keep the newest of each record, write them and reclassify the orders they
touch, in one transaction per batch; or refresh an order from its source where the payload cannot say
enough (`services.webhooks.readers` reads the payloads).

Newest wins (SPEC §1): a record whose own update time (`updated_at`; for a 3PL order, the latest
`last_update_at` of the order and its shipments) is older than the stored one's is not written, nor one
whose time equals the stored one's when an event about the same record triggered later was applied
already; within a batch, only the newest event of a record is written. Either way each event counts as
applied, with what happened in its `outcome`.

Failures: a wrong payload fails its event for good (`last_error` says why, and the log); anything else
(the order not stored yet, a source or the database away) is retried with backoff, up to MAX_ATTEMPTS.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.engine import Connection, Engine

from checks.model import StoreOrder, Tracker, WarehouseOrder
from checks.policy import SlaPolicy
from services.errors import ConfigurationError, OrderReconError
from services.settings import Settings
from services.store import T_ORDER, T_SHIPMENT, T_TRACKER, T_WAREHOUSE
from services.webhooks import events
from services.webhooks.events import StoredEvent
from services.webhooks.readers import REFUSALS, Refresh, Write, read_event
from services.write_lock import write_lock

log = logging.getLogger("order_recon.webhooks")
MAX_ATTEMPTS = 12  # then a failing event waits for the catch-up sync instead
REFUSED: tuple[type[Exception], ...] = (*REFUSALS, ConfigurationError)  # never worth another attempt
STORED_TIME = {
    "store": (T_ORDER.c.updated_at, T_ORDER.c.id),
    "carrier": (T_TRACKER.c.updated_at, T_TRACKER.c.id),
}


def write_records(
    conn: Connection,
    policy: SlaPolicy,
    now: datetime,
    *,
    store_orders: Sequence[StoreOrder] = (),
    warehouse_orders: Sequence[WarehouseOrder] = (),
    trackers: Sequence[Tracker] = (),
) -> int:
    """Write these records and reclassify the orders they touch, in the caller's transaction, through the
    one write path every writer uses (`services.sync.apply`); returns how many orders were reclassified.
    (The one place the receiver writes source data.)"""
    from services.sync.apply import apply_records  # imported here: it loads the connectors

    touched = apply_records(
        conn, policy, now, store_orders=store_orders, warehouse_orders=warehouse_orders, trackers=trackers
    )
    return len(touched)


def apply_batch(
    engine: Engine, row_ids: Sequence[int], settings: Settings, policy: SlaPolicy, now: datetime
) -> int:
    """Apply these events (those still due) in one transaction; events that need a refresh, and every
    event of a batch whose transaction failed, go one at a time through `apply_event`. Returns how many
    were applied."""
    refreshes: list[int] = []
    try:
        with events.writing(engine) as conn:
            applied, refreshes = _apply_in(conn, row_ids, policy, now)
    except Exception:  # the database refused the batch: find the culprit one event at a time
        log.exception("a batch of %d webhook events failed; applying them one by one", len(row_ids))
        refreshes, applied = list(row_ids), 0
    for row_id in refreshes:
        applied += apply_event(engine, row_id, settings, policy, now) is not None
    return applied


def _apply_in(
    conn: Connection, row_ids: Sequence[int], policy: SlaPolicy, now: datetime
) -> tuple[int, list[int]]:
    newest: dict[tuple[str, int | str], tuple[Write, StoredEvent]] = {}
    outcomes: list[tuple[StoredEvent, str]] = []
    refreshes: list[int] = []
    write_lock(conn)  # first, as every writer of source data does (services.sync.apply)
    for row_id in row_ids:
        event = events.claim_event(conn, row_id, now=now)
        if event is None:
            continue
        try:
            plan = read_event(conn, event)
        except REFUSALS as exc:
            _fail(conn, event, f"refused: {exc}", now, retry=False)
            continue
        except OrderReconError as exc:
            _fail(conn, event, str(exc), now, retry=event.attempts + 1 < MAX_ATTEMPTS)
            continue
        if isinstance(plan, Refresh):
            refreshes.append(row_id)
            continue
        key = (plan.kind, plan.ident)
        prior = newest.get(key)
        if prior is not None and _later(prior, (plan, event)):
            outcomes.append((event, f"superseded by a newer event of {plan.describe()}"))
            continue
        if prior is not None:
            outcomes.append((prior[1], f"superseded by a newer event of {plan.describe()}"))
        newest[key] = (plan, event)
    written: dict[str, list[Write]] = {"store": [], "3pl": [], "carrier": []}
    for plan, event in newest.values():
        if _older_than_stored(conn, plan, event):
            outcomes.append((event, f"kept the stored {plan.describe()}: this one is older"))
        else:
            written[plan.kind].append(plan)
            outcomes.append((event, f"wrote {plan.describe()}"))
    write_records(
        conn,
        policy,
        now,
        store_orders=[w.record for w in written["store"]],  # type: ignore[misc]
        warehouse_orders=[w.record for w in written["3pl"]],  # type: ignore[misc]
        trackers=[w.record for w in written["carrier"]],  # type: ignore[misc]
    )
    events.mark_all_applied(conn, outcomes, now=now)
    return len(outcomes), refreshes


def _later(a: tuple[Write, StoredEvent], b: tuple[Write, StoredEvent]) -> bool:
    """Whether `a` is newer than `b` (two events of one record): by the record's own time (none: newest),
    then by when the source says the change happened, then by arrival."""

    def rank(item: tuple[Write, StoredEvent]) -> tuple[bool, datetime | None, datetime, int]:
        plan, event = item
        return (plan.updated is None, plan.updated, event.occurred_at, event.id)

    ra, rb = rank(a), rank(b)
    if ra[0] != rb[0]:
        return ra[0]
    if ra[1] is not None and rb[1] is not None and ra[1] != rb[1]:
        return ra[1] > rb[1]
    return ra[2:] > rb[2:]


def _older_than_stored(conn: Connection, plan: Write, event: StoredEvent) -> bool:
    if plan.updated is None:  # a record without an update time replaces the stored one
        return False
    stored = _stored_time(conn, plan)
    if stored is None:
        return False
    if plan.updated != stored:
        return plan.updated < stored
    return events.newer_applied(conn, event)


def _stored_time(conn: Connection, plan: Write) -> datetime | None:
    """The stored record's update time, read as `readers` reads the incoming one's."""
    if plan.kind != "3pl":
        column, key = STORED_TIME[plan.kind]
        return conn.scalar(select(column).where(key == plan.ident))
    own = conn.scalar(select(T_WAREHOUSE.c.last_update_at).where(T_WAREHOUSE.c.id == plan.ident))
    shipments = conn.scalar(
        select(func.max(T_SHIPMENT.c.last_update_at)).where(T_SHIPMENT.c.warehouse_order_id == plan.ident)
    )
    times = [t for t in (own, shipments) if t is not None]
    return max(times) if times else None


def apply_event(
    engine: Engine, row_id: int, settings: Settings, policy: SlaPolicy, now: datetime
) -> str | None:
    """Apply one event if it is still due; returns what was done (None: not due, taken by another worker,
    or failed: the failure is recorded on the event, not raised)."""
    event: StoredEvent | None = None
    try:
        with events.writing(engine) as conn:
            write_lock(conn)  # before the claim: the lock order of every writer (services.sync.apply)
            event = events.claim_event(conn, row_id, now=now)
            if event is None:
                return None
            plan = read_event(conn, event)
            if isinstance(plan, Write):
                applied, _ = _apply_in(conn, [row_id], policy, now)
                return f"applied {plan.describe()}" if applied else None
        # A refresh asks the source over HTTP and writes in its own transactions: never inside ours.
        from services.sync import refresh_order  # imported here: the sync package is heavy to load

        result = refresh_order(engine, settings, policy, plan.name, sources=plan.sources, now=now)
        failed = [f"{s.source}: {s.error}" for s in result.sources.values() if not s.ok]
        if failed:
            raise RefreshFailed("; ".join(failed))
        outcome = f"refreshed {plan.name} from {', '.join(plan.sources)}"
        with events.writing(engine) as conn:
            events.mark_applied(conn, event, now=now, outcome=outcome)
        return outcome
    except REFUSED as exc:
        assert event is not None
        _fail_alone(engine, event, f"refused: {exc}", now, retry=False)
    except Exception as exc:  # the order not stored yet, a source or the database away: try again later
        if event is None:
            raise
        if not isinstance(exc, OrderReconError | RefreshFailed):
            log.exception("webhook %s %s failed", event.source, event.event_id)
        _fail_alone(
            engine, event, f"{type(exc).__name__}: {exc}", now, retry=event.attempts + 1 < MAX_ATTEMPTS
        )
    return None


class RefreshFailed(Exception):
    """A refresh reached a source that answered with an error."""


def _fail(conn: Connection, event: StoredEvent, error: str, now: datetime, *, retry: bool) -> None:
    log.warning("webhook %s %s (%s) not applied: %s", event.source, event.event_id, event.topic, error)
    events.mark_failed(conn, event, error, now=now, retry=retry)


def _fail_alone(engine: Engine, event: StoredEvent, error: str, now: datetime, *, retry: bool) -> None:
    with events.writing(engine) as conn:
        _fail(conn, event, error, now, retry=retry)
