"""Refresh many orders from every source at once, with progress, an estimate, cancel, and what changed.

Built on the public per-order refresh (`services.sync.refresh_order_async`): each order is refreshed
exactly as the lookup page's buttons do it. At most `concurrency` orders are in flight, so the sources
see a bounded number of calls at a time. The store's clients share one pacer, since the shop has one
query-cost bucket for all of them (16 order queries at once ask for twice what a standard bucket
holds); each client still retries a rate-limited call (`services.sources.http`). A cancel stops new
orders from starting; the ones in flight finish.

At the end it says what changed for the people working the queue: which orders left the overdue queue
and which gained a discrepancy (SPEC §3, §4), measured before and after at the same as-of time.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime

import httpx
from sqlalchemy import select
from sqlalchemy.engine import Engine

from checks.categories import OPEN
from checks.policy import SlaPolicy
from db.session import session_scope
from services import audit, sync
from services.lookup.orders import normalize_name
from services.permissions import Actor, Permission, audit_as, require
from services.queries import discrepancy_codes_for
from services.settings import Settings
from services.sources.shopify.client import CostPacer
from services.store import T_CLASS

DEFAULT_CONCURRENCY = 16
EVERY_SOURCE = ("store", "3pl", "carrier")


@dataclass(frozen=True)
class BulkProgress:
    done: int
    total: int
    failed: int
    elapsed_s: float

    @property
    def remaining_s(self) -> float | None:
        """Seconds left at the pace so far (None before the first order has finished)."""
        if self.done == 0:
            return None
        return self.elapsed_s / self.done * (self.total - self.done)


@dataclass(frozen=True)
class OrderState:
    overdue: bool
    codes: frozenset[str]


@dataclass
class BulkOutcome:
    total: int
    refreshed: list[str] = field(default_factory=list)
    failed: list[str] = field(default_factory=list)
    not_started: list[str] = field(default_factory=list)  # left out by a cancel
    left_queue: list[str] = field(default_factory=list)
    joined_queue: list[str] = field(default_factory=list)
    gained: dict[str, list[str]] = field(default_factory=dict)  # order -> discrepancy codes it gained
    seconds: float = 0.0

    @property
    def cancelled(self) -> bool:
        return bool(self.not_started)


def order_states(
    engine: Engine, names: Sequence[str], *, as_of: datetime, policy: SlaPolicy
) -> dict[str, OrderState]:
    """Whether each stored order is in the overdue queue at `as_of`, and its discrepancy codes."""
    c = T_CLASS.c
    with engine.connect() as conn:
        rows = conn.execute(
            select(c.order_id, c.order_name, c.base_category, c.due_day).where(c.order_name.in_(list(names)))
        ).all()
        codes = discrepancy_codes_for(conn, [r.order_id for r in rows], as_of=as_of, policy=policy)
    return {
        r.order_name: OrderState(
            overdue=r.base_category == OPEN and r.due_day < policy.local_date(as_of),  # as the queue's query
            codes=frozenset(codes.get(r.order_id, ())),
        )
        for r in rows
    }


async def bulk_refresh_async(
    engine: Engine,
    settings: Settings,
    policy: SlaPolicy,
    names: Sequence[str],
    *,
    now: datetime,
    concurrency: int = DEFAULT_CONCURRENCY,
    progress: Callable[[BulkProgress], None] | None = None,
    cancelled: Callable[[], bool] = lambda: False,
    transport: httpx.AsyncBaseTransport | None = None,
) -> BulkOutcome:
    """Refresh `names` from every source, `concurrency` orders at a time; see the module docstring."""
    unique = list(dict.fromkeys(normalize_name(n) for n in names))
    outcome = BulkOutcome(total=len(unique))
    before = order_states(engine, unique, as_of=now, policy=policy)
    started = time.perf_counter()
    gate = asyncio.Semaphore(max(1, concurrency))
    # One shop, one query-cost bucket: the refreshes in flight pace their store queries together.
    store_pacer = CostPacer()

    def report() -> None:
        if progress is not None:
            done = len(outcome.refreshed) + len(outcome.failed)
            progress(BulkProgress(done, outcome.total, len(outcome.failed), time.perf_counter() - started))

    async def one(name: str) -> None:
        async with gate:
            if cancelled():
                outcome.not_started.append(name)
                return
            try:
                result = await sync.refresh_order_async(
                    engine,
                    settings,
                    policy,
                    name,
                    sources=EVERY_SOURCE,
                    now=now,
                    transport=transport,
                    store_pacer=store_pacer,
                )
                ok = result.ok
            except Exception:  # one order's failure is reported with the others, never ends the batch
                ok = False
            (outcome.refreshed if ok else outcome.failed).append(name)
            report()

    report()
    await asyncio.gather(*(one(name) for name in unique))
    after = order_states(engine, unique, as_of=now, policy=policy)
    for name in unique:
        old, new = before.get(name), after.get(name)
        if new is None:
            continue
        if old is not None and old.overdue and not new.overdue:
            outcome.left_queue.append(name)
        if (old is None or not old.overdue) and new.overdue:
            outcome.joined_queue.append(name)
        gained = sorted(new.codes - (old.codes if old else frozenset()))
        if gained:
            outcome.gained[name] = gained
    order = {name: i for i, name in enumerate(unique)}
    for names_list in (outcome.refreshed, outcome.failed, outcome.not_started):
        names_list.sort(key=order.__getitem__)
    outcome.seconds = time.perf_counter() - started
    return outcome


def bulk_refresh(
    engine: Engine,
    settings: Settings,
    policy: SlaPolicy,
    names: Sequence[str],
    *,
    now: datetime,
    concurrency: int = DEFAULT_CONCURRENCY,
    progress: Callable[[BulkProgress], None] | None = None,
    cancelled: Callable[[], bool] = lambda: False,
    transport: httpx.AsyncBaseTransport | None = None,
) -> BulkOutcome:
    """`bulk_refresh_async` on its own event loop (for threads and the CLI)."""
    return asyncio.run(
        bulk_refresh_async(
            engine,
            settings,
            policy,
            names,
            now=now,
            concurrency=concurrency,
            progress=progress,
            cancelled=cancelled,
            transport=transport,
        )
    )


def permit_bulk_refresh(engine: Engine, actor: Actor, names: Sequence[str], *, now: datetime) -> None:
    """Check that `actor` may refresh many orders at once (`bulk_sync`: ops and admin) and audit the
    request, before `bulk_refresh` starts (it runs beside the page, where a refusal could not be shown)."""
    with session_scope(engine) as session:
        require(
            session,
            actor,
            Permission.BULK_SYNC,
            action="sync.bulk",
            params={"orders": len(names)},
            clock=lambda: now,
        )
        audit_as(
            session,
            actor,
            action="sync.bulk",
            outcome=audit.Outcome.OK,
            params={"orders": list(names)[:50], "count": len(names)},
            at=now,
        )
