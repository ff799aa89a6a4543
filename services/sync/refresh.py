"""Per-order refresh: ask the store, the 3PL and the carrier about one order at once, store the answers.

The three sources are asked concurrently (`httpx.AsyncClient` + `asyncio.gather`), and inside the store
step the order and its fulfillment orders (the hold) are asked concurrently too, so the wall time is about
the slowest single round trip. What needs an earlier answer waits for it:
- an order not stored yet is first found by name in the store (its id is what the 3PL and the carrier
  are asked about), then the 3PL and the carrier are asked;
- the carrier is asked about the tracking numbers already stored for the order; codes that only the
  store's or the 3PL's fresh answer brings cost a second, concurrent round of carrier calls.
A source that fails is reported as such and its stored data is left as it was; the others are written
in one transaction through `services.sync.apply.apply_records` (its lock order, its reclassification).
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from typing import Any, TypeVar

import httpx
from sqlalchemy import select
from sqlalchemy.engine import Engine
from sqlalchemy.exc import OperationalError

from checks.model import StoreOrder, Tracker, WarehouseOrder
from checks.policy import SlaPolicy
from services import store
from services.database_errors import as_database_error
from services.errors import InputError, NotFoundError, SourceError
from services.lookup.orders import find_order_id, normalize_name
from services.settings import Settings
from services.sources.easypost.client import AsyncEasyPostClient
from services.sources.http import Pacer
from services.sources.shipbob.client import AsyncShipBobClient
from services.sources.shopify.client import AsyncShopifyClient, order_call
from services.store import T_CLASS, T_CODES, T_WAREHOUSE
from services.sync import runs
from services.sync.apply import apply_records
from services.sync.runs import ROLE_OF, SOURCE_OF

T = TypeVar("T")
ROLES = ("store", "3pl", "carrier")
NEXT_REPLACEMENTS = 2  # ask for this many replacement references beyond the ones stored


@dataclass(frozen=True)
class SourceRefresh:
    """What one source said about the order."""

    source: str  # store | 3pl | carrier
    ok: bool
    error: str | None = None
    changed: bool = False
    detail: str = ""  # what changed, in words
    records: int = 0


@dataclass(frozen=True)
class RefreshResult:
    name: str
    order_id: int | None
    sources: dict[str, SourceRefresh] = field(default_factory=dict)
    category_before: str | None = None
    category_after: str | None = None
    seconds: float = 0.0

    @property
    def ok(self) -> bool:
        return all(s.ok for s in self.sources.values())

    @property
    def changed(self) -> bool:
        return any(s.changed for s in self.sources.values()) or self.category_before != self.category_after


@dataclass
class _Stored:
    order_id: int | None
    order: StoreOrder | None
    warehouse: list[WarehouseOrder]
    trackers: dict[str, Tracker]
    codes: set[str]
    references: list[str]
    category: str | None


def refresh_order(
    engine: Engine,
    settings: Settings,
    policy: SlaPolicy,
    name: str,
    *,
    sources: Sequence[str] = ROLES,
    now: datetime | None = None,
    transport: httpx.AsyncBaseTransport | None = None,
) -> RefreshResult:
    """Refresh one order from `sources` ('store', '3pl', 'carrier'; or shopify/shipbob/easypost) and
    reclassify it. Runs its own event loop; from async code use `refresh_order_async`.

    Raises NotFoundError when the order is neither stored nor known to the store; per-source failures
    are reported in the result (and recorded as runs), not raised.
    """
    return asyncio.run(
        refresh_order_async(engine, settings, policy, name, sources=sources, now=now, transport=transport)
    )


async def refresh_order_async(
    engine: Engine,
    settings: Settings,
    policy: SlaPolicy,
    name: str,
    *,
    sources: Sequence[str] = ROLES,
    now: datetime | None = None,
    transport: httpx.AsyncBaseTransport | None = None,
    store_pacer: Pacer | None = None,
) -> RefreshResult:
    """As `refresh_order`. `store_pacer`: the store client's pacer, shared by refreshes running side by
    side (`services.bulk_refresh`) so that together they stay within the shop's one query-cost bucket."""
    started = time.perf_counter()
    now = now or datetime.now(UTC)
    name = normalize_name(name)
    roles = _roles(sources)
    for role in roles:
        settings.source_credentials(SOURCE_OF[role])
    stored = _load(engine, name)
    clients: dict[str, Any] = {}
    if "store" in roles:
        clients["store"] = AsyncShopifyClient(settings, transport=transport, pacer=store_pacer)
    if "3pl" in roles:
        clients["3pl"] = AsyncShipBobClient(settings, transport=transport)
    if "carrier" in roles:
        clients["carrier"] = AsyncEasyPostClient(settings, transport=transport)
    try:
        answers = await _ask(clients, stored, name)
    finally:
        await asyncio.gather(*(c.aclose() for c in clients.values()))
    order_id = stored.order_id
    store_answer = answers.get("store")
    if order_id is None:
        if isinstance(store_answer, StoreOrder):
            order_id = store_answer.id
        elif store_answer is None and "store" in roles:
            raise NotFoundError(f"order {name} is not in the store")
        elif not isinstance(store_answer, BaseException):
            raise NotFoundError(f"order {name} is not stored yet: refresh it from the store first")
    try:
        result = _write(engine, policy, name, order_id, stored, roles, answers, now)
    except OperationalError as exc:  # locked, read-only, deadlocked, unreachable: said in words
        raise as_database_error(exc) from exc
    return replace(result, seconds=time.perf_counter() - started)


