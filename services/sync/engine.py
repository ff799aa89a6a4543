"""Full and incremental sync of one source, one committed page at a time, under the source's lock."""

from __future__ import annotations

import multiprocessing
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from typing import Any, Protocol

import httpx
from sqlalchemy.engine import Connection, Engine

from checks.model import InventoryItem, StoreOrder, Tracker, WarehouseOrder
from checks.policy import SlaPolicy
from services import store
from services.bulk import bulk_select
from services.errors import ConflictError, InputError, SourceError
from services.locks import HeldLock, named_lock
from services.settings import Settings
from services.sources.easypost_client import EasyPostClient
from services.sources.http import SourceClient
from services.sources.shipbob import parse_reference
from services.sources.shipbob_client import ShipBobClient
from services.sources.shopify_client import ShopifyClient
from services.store import T_CODES, T_ORDER, T_WAREHOUSE
from services.sync import ahead, collector, fetcher, runs
from services.sync.passes import (
    Event,
    Page,
    PassComplete,
    Plan,
    RescanDone,
    SyncOptions,
    store_pages,
    tracker_pages,
    warehouse_pages,
)
from services.sync.runs import SOURCE_OF, SOURCES, SyncRunResult

# sync_all's order: the 3PL and the carrier first, so store pages are classified against fresh 3PL data
# and holds are asked only for orders the 3PL has not shipped (as the snapshot import does).
SYNC_ORDER = ("shipbob", "easypost", "shopify")
LOCK_REFRESH_S = 60.0  # well inside the lock's 15 min time-to-live


@dataclass(frozen=True)
class SyncProgress:
    """Reported after every committed page."""

    source: str
    kind: str  # store | warehouse | trackers | inventory
    pages: int
    records: int


Progress = Callable[[SyncProgress], None]


def lock_name(source: str) -> str:
    return f"sync:{source}"


def sync_source(
    engine: Engine,
    settings: Settings,
    policy: SlaPolicy,
    source: str,
    *,
    full: bool = False,
    now: datetime | None = None,
    progress: Progress | None = None,
    options: SyncOptions | None = None,
    transport: httpx.BaseTransport | None = None,
) -> SyncRunResult:
    """Sync one source ('shopify' | 'shipbob' | 'easypost', or 'store' | '3pl' | 'carrier').

    Incremental unless `full` or the source was never synced completely; an unfinished pass left by a
    failed run is resumed first. Each page is written, its orders reclassified and the run row updated in
    one transaction. A source error stops the run and is returned (`ok` False) with the pages committed so
    far kept; stored data is never deleted or blanked. Raises ConflictError when another sync of the
    source is running, ConfigurationError when its settings are missing.
    """
    with _opened(
        engine, settings, policy, _source(source), full=full, now=now, options=options, transport=transport
    ) as run:
        return run.commit(progress)


def sync_all(
    engine: Engine,
    settings: Settings,
    policy: SlaPolicy,
    *,
    sources: Sequence[str] = SOURCES,
    full: bool = False,
    now: datetime | None = None,
    progress: Progress | None = None,
    options: SyncOptions | None = None,
) -> dict[str, SyncRunResult]:
    """Sync each of `sources` (3PL, then carrier, then store); one failing never stops the others.

    Pages are committed source by source in that order, but every source's fetching starts at once:
    no fetching reads what an earlier source writes, except the store's holds and classifications,
    which its fetching makes only once the store's turn has come. A source whose sync is already
    running gets a result with `ok` False and no run id.
    """
    asked = {_source(name) for name in sources}
    wanted = [s for s in SYNC_ORDER if s in asked]
    results: dict[str, SyncRunResult] = {}
    opened: dict[str, tuple[ExitStack, _Run] | Exception] = {}
    # Set at the store's turn: the 3PL and carrier data its pages are classified with, where they are
    # fetched (services.sync.ahead), will not change again in this sync.
    settled = _event()
    try:
        for source in wanted:
            moment = now or datetime.now(UTC)
            stack = ExitStack()
            try:
                run = stack.enter_context(
                    _opened(
                        engine,
                        settings,
                        policy,
                        source,
                        full=full,
                        now=moment,
                        options=options,
                        settled=settled,
                    )
                )
                opened[source] = (stack, run)
            except ConflictError as exc:
                results[source] = _not_started(source, full, moment, str(exc))
            except Exception as exc:  # raised at the source's turn, as a sequential sync would
                opened[source] = exc
                break  # nothing after it would have run
        for source in wanted:
            if source in results:
                continue
            entry = opened.pop(source)
            if isinstance(entry, Exception):
                raise entry
            stack, run = entry
            if source == "shopify":
                settled.set()
            with stack:
                results[source] = run.commit(progress)
    finally:
        settled.set()  # nothing is left waiting for it: a fetching waits before it can be stopped
        for entry in reversed(list(opened.values())):
            if isinstance(entry, tuple):
                entry[0].close()
    return results


