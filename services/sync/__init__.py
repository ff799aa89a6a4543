"""Sync: bring what Shopify, ShipBob and EasyPost say into the database, and keep it classified.

Public API (everything else in this package is internal):

    sync_source(engine, settings, policy, source, *, full=False, now=None, progress=None) -> SyncRunResult
    sync_all(engine, settings, policy, *, sources=..., full=False, now=None, progress=None)
        -> dict[source, SyncRunResult]
    refresh_order(engine, settings, policy, name, *, sources=("store", "3pl", "carrier"), now=None)
        -> RefreshResult
    freshness(conn) -> dict[source, datetime | None]
    recent_runs(conn, limit) -> list[RunRecord]

How a run works
- Two syncs of one source never overlap: each holds `named_lock(engine, "sync:<source>")` (a
  PostgreSQL advisory lock across processes; a row lock on SQLite). A second one raises ConflictError.
- A run is a *pass* over the source from a lower time bound (`since`; None for a full pass), committed
  page by page: each transaction writes one page, reclassifies the orders it touches (as the snapshot
  import does: store pages with `build_views` + `store_classifications`, 3PL and carrier pages by
  reclassifying the store orders they link to) and updates the run's row in `sync_run` (pages, records,
  cursor). A failure keeps every committed page; stored data is only ever upserted, never deleted or
  blanked (an order whose hold was not asked keeps the stored hold).
- Watermark: when a pass completes, its start becomes the source's watermark; the next incremental pass
  reads from `watermark - overlap` (10 min: clock skew and late writes). A pass that stopped part-way
  leaves its cursor in its run row and the next run resumes it (same `since`, after the cursor) before
  anything else, so the watermark only ever advances over completed passes. Resuming is exact because
  each listing has a stable order: Shopify by (update time, id) behind its GraphQL cursor, ShipBob by id (`SortOrder=Oldest`; with
  only a lower bound, orders join the listing but never leave it, so page numbers only shift forward),
  EasyPost newest first (`before_id`).
- Shopify (GraphQL Admin `2026-10`): the `orders` connection with `updated_at:>=` and `sortKey: UPDATED_AT`,
  cursor-paged (the cursor is the run's resume point); a pass without `since` (full sync, first
  backfill) is one bulk operation whose JSONL is read as it downloads. Each order carries its
  fulfillment orders, so its hold comes with it. Re-scan: the store's
  `updated_at` does not move for some fulfillment changes, which the `updated_at` search then never returns;
  so every `rescan_every`-th incremental run, or when the last re-scan is older than `rescan_after` (1 h),
  every stored order that is not done (open, on hold, sync delay, awaiting payment, vendor) and was
  created in the last `rescan_days` is fetched again by id (`nodes(ids:)`). A full pass counts as
  a re-scan.
- ShipBob: `/1.0/order?LastUpdateStartDate=…&SortOrder=Oldest&Limit=250` following `next-page`; then the
  whole inventory (products joined to inventory items for their SKUs) on every run.
- EasyPost has no "updated since" filter. A pass reads the trackers *created* since `since` (newest first,
  `before_id` paging), then re-fetches by id (a few at a time) every stored tracker not in a final state
  (delivered, return_to_sender, failure, cancelled) that was not written since the pass began — those
  are the trackers of orders not yet delivered, the only ones whose scans still change; a re-fetch cut
  short is not repeated for the trackers it already wrote.
- Fetching runs ahead of the commits in a forked helper process (its own database connections; pages
  come back as msgpack), or in a thread where a process cannot serve: in-memory SQLite, no `fork`, one
  core, a test transport, or `SyncOptions(fetch_process=False)`. Pages are committed strictly in order;
  see `services.sync.fetcher`. `sync_all` starts every source's fetching at once and commits them one
  at a time. A store page's holds are asked, and the page classified, where it is fetched, once the
  store's turn has come (`services.sync.ahead`): its commit stores those classifications while the
  fulfilment data version (`services.store.versions`, bumped by every write of 3PL or carrier data)
  and the order's hold are what they were made with, and classifies the rest itself. A run opened
  early and left before it committed (an error in the one before) is recorded failed.
- While a sync runs, the cyclic garbage collector is held back and each page collects the young
  generations (`services.sync.collector`): its full passes took about a fifth of a sync's CPU.
- Freshness ("data as of") per source is the start of its latest completed pass; see `runs.freshness`.
- Per-order refresh asks the three sources concurrently; see `services.sync.refresh`.
"""

from services.sync.engine import SYNC_ORDER, SyncProgress, lock_name, sync_all, sync_source
from services.sync.passes import SyncOptions
from services.sync.refresh import RefreshResult, SourceRefresh, refresh_order, refresh_order_async
from services.sync.runs import SOURCES, RunRecord, SyncRunResult, freshness, recent_runs

__all__ = [
    "SOURCES",
    "SYNC_ORDER",
    "RefreshResult",
    "RunRecord",
    "SourceRefresh",
    "SyncOptions",
    "SyncProgress",
    "SyncRunResult",
    "freshness",
    "lock_name",
    "recent_runs",
    "refresh_order",
    "refresh_order_async",
    "sync_all",
    "sync_source",
]