def _roles(sources: Sequence[str]) -> list[str]:
    roles = []
    for source in sources:
        if source not in SOURCE_OF:
            raise InputError(f"unknown source {source!r}: use store, 3pl or carrier")
        role = ROLE_OF[SOURCE_OF[source]]
        if role not in roles:
            roles.append(role)
    return [r for r in ROLES if r in roles]


def _load(engine: Engine, name: str) -> _Stored:
    with engine.connect() as conn:
        order_id = find_order_id(conn, name)
        if order_id is None:
            return _Stored(None, None, [], {}, set(), [], None)
        view = store.load_views(conn, [order_id])[0]
        codes = set(conn.scalars(select(T_CODES.c.tracking_number).where(T_CODES.c.order_id == order_id)))
        references = list(
            conn.scalars(
                select(T_WAREHOUSE.c.reference_id).where(
                    (T_WAREHOUSE.c.reference_store_id == order_id)
                    | (T_WAREHOUSE.c.store_order_id == order_id)
                )
            )
        )
        category = conn.scalar(select(T_CLASS.c.base_category).where(T_CLASS.c.order_id == order_id))
        codes |= view.store.tracking_numbers | (view.warehouse.tracking_numbers if view.warehouse else set())
        warehouse = [w for w in (view.warehouse, *view.replacements) if w is not None]
        trackers = {t.tracking_code: t for t in view.trackers}
        return _Stored(order_id, view.store, warehouse, trackers, codes, references, category)


async def _catch(awaitable: Awaitable[T]) -> T | SourceError:
    try:
        return await awaitable
    except SourceError as exc:
        return exc


async def _ask(clients: dict[str, Any], stored: _Stored, name: str) -> dict[str, Any]:
    """Each asked role's answer (or the SourceError it raised)."""
    answers: dict[str, Any] = {}
    order_id = stored.order_id
    if order_id is None and "store" in clients:
        answers["store"] = await _catch(clients["store"].order_by_name(name))
        if isinstance(answers["store"], StoreOrder):
            order_id = answers["store"].id
    if order_id is None:
        return answers
    tasks: dict[str, Awaitable[Any]] = {}
    if "store" in clients and "store" not in answers:
        tasks["store"] = _catch(_store(clients["store"], order_id))
    if "3pl" in clients:
        tasks["3pl"] = _catch(clients["3pl"].orders_by_reference(_references(order_id, stored.references)))
    if "carrier" in clients:
        tasks["carrier"] = _catch(_trackers(clients["carrier"], sorted(stored.codes)))
    for role, answer in zip(tasks, await asyncio.gather(*tasks.values()), strict=True):
        answers[role] = answer
    carrier = answers.get("carrier")
    if isinstance(carrier, dict):
        fresh = set()
        if isinstance(answers.get("store"), StoreOrder):
            fresh |= answers["store"].tracking_numbers
        if isinstance(answers.get("3pl"), list):
            fresh |= {
                n for w in answers["3pl"] if w.reference_id == str(order_id) for n in w.tracking_numbers
            }
        more = sorted(fresh - stored.codes)
        if more:  # codes only the fresh answers brought: one more concurrent round
            extra = await _catch(_trackers(clients["carrier"], more))
            answers["carrier"] = extra if isinstance(extra, SourceError) else {**carrier, **extra}
    return answers


async def _store(client: AsyncShopifyClient, order_id: int) -> StoreOrder | None:
    """The order with its hold (the GraphQL order carries its fulfillment orders)."""
    return await client.call(order_call(order_id))


def _references(order_id: int, stored: list[str]) -> list[str]:
    seqs = [
        int(r.rsplit("-R", 1)[1])
        for r in stored
        if r.startswith(f"{order_id}-R") and r.rsplit("-R", 1)[1].isdigit()
    ]
    upto = max(seqs, default=0) + NEXT_REPLACEMENTS
    return [str(order_id), *stored, *(f"{order_id}-R{n}" for n in range(1, upto + 1))]


async def _trackers(client: AsyncEasyPostClient, codes: list[str]) -> dict[str, Tracker | None]:
    found = await asyncio.gather(*(client.tracker_by_code(c) for c in codes))
    return dict(zip(codes, found, strict=True))


# ---------------------------------------------------------------- write and report