class _Event(fetcher.Ready, Protocol):
    def set(self) -> None: ...


def _event() -> _Event:
    """An event a forked fetching helper sees set (a thread's too)."""
    if "fork" in multiprocessing.get_all_start_methods():
        return multiprocessing.get_context("fork").Event()
    return threading.Event()


def _not_started(source: str, full: bool, moment: datetime, error: str) -> SyncRunResult:
    return SyncRunResult(
        source=source,
        mode="full" if full else "incremental",
        ok=False,
        run_id=None,
        started_at=moment,
        finished_at=moment,
        error=error,
    )


@contextmanager
def _opened(
    engine: Engine,
    settings: Settings,
    policy: SlaPolicy,
    source: str,
    *,
    full: bool,
    now: datetime | None,
    options: SyncOptions | None,
    transport: httpx.BaseTransport | None = None,
    settled: fetcher.Ready | None = None,
) -> Iterator[_Run]:
    """A source's run, started: its lock held, its run row written, its pages being fetched ahead.

    The store's fetching helper classifies its pages too (`services.sync.ahead`), once `settled` is set
    (at once without it): when the 3PL and carrier data it classifies with will not change again.
    A run left before it finished committing (an error elsewhere, Ctrl-C) is recorded as failed."""
    options = options or SyncOptions()
    start = now or datetime.now(UTC)
    settings.source_credentials(source)  # a missing setting is a ConfigurationError before anything starts
    with named_lock(engine, lock_name(source)) as lock, collector.held_back():
        with engine.begin() as conn:
            runs.mark_interrupted(conn, source)
            plan = _plan(conn, source, full, start, options)
            run_id = runs.start_run(
                conn,
                source=source,
                mode=plan.mode,
                started_at=start,
                pass_since=plan.since,
                pass_started_at=plan.pass_started_at,
                cursor=plan.cursor,
            )
        client = _client(source, settings, transport, options)
        run = _Run(engine, policy, source, plan, run_id, start, lock, client)
        try:
            run.events = fetcher.fetch_ahead(
                engine,
                lambda db: _events(client, db, policy, plan, start, options),
                client.stats,
                helper=options.fetch_process and transport is None,  # a test's transport stays in-process
                prepare=_prepare(client, policy, start),
                ready=settled,
            )
            yield run
        finally:
            run.close()


