"""Execute a replacement exactly once: refresh, re-check, compare fingerprints, reserve, call the 3PL, record.

Transactions, in order (no write transaction is open while a source is called):
1. `require` (a refusal is audited in its own transaction);
2. the order is refreshed from every configured source (`services.sync.refresh_order`);
3. read: the order, the console's records and the live inventory → the plan, compared with the dry run's;
4. reserve: the `pending` row is inserted (or a `failed` one retaken) and committed;
5. the 3PL call: `POST /2026-07/order`; on a duplicate-reference 422 or an unknown outcome (timeout, cut-off
   reply, 5xx) the order is looked up by `reference_id` instead of being posted again;
6. settle: the row becomes `created` with the 3PL order written to the store tables and the order
   reclassified, or `failed` with the error; the `replacement.execute` audit entry goes in the same
   transaction.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime
from typing import TYPE_CHECKING, Any

import httpx
from sqlalchemy.engine import Engine
from sqlmodel import Session

from checks.model import WarehouseOrder
from checks.policy import SlaPolicy
from checks.validations import ResendItem
from db.session import session_scope
from services import audit
from services.database_errors import retry_on_conflict
from services.errors import (
    ActionBlocked,
    InputError,
    OrderReconError,
    SourceError,
    SourceUnavailable,
    StalePlanError,
)
from services.lookup.orders import normalize_name
from services.permissions import Actor, Permission, require
from services.replacements import records
from services.replacements.plan import ReplacementPlan, assess, items_param, make_plan
from services.settings import Settings
from services.sources.json_fields import RecordError

if TYPE_CHECKING:  # the connectors are imported only when a replacement is sent
    from services.sources.shipbob.client import ShipBobClient

EXECUTE = "replacement.execute"
# SPEC §1 systems by the labels `services.sync.refresh_order` takes.
REFRESH_SOURCES = (("store", "shopify"), ("3pl", "shipbob"), ("carrier", "easypost"))

Clock = Callable[[], datetime]


class Attempt:
    """One attempt at `action` (an execution, a settle): audits its outcome, in its own transaction
    unless given one."""

    def __init__(
        self,
        engine: Engine,
        actor: Actor,
        order: str,
        params: dict[str, Any],
        clock: Clock,
        action: str = EXECUTE,
    ) -> None:
        self.engine, self.actor, self.order, self.params, self.clock = engine, actor, order, params, clock
        self.action = action

    def record(
        self, outcome: str, detail: str | None = None, *, session: Session | None = None, **extra: Any
    ) -> None:
        def write(target: Session) -> None:
            audit.append(
                target,
                actor=self.actor.username,
                role=self.actor.role,
                action=self.action,
                outcome=outcome,
                order=self.order,
                params={**self.params, **extra},
                detail=detail,
                at=self.clock(),
            )

        if session is not None:
            write(session)
            return
        with session_scope(self.engine) as own:
            write(own)

    def refuse(
        self, error: OrderReconError, outcome: str = audit.Outcome.FAILED, **extra: Any
    ) -> OrderReconError:
        self.record(outcome, str(error), **extra)
        return error


def refresh_from_sources(
    engine: Engine,
    settings: Settings,
    policy: SlaPolicy,
    name: str,
    now: datetime,
    purpose: str = "creating its replacement",
) -> None:
    """Fetch the order again from every configured source (none configured: nothing to do).

    Raises SourceUnavailable when a source could not answer: no action (a replacement, a guided fix) is
    taken on stale data; `purpose` says which in the message.
    """
    sources = tuple(label for label, source in REFRESH_SOURCES if settings.source_configured(source))
    if not sources:
        return
    from services import sync  # the sync engine needs the connectors; only here when a source is configured

    def refresh() -> Any:
        return sync.refresh_order(engine, settings, policy, name, sources=sources, now=now)

    result = _outside_any_event_loop(refresh)
    failed = [s for s in result.sources.values() if not s.ok]
    if failed:  # checks on data a source could not confirm could pass on stale facts
        words = "; ".join(f"{s.source}: {s.error}" for s in failed)
        raise SourceUnavailable(
            f"could not refresh {name} before {purpose} ({words})",
            source=",".join(s.source for s in failed),
            call="refresh",
        )


def _outside_any_event_loop(work: Callable[[], Any]) -> Any:
    """Run `work` here, or on a worker thread when this thread runs an event loop (`asyncio.run` refuses)."""
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return work()
    with ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(work).result()


def execute(
    engine: Engine,
    settings: Settings,
    policy: SlaPolicy,
    *,
    order: str,
    fingerprint: str,
    confirmation: str,
    actor: Actor | None,
    items: Sequence[ResendItem] | None = None,
    clock: Clock = audit.utcnow,
    transport: httpx.BaseTransport | None = None,
) -> records.Replacement:
    """Create the replacement the dry run planned, at most once whatever the concurrency.

    `items` and `fingerprint` are the plan's; `confirmation` must be the order name (e.g. ``#1002``).
    Needs the replacement execute permission (ops, admin): a refusal raises PermissionDenied, audited.
    Raises InputError (confirmation or items), ActionBlocked (a check blocks, checked before staleness),
    StalePlanError (the refreshed plan's fingerprint differs), ConflictError (someone else holds this
    replacement), SourceError (the 3PL refused or its outcome stays unknown: the row is `failed` and a
    retry re-sends the same reference). Every outcome is audited as `replacement.execute`.
    Returns the `created` record with `resolution` saying how the 3PL order was obtained.
    """
    name = normalize_name(order)
    params: dict[str, Any] = {"fingerprint": fingerprint, "items": items_param(items)}
    with session_scope(engine) as session:
        require(
            session,
            actor,
            Permission.REPLACEMENT_EXECUTE,
            action=EXECUTE,
            order=name,
            params=params,
            clock=clock,
        )
    assert actor is not None
    attempt = Attempt(engine, actor, name, params, clock)
    if items is not None and not tuple(items):
        raise attempt.refuse(InputError(f"Choose at least one item of {name} to resend."))
    if confirmation.strip() != name:
        raise attempt.refuse(InputError(f"Type the order name {name} exactly to confirm the replacement."))

    try:
        settings.source_credentials("shipbob")  # ConfigurationError naming the setting: nothing to send to
        refresh_from_sources(engine, settings, policy, name, clock())
        with engine.connect() as conn:
            assessment = assess(
                conn, settings, policy, order=name, items=items, now=clock(), transport=transport
            )
    except OrderReconError as exc:
        raise attempt.refuse(exc, reason="recheck") from exc  # configuration, refresh or live stock
    pre = assessment.preflight
    if not pre.actionable:
        why = " ".join(f"[{r.code}] {r.message}" for r in pre.blocked)
        error = ActionBlocked(f"{name} cannot be replaced: {why}", results=pre.checks)
        raise attempt.refuse(error, audit.Outcome.BLOCKED, blocked=[r.code for r in pre.blocked])
    try:
        plan = make_plan(assessment)
    except OrderReconError as exc:
        raise attempt.refuse(exc) from exc
    attempt.params["reference_id"] = plan.reference_id
    if plan.fingerprint != fingerprint:
        raise attempt.refuse(
            StalePlanError(
                f"{name} changed since the preview (a sync, another operator, or stock): preview it again "
                "and check what is sent before creating it."
            ),
            reason="stale_plan",
            current=plan.fingerprint,
        )

    assert plan.order_id is not None  # order.exists passed
    try:
        with session_scope(engine) as session:
            reserved = records.reserve(
                session.connection(),
                order_id=plan.order_id,
                order_name=name,
                seq=plan.seq,
                reference_id=plan.reference_id,
                items=plan.items,
                payload=plan.payload,
                actor=actor,
                now=clock(),
            )
    except OrderReconError as exc:
        raise attempt.refuse(exc, reason="conflict") from exc
    return _send_and_settle(engine, settings, policy, plan, reserved, attempt, transport)


def _send_and_settle(
    engine: Engine,
    settings: Settings,
    policy: SlaPolicy,
    plan: ReplacementPlan,
    reserved: records.Replacement,
    attempt: Attempt,
    transport: httpx.BaseTransport | None,
) -> records.Replacement:
    try:
        warehouse_order, resolution = send(settings, plan, transport=transport)
    except BaseException as exc:  # whatever happened, the row must not stay pending
        error = str(exc) or type(exc).__name__

        def record_failed() -> None:
            with session_scope(engine) as session:
                records.mark_failed(session.connection(), reserved.id, error=error, now=attempt.clock())
                attempt.record(audit.Outcome.FAILED, error, session=session, reason="3pl")

        retry_on_conflict(record_failed)
        if isinstance(exc, SourceError):
            said = str(exc).removeprefix(f"{exc.source} {exc.call}: ")
            raise SourceError(
                f"{said}. {plan.reference_id} is recorded as failed; creating it again re-sends the "
                "same reference, which the 3PL never duplicates.",
                source=exc.source,
                call=exc.call,
            ) from exc
        raise
    from services.sync.apply import apply_records  # with the connectors: only once something was sent

    def record_created() -> records.Replacement:
        # The lock order of every writer (services.sync.apply): the write lock, the 3PL order and the
        # classification, then the replacement row, then the audit chain.
        with session_scope(engine) as session:
            conn, now = session.connection(), attempt.clock()
            apply_records(conn, policy, now, warehouse_orders=[warehouse_order], reclassify_unchanged=True)
            records.mark_created(conn, reserved.id, warehouse_order_id=warehouse_order.id, now=now)
            attempt.record(
                audit.Outcome.OK,
                session=session,
                warehouse_order_id=warehouse_order.id,
                resolution=resolution,
            )
            return records.get(conn, reserved.id)

    # The 3PL order exists now: a deadlock or serialization failure must not lose its record.
    return retry_on_conflict(record_created).with_resolution(resolution)


def at_3pl(client: ShipBobClient, references: Sequence[str]) -> dict[str, WarehouseOrder]:
    """The 3PL orders whose reference is exactly one of `references`, by reference."""
    wanted = set(references)
    return {
        o.reference_id: o for o in client.orders_by_reference(list(references)) if o.reference_id in wanted
    }


def send(
    settings: Settings, plan: ReplacementPlan, *, transport: httpx.BaseTransport | None = None
) -> tuple[WarehouseOrder, str]:
    """POST the plan to ShipBob once; return the 3PL order and how it was obtained.

    `created`: ShipBob answered with it. `duplicate_reference`: ShipBob's 422 says the reference exists
    (an earlier attempt got through), and the lookup by reference found it. `found_after_unknown_outcome`:
    the call timed out, was cut off or failed server-side after sending, and the lookup found it.
    Raises SourceError when the 3PL refused the request or has no order with the reference.
    """
    from services.sources.shipbob.client import DuplicateReference, ShipBobClient
    from services.sources.shipbob.parse import parse_order

    with ShipBobClient(settings, transport=transport) as client:
        unknown: SourceError | None = None
        try:
            body = client.create_order(plan.payload)
            try:
                return parse_order(body), "created"
            except (RecordError, AssertionError):  # created, but the reply is odd: read it back
                resolution = "created"
        except DuplicateReference:
            resolution = "duplicate_reference"
        except SourceUnavailable as exc:
            resolution, unknown = "found_after_unknown_outcome", exc
        found = at_3pl(client, [plan.reference_id]).get(plan.reference_id)
    if found is not None:
        return found, resolution
    if unknown is not None:
        raise unknown
    raise SourceUnavailable(
        f"no order with reference {plan.reference_id} was found after the create call",
        source="shipbob",
        call="GET /2026-07/order",
    )


__all__ = ["EXECUTE", "Attempt", "at_3pl", "execute", "refresh_from_sources", "send"]