def _write(
    engine: Engine,
    policy: SlaPolicy,
    name: str,
    order_id: int | None,
    stored: _Stored,
    roles: list[str],
    answers: dict[str, Any],
    now: datetime,
) -> RefreshResult:
    reports: dict[str, SourceRefresh] = {}
    written: dict[str, Any] = {}
    for role in roles:
        answer: Any = answers.get(role)
        if isinstance(answer, SourceError) or (answer is None and role != "store"):
            error = str(answer) if answer is not None else "not asked: the order's store id is unknown"
            reports[role] = SourceRefresh(role, ok=False, error=error)
        elif role == "store":
            reports[role] = _store_report(answer, stored)
            written["store_orders"] = [answer] if isinstance(answer, StoreOrder) else []
        elif role == "3pl":
            reports[role] = _warehouse_report(answer, stored)
            written["warehouse_orders"] = answer
        else:
            reports[role] = _carrier_report(answer, stored)
            written["trackers"] = [t for t in answer.values() if t is not None]
    with engine.begin() as conn:
        changed = apply_records(conn, policy, now, **written)
        category = stored.category
        if order_id is not None and store.load_store_orders(conn, [order_id]):
            if order_id not in changed:  # classified as of `now` even when nothing changed
                store.reclassify(conn, [order_id], policy, now)
            category = conn.scalar(select(T_CLASS.c.base_category).where(T_CLASS.c.order_id == order_id))
        for role, report in reports.items():
            run_id = runs.start_run(
                conn, source=SOURCE_OF[role], mode="order", started_at=now, order_name=name
            )
            runs.record_values(
                conn,
                run_id,
                status="ok" if report.ok else "failed",
                error=report.error,
                records=report.records,
                pages=1 if report.ok else 0,
                finished_at=now,
                reclassified=1 if report.ok and order_id is not None else 0,
            )
    return RefreshResult(
        name=name,
        order_id=order_id,
        sources=reports,
        category_before=stored.category,
        category_after=category,
    )


_STORE_FIELDS = (
    "financial_status",
    "fulfillment_status",
    "cancelled_at",
    "on_hold",
    "fulfillments",
    "refunds",
    "line_items",
    "shipping_address",
    "note",
    "tags",
)


def _store_report(order: StoreOrder | None, stored: _Stored) -> SourceRefresh:
    if order is None:
        return SourceRefresh("store", ok=True, detail="the store no longer has this order (stored copy kept)")
    before = stored.order
    if before is None:
        return SourceRefresh("store", ok=True, changed=True, detail="new order", records=1)
    after = order if order.on_hold is not None else replace(order, on_hold=before.on_hold)
    changed = [f for f in _STORE_FIELDS if _comparable(getattr(before, f)) != _comparable(getattr(after, f))]
    detail = ", ".join(_change(f, getattr(before, f), getattr(after, f)) for f in changed)
    return SourceRefresh("store", ok=True, changed=bool(changed), detail=detail or "unchanged", records=1)


def _comparable(value: Any) -> Any:
    """Child records compare as sets by id (the store's order of them is not a change); a hold that
    was never asked (None) reads as no hold."""
    if value is None:
        return False
    return sorted(value, key=lambda child: child.id) if isinstance(value, tuple) else value


def _change(field_name: str, before: Any, after: Any) -> str:
    if isinstance(before, tuple | list):
        return f"{field_name} ({len(before)} → {len(after)})"
    return f"{field_name} {before} → {after}"


def _warehouse_report(found: list[WarehouseOrder], stored: _Stored) -> SourceRefresh:
    before = {w.id: w for w in stored.warehouse}
    notes = []
    for w in found:
        old = before.get(w.id)
        if old is None:
            notes.append(f"new 3PL order {w.reference_id} ({w.status})")
        elif old != w:
            shipments = [f"{s.status}" for s in w.shipments]
            notes.append(
                f"{w.reference_id}: {old.status} → {w.status}"
                + (f", shipments {shipments}" if shipments else "")
            )
    detail = "; ".join(notes) or ("unchanged" if found else "the 3PL has no order for it")
    return SourceRefresh("3pl", ok=True, changed=bool(notes), detail=detail, records=len(found))


def _carrier_report(found: dict[str, Tracker | None], stored: _Stored) -> SourceRefresh:
    notes = []
    for code, tracker in sorted(found.items()):
        old = stored.trackers.get(code)
        if tracker is None:
            continue
        if old is None:
            notes.append(f"new tracker {code} ({tracker.status})")
        elif old != tracker:
            notes.append(
                f"{code}: {old.status} → {tracker.status}"
                if old.status != tracker.status
                else f"{code}: new scans"
            )
    count = sum(1 for t in found.values() if t is not None)
    detail = "; ".join(notes) or ("unchanged" if count else "no trackers")
    return SourceRefresh("carrier", ok=True, changed=bool(notes), detail=detail, records=count)
