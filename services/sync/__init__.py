"""Sync: bring what Shopify, ShipBob and EasyPost say into the database, and keep it classified.

Public API (everything else in this package is internal):

    sync_source(engine, settings, policy, source, *, full=False, now=None, progress=None) -> SyncRunResult
    sync_all(engine, settings, policy, *, sources=..., full=False, now=None, progress=None)
        -> dict[source, SyncRunResult]
    refresh_order(engine, settings, policy, name, *, sources=("store", "3pl", "carrier"), now=None)
        -> RefreshResult
    refresh_order_as / sync_all_as(engine, settings, policy, actor, ...)   what a person or the CLI starts:
        the same, checked against the actor's stored role and audited (services.sync.audited)
    freshness(conn) -> dict[source, datetime | None]
    recent_runs(conn, limit) -> list[RunRecord]
    apply_records(conn, policy, now, *, store_orders=(), warehouse_orders=(), trackers=(), inventory=())
        -> set[int]    the one write path (services.sync.apply), for every writer

How a run works (the plain path: fetch a page, write it, reclassify what changed)
- Two syncs of one source never overlap: each holds `named_lock(engine, "sync:<source>")` (a PostgreSQL
  session advisory lock; on SQLite an `fcntl` lock on a file beside the database), which dies with its
  process. A second one raises ConflictError; `sync_all` reports it as "another sync of <source> is
  running; nothing to do".
- A run is a *pass* over the source from a lower time bound (`since`; None for a full pass). Each page
  is fetched, then written in one transaction by `services.sync.apply.apply_records`, which takes the
  write lock first, writes the records, finds the store orders they touch and reclassifies them; the
  same transaction updates the run's row in `sync_run` (pages, records, cursor). A failure keeps every
  committed page; stored data is only ever upserted, never deleted or blanked.
- Syncs of different sources, per-order refreshes and webhooks may overlap freely: every writer goes
  through `apply_records` and its lock order, so they end with the answers of one sequential sync.
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
- ShipBob (API `2026-07`): orders updated since `since` (`LastUpdateStartDate`, `SortOrder=Oldest`),
  oldest id first; then the whole inventory (`/2026-07/inventory-level`) on every run.
- EasyPost has no "updated since" filter. A pass reads the trackers *created* since `since` (newest first,
  `before_id` paging), then re-fetches by id every stored tracker not in a final state (delivered,
  return_to_sender, failure, cancelled) that was not written since the pass began.
- Freshness ("data as of") per source is the start of its latest completed pass; see `runs.freshness`.
- Per-order refresh asks the three sources concurrently, then writes through `apply_records`; see
  `services.sync.refresh`.
"""

from services.sync.apply import apply_records
from services.sync.audited import refresh_order_as, sync_all_as
from services.sync.engine import SYNC_ORDER, SyncProgress, busy_message, lock_name, sync_all, sync_source
from services.sync.pages import SyncOptions
from services.sync.refresh import RefreshResult, SourceRefresh, refresh_order, refresh_order_async
from services.sync.runs import SOURCES, RunRecord, SyncRunResult, freshness, recent_runs
from services.write_lock import write_lock

__all__ = [
    "SOURCES",
    "SYNC_ORDER",
    "RefreshResult",
    "RunRecord",
    "SourceRefresh",
    "SyncOptions",
    "SyncProgress",
    "SyncRunResult",
    "apply_records",
    "busy_message",
    "freshness",
    "lock_name",
    "recent_runs",
    "refresh_order",
    "refresh_order_as",
    "refresh_order_async",
    "sync_all",
    "sync_all_as",
    "sync_source",
    "write_lock",
]
