"""The event store: every verified delivery is written here before its sender gets a reply, then applied.

An event is `received` until applied; `applied` once its records are written (in the same transaction
as the writes, see `services.webhooks.apply`); `failed` after an attempt that raised, with `last_error`
and, when a later attempt may succeed, `next_attempt_at` (backoff: 2 s, 4 s, 8 s … capped at 10 min;
None means it will not be retried: the payload itself is wrong).
"""

from __future__ import annotations

import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import Table, and_, bindparam, func, insert, or_, select, update
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.exc import IntegrityError

from db.models.webhooks import WebhookEvent
from services.webhooks.deliveries import SOURCES, Delivery

T_EVENT: Table = WebhookEvent.__table__  # type: ignore[attr-defined]
RECEIVED, APPLIED, FAILED = "received", "applied", "failed"
BACKOFF_FIRST_S = 2.0
BACKOFF_MAX_S = 600.0
MAX_ERROR = 2000


_SQLITE_WRITER = threading.Lock()


@contextmanager
def writing(engine: Engine) -> Iterator[Connection]:
    """`engine.begin()`, and on SQLite also this process's writer lock. SQLite lets one writer in at a time
    and makes the others poll with sleeps of up to 100 ms; the receiver's store (which a sender waits on)
    and its applier share one process, so they take turns here instead and a store waits only for the
    applier's transaction to end, not for the next poll."""
    if engine.dialect.name != "sqlite":
        with engine.begin() as conn:
            yield conn
        return
    with _SQLITE_WRITER, engine.begin() as conn:
        yield conn


@dataclass(frozen=True)
class StoredEvent:
    id: int
    source: str
    event_id: str
    topic: str
    record_key: str | None
    occurred_at: datetime
    attempts: int
    payload: bytes


def store_event(engine: Engine, delivery: Delivery, body: bytes, *, now: datetime) -> int | None:
    """Store a delivery; its row id, or None when this (source, event id) is stored already."""
    row = {
        "source": delivery.source,
        "event_id": delivery.event_id,
        "topic": delivery.topic,
        "record_key": delivery.record_key,
        "occurred_at": delivery.occurred_at,
        "received_at": now,
        "status": RECEIVED,
        "attempts": 0,
        "next_attempt_at": now,
        "payload": body,
    }
    try:
        with writing(engine) as conn:
            return int(conn.execute(insert(T_EVENT).values(**row).returning(T_EVENT.c.id)).scalar_one())
    except IntegrityError:
        # The unique (source, event_id): a redelivery. Anything else would show again on this read.
        with engine.connect() as conn:
            stored = conn.scalar(
                select(T_EVENT.c.id).where(
                    T_EVENT.c.source == delivery.source, T_EVENT.c.event_id == delivery.event_id
                )
            )
        if stored is None:
            raise
        return None


def due_event_ids(conn: Connection, *, now: datetime, limit: int = 100) -> list[int]:
    """Events to apply now, oldest first: never tried, or failed and due again."""
    due = or_(
        T_EVENT.c.status == RECEIVED,
        and_(T_EVENT.c.status == FAILED, T_EVENT.c.next_attempt_at <= now),
    )
    query = select(T_EVENT.c.id).where(due).order_by(T_EVENT.c.id).limit(limit)
    return list(conn.scalars(query))


def claim_event(conn: Connection, event_id: int, *, now: datetime) -> StoredEvent | None:
    """Lock one due event for this transaction (PostgreSQL: skipped if another worker holds it);
    None when it is no longer due."""
    query = select(T_EVENT).where(
        T_EVENT.c.id == event_id,
        or_(T_EVENT.c.status == RECEIVED, and_(T_EVENT.c.status == FAILED, T_EVENT.c.next_attempt_at <= now)),
    )
    if conn.dialect.name == "postgresql":
        query = query.with_for_update(skip_locked=True)
    row = conn.execute(query).first()
    if row is None:
        return None
    return StoredEvent(
        row.id,
        row.source,
        row.event_id,
        row.topic,
        row.record_key,
        row.occurred_at,
        row.attempts,
        row.payload,
    )


_MARK_APPLIED = (
    update(T_EVENT)
    .where(T_EVENT.c.id == bindparam("row_id"))
    .values(
        status=APPLIED,
        attempts=bindparam("attempts"),
        applied_at=bindparam("applied_at"),
        next_attempt_at=None,
        last_error=None,
        outcome=bindparam("outcome"),
    )
)


def mark_applied(conn: Connection, event: StoredEvent, *, now: datetime, outcome: str) -> None:
    mark_all_applied(conn, [(event, outcome)], now=now)


def mark_all_applied(conn: Connection, done: Sequence[tuple[StoredEvent, str]], *, now: datetime) -> None:
    """Mark events applied, each with what applying it did (one statement for the lot)."""
    if done:
        rows = [
            {"row_id": e.id, "attempts": e.attempts + 1, "applied_at": now, "outcome": outcome[:255]}
            for e, outcome in done
        ]
        conn.execute(_MARK_APPLIED, rows)


def mark_failed(conn: Connection, event: StoredEvent, error: str, *, now: datetime, retry: bool) -> None:
    """Record a failed attempt; with `retry`, when to try again (backoff), else never."""
    attempts = event.attempts + 1
    delay = min(BACKOFF_MAX_S, BACKOFF_FIRST_S * 2 ** min(attempts - 1, 20))
    conn.execute(
        update(T_EVENT)
        .where(T_EVENT.c.id == event.id)
        .values(
            status=FAILED,
            attempts=attempts,
            next_attempt_at=now + timedelta(seconds=delay) if retry else None,
            last_error=error[:MAX_ERROR],
        )
    )


def newer_applied(conn: Connection, event: StoredEvent) -> bool:
    """True when an event about the same record, triggered later than this one, is applied already:
    this one is then older news (the tie-break when the record's own update time did not move)."""
    if event.record_key is None:
        return False
    query = select(T_EVENT.c.id).where(
        T_EVENT.c.source == event.source,
        T_EVENT.c.record_key == event.record_key,
        T_EVENT.c.status == APPLIED,
        T_EVENT.c.occurred_at > event.occurred_at,
    )
    return conn.execute(query.limit(1)).first() is not None


def last_events(conn: Connection) -> dict[str, datetime | None]:
    """When the receiver last stored an event from each source (None: never)."""
    rows = conn.execute(
        select(T_EVENT.c.source, func.max(T_EVENT.c.received_at)).group_by(T_EVENT.c.source)
    ).all()
    found = {source: when for source, when in rows}
    return {source: found.get(source) for source in SOURCES}


def event_counts(conn: Connection, sources: Sequence[str] = SOURCES) -> dict[str, dict[str, int]]:
    """{source: {status: count}}: how far the receiver got, for the CLI and the bench."""
    counts: dict[str, dict[str, int]] = {s: {} for s in sources}
    query = select(T_EVENT.c.source, T_EVENT.c.status, func.count()).group_by(
        T_EVENT.c.source, T_EVENT.c.status
    )
    for source, status, n in conn.execute(query):
        counts.setdefault(source, {})[status] = int(n)
    return counts
