"""Full and incremental sync of one source under the source's lock: fetch a page, write it and
reclassify what it changed in one transaction (`services.sync.apply`), record it in the run's row."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.exc import OperationalError

from checks.model import InventoryItem, StoreOrder, WarehouseOrder
from checks.policy import SlaPolicy
from services import store
from services.database_errors import as_database_error
from services.errors import ConflictError, InputError, SourceError
from services.locks import HeldLock, named_lock
from services.settings import Settings
from services.sources.easypost.client import EasyPostClient
from services.sources.http import SourceClient
from services.sources.shipbob.client import ShipBobClient
from services.sources.shopify.client import ShopifyClient
from services.sync import runs
from services.sync.apply import apply_records
from services.sync.pages import (
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

# sync_all's order: the 3PL and the carrier first, so a store page's holds are asked against fresh data
# and the store's orders are classified once with everything in (as the snapshot import does). Any
# other order, or overlapping runs, ends with the same answers (`services.sync.apply`).
SYNC_ORDER = ("shipbob", "easypost", "shopify")
LOCK_REFRESH_S = 60.0  # how often a long run checks that its lock (PostgreSQL: its connection) is alive


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
    source is running, ConfigurationError when its settings are missing, DatabaseError when the
    database is locked, read-only or unreachable. An interrupt (Ctrl+C, or
    SIGTERM in the CLI) abandons the page being fetched or written, records the run as failed and
    releases the lock before it propagates.
    """
    source = _source(source)
    settings.source_credentials(source)  # a missing setting is a ConfigurationError before anything starts
    options = options or SyncOptions()
    start = now or datetime.now(UTC)
    try:
        with named_lock(engine, lock_name(source)) as lock:
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
            with _client(source, settings, transport, options) as client:
                run = _Run(engine, policy, source, plan, run_id, start, lock, client)
                return run.commit(_events(client, engine, plan, start, options), progress)
    except OperationalError as exc:  # locked, read-only, deadlocked, unreachable: said in words
        raise as_database_error(exc) from exc


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
    """Sync each of `sources`, one after another: the 3PL, then the carrier, then the store. One failing
    never stops the others; a source whose sync is already running gets a result with `ok` False, no
    run id and the error "another sync of <source> is running"."""
    asked = {_source(name) for name in sources}
    results: dict[str, SyncRunResult] = {}
    for source in (s for s in SYNC_ORDER if s in asked):
        moment = now or datetime.now(UTC)
        try:
            results[source] = sync_source(
                engine, settings, policy, source, full=full, now=moment, progress=progress, options=options
            )
        except ConflictError:
            results[source] = _not_started(source, full, moment, busy_message(source))
    return results


def busy_message(source: str) -> str:
    return f"another sync of {source} is running; nothing to do"


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


class _Run:
    """One source's run once its row is written: `commit` writes its pages as they are fetched."""

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

    def clock(self) -> datetime:  # `now` plus the time this run has taken
        return self.start + timedelta(seconds=time.perf_counter() - self.started)

    def commit(self, events: Iterator[Event], progress: Progress | None) -> SyncRunResult:
        """Fetch and commit every page in order, then record how the run ended."""
        engine, plan, run_id = self.engine, self.plan, self.run_id
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
                    page = event
                    with engine.begin() as conn:
                        reclassified = len(_write(conn, page, self.policy, self.start))
                        runs.record_page(
                            conn,
                            run_id,
                            records=len(page.records),
                            reclassified=reclassified,
                            cursor=page.cursor,
                        )
                    totals["pages"] += 1
                    totals["records"] += len(page.records)
                    totals["reclassified"] += reclassified
                    if time.perf_counter() - refreshed > LOCK_REFRESH_S:  # a lost lock stops the run
                        self.lock.refresh()
                        refreshed = time.perf_counter()
                    if progress is not None:
                        progress(SyncProgress(self.source, page.kind, totals["pages"], totals["records"]))
        except SourceError as exc:
            error = str(exc)
        except BaseException as exc:  # Ctrl+C, SIGTERM, a database error: the page is rolled back
            self._finish(f"{type(exc).__name__}: {exc}".rstrip(": "))
            raise
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

    def _finish(self, error: str | None) -> datetime:
        finished = self.clock()
        with self.engine.begin() as conn:
            runs.record_values(
                conn, self.run_id, status="failed" if error else "ok", error=error, finished_at=finished
            )
        return finished


def _write(conn: Connection, page: Page, policy: SlaPolicy, now: datetime) -> set[int]:
    """Write one page and reclassify the store orders it changed; their ids."""
    records = page.records
    if page.kind == "store":
        return apply_records(
            conn, policy, now, store_orders=[o for o in records if isinstance(o, StoreOrder)]
        )
    if page.kind == "warehouse":
        warehouse = [w for w in records if isinstance(w, WarehouseOrder)]
        return apply_records(conn, policy, now, warehouse_orders=warehouse)
    if page.kind == "trackers":
        trackers = [t for t in records if isinstance(t, store.TrackerScans)]
        return apply_records(conn, policy, now, trackers=trackers)
    return apply_records(conn, policy, now, inventory=[i for i in records if isinstance(i, InventoryItem)])


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


def _events(
    client: SourceClient,
    engine: Engine,
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