class _Run:
    """One source's run between `_opened` and its result: `commit` writes its pages as they come."""

    def __init__(
        self,
        engine: Engine,
        policy: SlaPolicy,
        source: str,
        plan: Plan,
        run_id: int,
        start: datetime,
        lock: HeldLock,
        client: SourceClient,
    ) -> None:
        self.engine, self.policy, self.source, self.plan = engine, policy, source, plan
        self.run_id, self.start, self.lock, self.client = run_id, start, lock, client
        self.started = time.perf_counter()
        self.events: fetcher.Prefetch | None = None
        self.finished = False

    def clock(self) -> datetime:  # `now` plus the time this run has taken
        return self.start + timedelta(seconds=time.perf_counter() - self.started)

    def commit(self, progress: Progress | None) -> SyncRunResult:
        """Commit every fetched page in order, then record how the run ended."""
        engine, plan, run_id, events = self.engine, self.plan, self.run_id, self.events
        assert events is not None
        totals = {"pages": 0, "records": 0, "reclassified": 0}
        watermark: datetime | None = None
        rescan_from: datetime | None = None
        error: str | None = None
        refreshed = time.perf_counter()
        try:
            for event in events:
                if isinstance(event, PassComplete):
                    watermark = plan.pass_started_at
                    with engine.begin() as conn:
                        runs.record_values(conn, run_id, watermark=watermark, cursor=None)
                elif isinstance(event, RescanDone):
                    rescan_from = event.since
                    with engine.begin() as conn:
                        runs.record_values(conn, run_id, rescan_from=rescan_from)
                else:
                    with engine.begin() as conn:
                        reclassified = _commit(conn, event, self.policy, self.start)
                        runs.record_page(
                            conn,
                            run_id,
                            records=len(event.records),
                            reclassified=reclassified,
                            cursor=event.cursor,
                        )
                    collector.collect_young()
                    totals["pages"] += 1
                    totals["records"] += len(event.records)
                    totals["reclassified"] += reclassified
                    if time.perf_counter() - refreshed > LOCK_REFRESH_S:  # keeps a SQLite lock alive
                        self.lock.refresh()
                        refreshed = time.perf_counter()
                    if progress is not None:
                        progress(SyncProgress(self.source, event.kind, totals["pages"], totals["records"]))
        except SourceError as exc:
            error = str(exc)
        except BaseException as exc:
            self._finish(f"{type(exc).__name__}: {exc}")
            raise
        finally:
            self._stop_fetching()
        finished = self._finish(error)
        stats = self.client.stats
        return SyncRunResult(
            source=self.source,
            mode=plan.mode,
            ok=error is None,
            run_id=run_id,
            started_at=self.start,
            finished_at=finished,
            watermark=watermark,
            rescan_from=rescan_from,
            resumed=plan.resumed,
            error=error,
            requests=stats.requests,
            retries=stats.retries,
            seconds=time.perf_counter() - self.started,
            **totals,
        )

    def close(self) -> None:
        """Stop fetching; a run that did not finish committing is recorded as failed."""
        self._stop_fetching()
        if not self.finished:
            self._finish("stopped before its pages were committed")

    def _stop_fetching(self) -> None:
        if self.events is not None:
            self.events.close()  # stops the fetching thread or process before its client is closed
            self.events = None
            self.client.close()

    def _finish(self, error: str | None) -> datetime:
        finished = self.clock()
        with self.engine.begin() as conn:
            runs.record_values(
                conn, self.run_id, status="failed" if error else "ok", error=error, finished_at=finished
            )
        self.finished = True
        return finished


def _source(name: str) -> str:
    if name not in SOURCE_OF:
        raise InputError(
            f"unknown source {name!r}: use one of shopify, shipbob, easypost (or store, 3pl, carrier)"
        )
    return SOURCE_OF[name]


def _client(
    source: str, settings: Settings, transport: httpx.BaseTransport | None, options: SyncOptions
) -> SourceClient:
    patience: dict[str, Any] = {"max_attempts": options.max_attempts, "backoff_s": options.backoff_s}
    if source == "shopify":
        return ShopifyClient(settings, transport=transport, **patience)
    if source == "shipbob":
        return ShipBobClient(settings, transport=transport, **patience)
    return EasyPostClient(settings, transport=transport, **patience)


def _prepare(client: SourceClient, policy: SlaPolicy, now: datetime) -> fetcher.Prepare | None:
    """What finishes a page where it is fetched: the store's are classified there (services.sync.ahead)."""
    if not isinstance(client, ShopifyClient):
        return None
    return lambda db, page: ahead.classify_page(db, page, policy, now, client)


def _events(
    client: SourceClient,
    engine: Engine,
    policy: SlaPolicy,
    plan: Plan,
    now: datetime,
    options: SyncOptions,
) -> Iterator[Event]:
    if isinstance(client, ShopifyClient):
        return store_pages(client, engine, plan, now, options)
    if isinstance(client, ShipBobClient):
        return warehouse_pages(client, plan, options)
    assert isinstance(client, EasyPostClient)
    return tracker_pages(client, engine, plan, options)


