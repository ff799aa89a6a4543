"""The `sync_run` table: one row per run, updated with every page it commits; freshness and history."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Table, func, insert, select, update
from sqlalchemy.engine import Connection

from db.models.sync import SyncRun

T_RUN: Table = SyncRun.__table__  # type: ignore[attr-defined]

SOURCES = ("shopify", "shipbob", "easypost")
# Per-order refresh names the systems by role; both spellings are accepted everywhere.
ROLE_OF = {"shopify": "store", "shipbob": "3pl", "easypost": "carrier"}
SOURCE_OF = {"store": "shopify", "3pl": "shipbob", "carrier": "easypost", **{s: s for s in SOURCES}}
PASS_MODES = ("full", "incremental")


@dataclass(frozen=True)
class SyncRunResult:
    """What one run of one source did. `ok` is False when it stopped on an error (kept in `error`);
    pages committed before the error stay committed."""

    source: str
    mode: str  # full | incremental
    ok: bool
    run_id: int | None  # None when the run never started (another sync of the source held the lock)
    started_at: datetime
    finished_at: datetime
    pages: int = 0
    records: int = 0
    reclassified: int = 0
    watermark: datetime | None = None  # set when the pass completed: the source is stored as of this
    rescan_from: datetime | None = None
    resumed: bool = False  # continued a pass an earlier run left unfinished
    error: str | None = None
    requests: int = 0
    retries: int = 0
    seconds: float = 0.0  # from taking the lock to the end; sync_all's runs overlap while one commits

    def as_dict(self) -> dict[str, Any]:
        return {k: (v.isoformat() if isinstance(v, datetime) else v) for k, v in self.__dict__.items()}


@dataclass(frozen=True)
class RunRecord:
    """A row of `sync_run`, for history views."""

    id: int
    source: str
    mode: str
    status: str
    started_at: datetime
    finished_at: datetime | None
    pages: int
    records: int
    reclassified: int
    error: str | None
    watermark: datetime | None
    rescan_from: datetime | None
    order_name: str | None


def start_run(
    conn: Connection,
    *,
    source: str,
    mode: str,
    started_at: datetime,
    pass_since: datetime | None = None,
    pass_started_at: datetime | None = None,
    cursor: str | None = None,
    order_name: str | None = None,
) -> int:
    values = {
        "source": source,
        "mode": mode,
        "status": "running",
        "started_at": started_at,
        "pages": 0,
        "records": 0,
        "reclassified": 0,
        "pass_since": pass_since,
        "pass_started_at": pass_started_at,
        "cursor": cursor,
        "order_name": order_name,
    }
    return int(conn.execute(insert(T_RUN).values(**values).returning(T_RUN.c.id)).scalar_one())


def record_page(
    conn: Connection, run_id: int, *, records: int, reclassified: int, cursor: str | None, pages: int = 1
) -> None:
    """Count one committed page and where the pass stands; called inside the page's transaction."""
    conn.execute(
        update(T_RUN)
        .where(T_RUN.c.id == run_id)
        .values(
            pages=T_RUN.c.pages + pages,
            records=T_RUN.c.records + records,
            reclassified=T_RUN.c.reclassified + reclassified,
            cursor=cursor,
        )
    )


def record_values(conn: Connection, run_id: int, **values: Any) -> None:
    conn.execute(update(T_RUN).where(T_RUN.c.id == run_id).values(**values))


def mark_interrupted(conn: Connection, source: str) -> None:
    """Runs of `source` still 'running' while the caller holds the source's lock died mid-way."""
    conn.execute(
        update(T_RUN)
        .where(T_RUN.c.source == source, T_RUN.c.status == "running")
        .values(status="failed", error="interrupted: the process stopped before the run finished")
    )


def last_pass_run(conn: Connection, source: str) -> Any:
    """The latest full or incremental run of `source` (its row), or None."""
    return conn.execute(
        select(T_RUN)
        .where(T_RUN.c.source == source, T_RUN.c.mode.in_(PASS_MODES))
        .order_by(T_RUN.c.id.desc())
        .limit(1)
    ).first()


def watermark(conn: Connection, source: str) -> datetime | None:
    """The source is stored as of this instant: the start of the latest completed pass."""
    return conn.scalar(select(func.max(T_RUN.c.watermark)).where(T_RUN.c.source == source))


def last_rescan(conn: Connection, source: str) -> datetime | None:
    """When the last completed re-scan (or full pass, which covers everything) started."""
    rescans = select(func.max(T_RUN.c.started_at)).where(
        T_RUN.c.source == source,
        (T_RUN.c.rescan_from.is_not(None)) | ((T_RUN.c.mode == "full") & T_RUN.c.watermark.is_not(None)),
    )
    return conn.scalar(rescans)


def runs_since(conn: Connection, source: str, since: datetime | None) -> int:
    query = (
        select(func.count()).select_from(T_RUN).where(T_RUN.c.source == source, T_RUN.c.mode == "incremental")
    )
    if since is not None:
        query = query.where(T_RUN.c.started_at > since)
    return int(conn.scalar(query) or 0)


def freshness(conn: Connection) -> dict[str, datetime | None]:
    """Per source, the instant its stored data is complete as of (None: never synced completely).

    That is the start of the latest completed pass (a pass resumed over several runs counts from when
    it began). A run that failed part-way does not move it: the pages it committed are kept, but
    Shopify and ShipBob page by id and EasyPost newest first, so no time point bounds what it covered;
    the next run resumes that pass and moves freshness when it completes it.
    """
    rows = conn.execute(
        select(T_RUN.c.source, func.max(T_RUN.c.watermark))
        .where(T_RUN.c.mode.in_(PASS_MODES))
        .group_by(T_RUN.c.source)
    )
    found = dict(rows.tuples().all())
    return {source: found.get(source) for source in SOURCES}


def recent_runs(conn: Connection, limit: int = 20, *, source: str | None = None) -> list[RunRecord]:
    """The latest runs, newest first (per-order refreshes included)."""
    query = select(T_RUN).order_by(T_RUN.c.id.desc()).limit(limit)
    if source is not None:
        query = query.where(T_RUN.c.source == SOURCE_OF.get(source, source))
    return [
        RunRecord(
            id=r.id,
            source=r.source,
            mode=r.mode,
            status=r.status,
            started_at=r.started_at,
            finished_at=r.finished_at,
            pages=r.pages,
            records=r.records,
            reclassified=r.reclassified,
            error=r.error,
            watermark=r.watermark,
            rescan_from=r.rescan_from,
            order_name=r.order_name,
        )
        for r in conn.execute(query)
    ]
