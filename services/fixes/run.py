"""Plan, execute and settle a guided fix (SPEC §8) under the controls a replacement has.

    dry_run(session, …)   checks + the exact request + fingerprint                 agent, ops, admin
    execute(engine, …)    typed name → refresh → re-check → same fingerprint? → reserve → one call →
                          record → refresh from both systems → the order as it is now      ops, admin
    settle(engine, …)     a reservation left `pending` by a process that died: read the target back, record

No write transaction is open while a source is called. An unknown outcome (timeout, 5xx after sending)
is settled by reading the target back, never by sending again.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import httpx
from sqlalchemy.engine import Connection, Engine
from sqlmodel import Session

from checks.policy import SlaPolicy
from db.session import session_scope
from services import audit
from services.database_errors import retry_on_conflict
from services.errors import (
    ActionBlocked,
    ConflictError,
    InputError,
    NotFoundError,
    OrderReconError,
    SourceError,
    SourceUnavailable,
    StalePlanError,
)
from services.fixes import records
from services.fixes.base import (
    ORDER_EXISTS,
    Fix,
    FixPlan,
    FixRequest,
    applies,
    fingerprint,
    stamp,
    strip_secrets,
)
from services.lookup.detail import OrderDetail
from services.lookup.orders import missing_order_checks, normalize_name, order_detail
from services.permissions import Actor, Permission, require
from services.replacements.execute import Attempt, refresh_from_sources
from services.settings import Settings

DRY_RUN, EXECUTE, SETTLE = "fix.dry_run", "fix.execute", "fix.settle"
STALE_AFTER = timedelta(minutes=5)  # a younger reservation may still be waiting for the target's answer
Clock = Callable[[], datetime]


@dataclass(frozen=True)
class FixResult:
    record: records.FixRecord
    detail: OrderDetail | None  # the order after the refresh: its category, discrepancies and checks


def plan_fix(
    conn: Connection,
    settings: Settings,
    policy: SlaPolicy,
    fix: Fix,
    *,
    order: str,
    now: datetime,
    transport: httpx.BaseTransport | None = None,
) -> FixPlan:
    """The checks, the request and the fingerprint of `fix` for `order`, on the stored data (no writes)."""
    name = normalize_name(order)
    detail = order_detail(conn, name=name, as_of=now, policy=policy)
    if detail is None:
        checks = tuple(r for r in missing_order_checks(name, policy) if r.code == ORDER_EXISTS)
        return FixPlan(fix.kind, name, None, checks, None, fingerprint(fix.kind, None, checks, {}))
    spec = [r for r in detail.checks if r.code in fix.spec_checks]
    live = fix.read_live(conn, settings, detail, transport)
    own = [stamp("fix.applies", applies(detail, fix)), *fix.own_checks(detail, live)]
    checks = tuple(spec + own)
    blocked = any(r.level.value == "blocked" for r in checks)
    request = None if blocked else fix.build_request(detail, live)
    return FixPlan(
        fix.kind,
        detail.name,
        detail.view.store.id,
        checks,
        request,
        fingerprint(fix.kind, request, checks, fix.state(detail)),
        {"category": detail.category},
    )


def dry_run(
    session: Session,
    settings: Settings,
    policy: SlaPolicy,
    fix: Fix,
    *,
    order: str,
    actor: Actor | None,
    now: datetime,
    transport: httpx.BaseTransport | None = None,
) -> FixPlan:
    """Preview `fix` for `order` without sending anything; audited as `fix.dry_run` (the caller commits)."""
    name = normalize_name(order)
    params = {"kind": fix.kind}
    require(
        session, actor, Permission.FIX_DRY_RUN, action=DRY_RUN, order=name, params=params, clock=lambda: now
    )
    assert actor is not None
    plan = plan_fix(session.connection(), settings, policy, fix, order=name, now=now, transport=transport)
    if plan.order_id is None:
        raise NotFoundError(f"{name} is not in the store data.")
    audit.append(
        session,
        actor=actor.username,
        role=actor.role,
        action=DRY_RUN,
        outcome=audit.Outcome.OK,
        order=plan.order,
        at=now,
        params={**params, "fingerprint": plan.fingerprint, "blocked": [r.code for r in plan.blocked]},
    )
    return plan


def execute(
    engine: Engine,
    settings: Settings,
    policy: SlaPolicy,
    fix: Fix,
    *,
    order: str,
    fingerprint: str,
    confirmation: str,
    actor: Actor | None,
    clock: Clock = audit.utcnow,
    transport: httpx.BaseTransport | None = None,
) -> FixResult:
    """Send the request the dry run showed, at most once whatever the concurrency.

    Raises PermissionDenied (not ops/admin), InputError (confirmation), ActionBlocked (a check blocks),
    StalePlanError (the refreshed plan differs from the preview), ConflictError (reserved or done already),
    SourceError (the target refused, its words verbatim without secrets; or the outcome stays unknown).
    Every outcome is audited as `fix.execute`.
    """
    name = normalize_name(order)
    params: dict[str, Any] = {"kind": fix.kind, "fingerprint": fingerprint}
    with session_scope(engine) as session:
        require(
            session, actor, Permission.FIX_EXECUTE, action=EXECUTE, order=name, params=params, clock=clock
        )
    assert actor is not None
    attempt = Attempt(engine, actor, name, params, clock, action=EXECUTE)
    if confirmation.strip() != name:
        raise attempt.refuse(InputError(f"Type the order name {name} exactly to confirm the fix."))
    try:
        settings.source_credentials(fix.system)  # ConfigurationError naming the setting: nothing to send to
        refresh_from_sources(engine, settings, policy, name, clock(), purpose="sending its fix")
        with engine.connect() as conn:
            plan = plan_fix(conn, settings, policy, fix, order=name, now=clock(), transport=transport)
    except OrderReconError as exc:
        raise attempt.refuse(exc, reason="recheck") from exc
    if plan.order_id is None:
        raise attempt.refuse(NotFoundError(f"{name} is not in the store data."))
    if not plan.actionable:
        why = " ".join(f"[{r.code}] {r.message}" for r in plan.blocked)
        error = ActionBlocked(f"{name} cannot be fixed ({fix.kind}): {why}", results=plan.checks)
        raise attempt.refuse(error, audit.Outcome.BLOCKED, blocked=[r.code for r in plan.blocked])
    if plan.fingerprint != fingerprint:
        raise attempt.refuse(
            StalePlanError(
                f"{name} changed since the preview: preview the fix again and check what is sent."
            ),
            reason="stale_plan",
            current=plan.fingerprint,
        )
    assert plan.request is not None
    attempt.params["request"] = plan.request.as_dict()
    try:
        with session_scope(engine) as session:
            reserved = records.reserve(
                session.connection(),
                fix_key=plan.fix_key,
                kind=fix.kind,
                order_id=plan.order_id,
                order_name=name,
                request=plan.request.as_dict(),
                fingerprint=plan.fingerprint,
                actor=actor,
                now=clock(),
            )
    except OrderReconError as exc:
        raise attempt.refuse(exc, reason="conflict") from exc
    return _send_and_record(engine, settings, policy, fix, plan, reserved, attempt, transport)


def _send_and_record(
    engine: Engine,
    settings: Settings,
    policy: SlaPolicy,
    fix: Fix,
    plan: FixPlan,
    reserved: records.FixRecord,
    attempt: Attempt,
    transport: httpx.BaseTransport | None,
) -> FixResult:
    assert plan.request is not None
    failure: BaseException | None = None
    resolution: str | None = None
    try:
        resolution = fix.send(settings, plan.request, transport).resolution
    except SourceUnavailable as exc:  # it may have landed: read the target back, never send again
        try:
            if fix.landed(settings, plan.request, transport):
                resolution = "found_after_unknown_outcome"
            else:
                failure = exc
        except OrderReconError:
            failure = exc
    except BaseException as exc:  # whatever happened, the row must not stay pending
        failure = exc
    if failure is not None:
        words = failure.message if isinstance(failure, SourceError) else str(failure)
        said = strip_secrets(words or type(failure).__name__, settings)
        _record(engine, reserved, attempt, done=False, resolution=None, error=said)
        if isinstance(failure, SourceError):
            raise SourceError(
                said, source=failure.source, call=failure.call, status=failure.status
            ) from failure
        raise failure
    assert resolution is not None
    record = _record(engine, reserved, attempt, done=True, resolution=resolution, error=None)
    return FixResult(record, _after(engine, settings, policy, plan.order, attempt.clock()))


def _record(
    engine: Engine,
    reserved: records.FixRecord,
    attempt: Attempt,
    *,
    done: bool,
    resolution: str | None,
    error: str | None,
    outcome: str | None = None,
) -> records.FixRecord:
    def write() -> records.FixRecord:
        with session_scope(engine) as session:
            conn = session.connection()
            records.resolve(
                conn, reserved.id, done=done, resolution=resolution, error=error, now=attempt.clock()
            )
            attempt.record(
                outcome or (audit.Outcome.OK if done else audit.Outcome.FAILED),
                error,
                session=session,
                fix_key=reserved.fix_key,
                status="done" if done else "failed",
                resolution=resolution,
            )
            return records.get(conn, reserved.id)

    # The target changed already: a deadlock or serialization failure must not lose its record.
    return retry_on_conflict(write)


def _after(
    engine: Engine, settings: Settings, policy: SlaPolicy, name: str, now: datetime
) -> OrderDetail | None:
    """The order refreshed from both systems after the fix; a refresh failure leaves the stored view."""
    try:
        refresh_from_sources(engine, settings, policy, name, now, purpose="showing it after its fix")
    except OrderReconError:
        audit.log.warning("could not refresh %s after its fix; showing the stored data", name)
    with engine.connect() as conn:
        return order_detail(conn, name=name, as_of=now, policy=policy)


def settle(
    engine: Engine,
    settings: Settings,
    policy: SlaPolicy,
    fix: Fix,
    *,
    order: str,
    actor: Actor | None,
    clock: Clock = audit.utcnow,
    stale_after: timedelta = STALE_AFTER,
    transport: httpx.BaseTransport | None = None,
) -> list[records.FixRecord]:
    """Settle this kind's `pending` reservations of `order` by reading the target back (nothing is sent).

    Needs the fix execute permission. Raises InputError (nothing pending), ConflictError (a reservation younger
    than `stale_after`), SourceError (the target could not be read: nothing changes). Audited as `fix.settle`.
    """
    name = normalize_name(order)
    with session_scope(engine) as session:
        require(session, actor, Permission.FIX_EXECUTE, action=SETTLE, order=name, clock=clock)
        detail = order_detail(session.connection(), name=name, as_of=clock(), policy=policy)
        pending = (
            [
                r
                for r in records.fixes_for(session.connection(), detail.view.store.id)
                if r.status == "pending" and r.kind == fix.kind
            ]
            if detail is not None
            else []
        )
    assert actor is not None
    attempt = Attempt(engine, actor, name, {"kind": fix.kind}, clock, action=SETTLE)
    if not pending:
        raise attempt.refuse(InputError(f"{name} has no pending {fix.kind} fix to settle."))
    now = clock()
    young = [r for r in pending if now - r.requested_at < stale_after]
    if young:
        raise attempt.refuse(
            ConflictError(
                f"The {fix.kind} fix of {name} was reserved by {young[0].requested_by} moments ago."
            )
        )
    settled = []
    for reservation in pending:
        request = FixRequest(**reservation.request, target=reservation.fix_key.split(":", 1)[1])
        try:
            done = fix.landed(settings, request, transport)
        except OrderReconError as exc:
            raise attempt.refuse(exc) from exc
        error = None if done else f"not at the target when {actor.username} settled the reservation"
        settled.append(
            # The settle itself succeeded either way: the record says what the target holds.
            _record(
                engine,
                reservation,
                attempt,
                done=done,
                resolution="settled" if done else None,
                error=error,
                outcome=audit.Outcome.OK,
            )
        )
    return settled


__all__ = [
    "DRY_RUN",
    "EXECUTE",
    "SETTLE",
    "STALE_AFTER",
    "FixResult",
    "dry_run",
    "execute",
    "plan_fix",
    "settle",
]