def _plan(conn: Connection, source: str, full: bool, now: datetime, options: SyncOptions) -> Plan:
    """Resume an unfinished pass, or start a full or incremental one; decide whether to re-scan."""
    last = runs.last_pass_run(conn, source)
    mark = runs.watermark(conn, source)
    if (
        last is not None
        and last.status == "failed"
        and last.cursor is not None
        and (not full or last.pass_since is None)
        and last.pass_started_at is not None
    ):
        plan = Plan(
            mode=last.mode,
            since=last.pass_since,
            pass_started_at=last.pass_started_at,
            cursor=last.cursor,
            resumed=True,
            rescan=False,
        )
    elif full or mark is None:
        plan = Plan(mode="full", since=None, pass_started_at=now, cursor=None, resumed=False, rescan=False)
    else:
        plan = Plan(
            mode="incremental",
            since=mark - options.overlap,
            pass_started_at=now,
            cursor=None,
            resumed=False,
            rescan=False,
        )
    if source == "shopify" and plan.mode == "incremental":
        last_rescan = runs.last_rescan(conn, source)
        due = (
            last_rescan is None
            or now - last_rescan >= options.rescan_after
            or runs.runs_since(conn, source, last_rescan) + 1 >= options.rescan_every
        )
        plan = replace(plan, rescan=due)
    return plan


# ---------------------------------------------------------------- one page, one transaction


def _commit(conn: Connection, page: Page, policy: SlaPolicy, now: datetime) -> int:
    """Write one page and reclassify the orders it touches; returns how many were reclassified."""
    # A record stored exactly as it comes again (most of a re-scan, the overlap of incremental runs, a
    # full re-sync) changes no classification: only the orders of the others are classified again. The
    # rows are written either way, for their fetch time. (A store order compares in full, fulfillments
    # included, so the store's `updated_at` quirk does not matter here.)
    if page.kind == "store":
        if page.holds_pending:
            raise AssertionError("a store page reached its commit before its holds were asked")
        version = store.fulfilment_version(conn, hold=True)  # first: see `ahead.classifications`
        orders = store.with_stored_holds(conn, [o for o in page.records if isinstance(o, StoreOrder)])
        same = store.unchanged_store_orders(conn, orders, policy.fingerprint())
        written = store.write_store_orders(conn, orders, now)  # newest wins: less any older than stored
        fresh = [o for o in written if o.id not in same]
        made = ahead.classifications(conn, fresh, page.classified, version, policy, now)
        store.write_classifications(conn, made)
        return len(fresh)
    if page.kind == "warehouse":
        warehouse = [w for w in page.records if isinstance(w, WarehouseOrder)]
        same = store.unchanged_warehouse_orders(conn, warehouse)
        affected = _orders_of_warehouse(conn, [w for w in warehouse if w.id not in same])
        store.write_warehouse_orders(conn, warehouse, now)
        return store.reclassify(conn, affected, policy, now)
    if page.kind == "trackers":
        trackers = [t for t in page.records if isinstance(t, store.TrackerScans)]
        same_trackers = store.unchanged_trackers(conn, trackers)
        store.write_tracker_scans(conn, trackers, now)
        changed = [w.tracker for w in trackers if w.tracker.id not in same_trackers]
        return store.reclassify(conn, _orders_of_trackers(conn, changed), policy, now)
    store.write_inventory(conn, [i for i in page.records if isinstance(i, InventoryItem)], now)
    return 0


# These lookups run for every committed page: driver SQL (services.bulk) rather than Core's expanding
# IN, whose compilation cost more than the queries on a full sync.


def _orders_of_warehouse(conn: Connection, warehouse: list[WarehouseOrder]) -> list[int]:
    """Store orders a page of 3PL orders may change: by reference, by number, and any earlier match."""
    ids = {sid for sid in (parse_reference(w.reference_id)[0] for w in warehouse) if sid is not None}
    numbers = sorted({w.order_number for w in warehouse if w.order_number})
    ids.update(i for (i,) in bulk_select(conn, T_ORDER, ("id",), "number", numbers))
    ids.update(
        i
        for (i,) in bulk_select(conn, T_WAREHOUSE, ("store_order_id",), "id", [w.id for w in warehouse])
        if i is not None
    )
    return sorted(i for (i,) in bulk_select(conn, T_ORDER, ("id",), "id", sorted(ids)))


def _orders_of_trackers(conn: Connection, trackers: list[Tracker]) -> list[int]:
    codes = sorted({t.tracking_code for t in trackers})
    return sorted({i for (i,) in bulk_select(conn, T_CODES, ("order_id",), "tracking_number", codes)})
