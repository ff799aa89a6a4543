"""Settle a replacement left `pending`: a process died between reserving it and recording the 3PL's answer.

The reservation keeps blocking the order (`replacement.exists`), because the 3PL order may exist. Settling
asks the 3PL by the reservation's `reference_id`, the same lookup `execute` does after an unknown outcome,
and records what is there: `created` with the 3PL order, or `failed` when there is none, after which
creating the replacement again re-sends the same reference, which the 3PL never duplicates. Nothing is
ever sent to the 3PL here.
"""

from __future__ import annotations

from datetime import datetime, timedelta

import httpx
from sqlalchemy.engine import Engine

from checks.model import WarehouseOrder
from checks.policy import SlaPolicy
from db.session import session_scope
from services import audit
from services.database_errors import retry_on_conflict
from services.errors import ConflictError, InputError, NotFoundError, OrderReconError
from services.lookup.orders import find_order_id, normalize_name
from services.permissions import Actor, Permission, require
from services.replacements import records
from services.replacements.execute import Attempt, Clock, at_3pl
from services.settings import Settings
from services.write_lock import write_lock

SETTLE = "replacement.settle"
# An execution takes seconds; a reservation younger than this may still be waiting for the 3PL's answer.
STALE_AFTER = timedelta(minutes=5)


def may_settle(reservation: records.Replacement, now: datetime, stale_after: timedelta = STALE_AFTER) -> bool:
    return now - reservation.requested_at >= stale_after


def settle(
    engine: Engine,
    settings: Settings,
    policy: SlaPolicy,
    *,
    order: str,
    actor: Actor | None,
    clock: Clock = audit.utcnow,
    stale_after: timedelta = STALE_AFTER,
    transport: httpx.BaseTransport | None = None,
) -> list[records.Replacement]:
    """Settle every pending replacement of `order` with what the 3PL holds under its reference.

    Needs the replacement execute permission (ops, admin). Raises NotFoundError (no such order),
    InputError (nothing pending), ConflictError (a reservation younger than `stale_after`: its execution may
    still answer), SourceError (the 3PL could not be asked: nothing changes). Audited as
    `replacement.settle`, one entry per reservation. Returns the settled records.
    """
    name = normalize_name(order)
    with session_scope(engine) as session:
        require(session, actor, Permission.REPLACEMENT_EXECUTE, action=SETTLE, order=name, clock=clock)
        order_id = find_order_id(session.connection(), name)
        pending = records.pending_for(session.connection(), order_id) if order_id is not None else []
    assert actor is not None
    attempt = Attempt(engine, actor, name, {}, clock, action=SETTLE)
    if order_id is None:
        raise attempt.refuse(NotFoundError(f"{name} is not in the store data."))
    if not pending:
        raise attempt.refuse(InputError(f"{name} has no pending replacement to settle."))
    now = clock()
    young = [c for c in pending if not may_settle(c, now, stale_after)]
    if young:
        c = young[0]
        raise attempt.refuse(
            ConflictError(
                f"Replacement {c.reference_id} of {name} was reserved by {c.requested_by} "
                f"{int((now - c.requested_at).total_seconds())} s ago and may still be waiting for the "
                f"3PL: settle it after {int(stale_after.total_seconds() // 60)} minutes."
            )
        )
    try:
        from services.sources.shipbob.client import ShipBobClient

        with ShipBobClient(settings, transport=transport) as client:
            found = at_3pl(client, [c.reference_id for c in pending])
    except OrderReconError as exc:  # configuration or the 3PL: nothing changes
        raise attempt.refuse(exc) from exc
    return [
        _record(engine, policy, reservation, found.get(reservation.reference_id), attempt)
        for reservation in pending
    ]


def _record(
    engine: Engine,
    policy: SlaPolicy,
    reservation: records.Replacement,
    warehouse_order: WarehouseOrder | None,
    attempt: Attempt,
) -> records.Replacement:
    from services.sync.apply import apply_records

    def record() -> tuple[bool, records.Replacement]:
        # The lock order of every writer (services.sync.apply): the write lock first, then the 3PL order
        # and the classification, the replacement row, the audit chain.
        with session_scope(engine) as session:
            conn, now = session.connection(), attempt.clock()
            write_lock(conn)
            error = (
                None
                if warehouse_order is not None
                else (
                    f"not at the 3PL when {attempt.actor.username} settled the reservation; creating the "
                    "replacement again re-sends the same reference"
                )
            )
            changed = records.resolve_pending(
                conn,
                reservation.id,
                warehouse_order_id=None if warehouse_order is None else warehouse_order.id,
                error=error,
                now=now,
            )
            if changed and warehouse_order is not None:
                apply_records(
                    conn, policy, now, warehouse_orders=[warehouse_order], reclassify_unchanged=True
                )
            settled = records.get(conn, reservation.id)
            attempt.record(
                audit.Outcome.OK if changed else audit.Outcome.FAILED,
                None if changed else "its execution answered first",
                session=session,
                reference_id=reservation.reference_id,
                claimed_by=reservation.requested_by,
                status=settled.status,
                warehouse_order_id=settled.warehouse_order_id,
            )
            return changed, settled

    changed, settled = retry_on_conflict(record)
    if not changed:
        raise ConflictError(
            f"Replacement {reservation.reference_id} was recorded as {settled.status} by its own execution meanwhile."
        )
    return settled


__all__ = ["SETTLE", "STALE_AFTER", "may_settle", "settle"]
