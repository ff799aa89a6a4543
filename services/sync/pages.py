"""What a run of each source fetches, page by page: generators of `Page`s the engine commits one by one.

A generator only reads the database (to decide what to ask); every write happens in the engine, one
transaction per page. `PassComplete` says the pass is done (the watermark may advance); `RescanDone`
says the store re-scan finished.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.engine import Engine

from checks.categories import OPEN
from checks.model import Tracker
from services import store
from services.sources.easypost.client import EasyPostClient
from services.sources.shipbob.client import ShipBobClient
from services.sources.shopify.client import ShopifyClient
from services.store import T_CLASS, T_ORDER, T_TRACKER

# Trackers in these states will not change again; every other stored tracker is asked again each pass.
FINAL_TRACKER_STATUSES = ("delivered", "return_to_sender", "failure", "cancelled")
# Categories whose store data can still change in a way `updated_at_min` may not report (a fulfillment).
NOT_DONE = (OPEN, "on_hold", "sync_delay", "awaiting_payment", "third_party_vendor")
REFRESH_CURSOR = "refresh"  # EasyPost: new trackers are done, the re-fetch of open ones is not


@dataclass(frozen=True)
class SyncOptions:
    """How incremental sync and re-scans behave (defaults suit a store with a few thousand orders a day)."""

    # Re-read this much before the watermark: clock skew, late writes.
    overlap: timedelta = timedelta(minutes=10)
    rescan_days: float = 14  # store re-scan: not-done orders created this recently
    rescan_every: int = 6  # re-scan on every Nth incremental run …
    rescan_after: timedelta = timedelta(hours=1)  # … or when the last re-scan is older than this
    workers: int = 4  # concurrent per-record calls (EasyPost trackers by id)
    store_page: int = 250
    warehouse_page: int = 250
    tracker_page: int = 100
    ids_per_call: int = 250  # Shopify `ids=` per request in a re-scan
    max_attempts: int = 5  # per HTTP call (see services.sources.http)
    backoff_s: float = 0.2  # first retry backoff; doubles per attempt
    store_bulk: bool = True  # a Shopify pass over everything is one bulk operation (else cursor pages)


@dataclass(frozen=True)
class Plan:
    """What this run does: a new pass from `since` (None: everything), or the rest of an unfinished one."""

    mode: str  # full | incremental
    since: datetime | None
    pass_started_at: datetime
    cursor: str | None
    resumed: bool
    rescan: bool


@dataclass(frozen=True)
class Page:
    kind: str  # store | warehouse | trackers | inventory
    records: Sequence[object]
    cursor: str | None  # position in the pass after this page; None outside the resumable part


@dataclass(frozen=True)
class PassComplete:
    pass


@dataclass(frozen=True)
class RescanDone:
    since: datetime


Event = Page | PassComplete | RescanDone


def _pool_map(workers: int, fn: Callable[..., object], items: Sequence[object]) -> list[object]:
    if workers <= 1 or len(items) <= 1:
        return [fn(i) for i in items]
    with ThreadPoolExecutor(max_workers=min(workers, len(items))) as pool:
        return list(pool.map(fn, items))


# ---------------------------------------------------------------- store (Shopify)


def store_pages(
    client: ShopifyClient, engine: Engine, plan: Plan, now: datetime, options: SyncOptions
) -> Iterator[Event]:
    """Orders updated since `plan.since`, oldest update first (resumed after the GraphQL `cursor`), then
    the re-scan when due. A pass over everything (no `since`: a full sync or the first backfill) is one
    bulk operation, read as it downloads. Each order comes with its hold.
    """
    if options.store_bulk and plan.since is None and plan.cursor is None:
        for orders in client.bulk_order_pages(size=options.store_page):
            yield Page("store", orders, None)
    else:
        # A pass cut short before the GraphQL connector left a REST `since_id` (digits): start it over.
        after = plan.cursor if plan.cursor and not plan.cursor.isdigit() else None
        for page in client.order_pages(updated_at_min=plan.since, after=after, limit=options.store_page):
            yield Page("store", page.orders, page.cursor or after)
    yield PassComplete()
    if plan.rescan:
        since = now - timedelta(days=options.rescan_days)
        with engine.connect() as conn:
            ids = list(
                conn.scalars(
                    select(T_ORDER.c.id)
                    .join(T_CLASS, T_CLASS.c.order_id == T_ORDER.c.id)
                    .where(T_CLASS.c.base_category.in_(NOT_DONE), T_ORDER.c.created_at >= since)
                    .order_by(T_ORDER.c.id)
                )
            )
        for start in range(0, len(ids), options.ids_per_call):
            yield Page("store", client.orders_by_ids(ids[start : start + options.ids_per_call]), None)
        yield RescanDone(since)


# ---------------------------------------------------------------- 3PL (ShipBob)


def warehouse_pages(client: ShipBobClient, plan: Plan, options: SyncOptions) -> Iterator[Event]:
    """3PL orders last updated since `plan.since`, oldest id first (resumed at the page after `cursor`),
    then the whole inventory (a few hundred SKUs at most; ShipBob's inventory levels carry their SKUs).

    Paging by number is safe to resume: with only a lower bound on the update time, orders can join the
    listing but never leave it, so pages shift towards the end (a record seen twice), never skipping one.
    """
    done = int(plan.cursor) if plan.cursor else 0
    for page in client.order_pages(last_update_start=plan.since, page=done + 1, limit=options.warehouse_page):
        done += 1
        yield Page("warehouse", page.records, str(done))
    yield Page("inventory", list(client.inventory().values()), None)
    yield PassComplete()


# ---------------------------------------------------------------- carrier (EasyPost)


def tracker_pages(
    client: EasyPostClient, engine: Engine, plan: Plan, options: SyncOptions
) -> Iterator[Event]:
    """New trackers (created since `plan.since`, newest first, `before_id` paging, resumed after `cursor`),
    then every stored tracker not in a final state and not written since the pass began, by id, a page
    at a time (so a re-fetch cut short is not repeated for the trackers it already wrote)."""
    if plan.cursor != REFRESH_CURSOR:
        for page in client.tracker_pages(
            start_datetime=plan.since, before_id=plan.cursor, page_size=options.tracker_page
        ):
            yield Page("trackers", [store.as_written(t) for t in page.trackers], page.last_id or plan.cursor)
    with engine.connect() as conn:
        stale = list(
            conn.scalars(
                select(T_TRACKER.c.id)
                .where(
                    T_TRACKER.c.status.not_in(FINAL_TRACKER_STATUSES),
                    T_TRACKER.c.synced_at < plan.pass_started_at,
                )
                .order_by(T_TRACKER.c.id)
            )
        )
    for start in range(0, len(stale), options.tracker_page):
        chunk = stale[start : start + options.tracker_page]
        found = _pool_map(options.workers, client.tracker, chunk)
        yield Page("trackers", [store.as_written(t) for t in found if isinstance(t, Tracker)], REFRESH_CURSOR)
    yield PassComplete()
