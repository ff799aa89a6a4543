"""Named run locks across processes: two syncs of the same source never run at once.

PostgreSQL: a session-level advisory lock, `pg_try_advisory_lock(LOCK_NAMESPACE, hashtext(name))`, taken on a
dedicated AUTOCOMMIT connection held for the whole with-block; it dies with the connection, so a crashed
holder never leaves it behind. (The two-key form does not share key space with the audit chain's lock.)

SQLite: a row in `run_lock`, inserted with ON CONFLICT DO NOTHING in a transaction that first deletes an
expired row for the name, so taking it is atomic. A holder that died leaves its row, which stops blocking
after `ttl_s` (15 min by default); a long run keeps it by calling `lock.refresh()`.
"""

from __future__ import annotations

import logging
import os
import socket
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Connection, delete, text, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Engine

from db.models.locks import RunLock
from services.audit import utcnow
from services.errors import ConflictError

__all__ = ["DEFAULT_TTL_S", "LOCK_NAMESPACE", "HeldLock", "named_lock"]

log = logging.getLogger(__name__)

LOCK_NAMESPACE = 0x6C6F636B  # "lock": first key of the two-key advisory lock
DEFAULT_TTL_S = 15 * 60
POLL_S = 0.2
_RUN_LOCK = RunLock.__table__  # type: ignore[attr-defined]


@dataclass
class HeldLock:
    """The lock while it is held. `refresh()` extends a SQLite lock; it raises ConflictError if it was lost."""

    name: str
    holder: str
    _refresh: Callable[[], None] = field(repr=False)

    def refresh(self) -> None:
        self._refresh()


def _holder() -> str:
    return f"{socket.gethostname()[:60]}:{os.getpid()}:{uuid.uuid4().hex[:12]}"


def _attempts(name: str, wait: bool, timeout_s: float, try_once: Callable[[], bool]) -> None:
    """Try once; when `wait`, retry until `timeout_s` (forever when it is 0 or less). Raise when not taken."""
    deadline = time.monotonic() + timeout_s if timeout_s > 0 else None
    while not try_once():
        if not wait or (deadline is not None and time.monotonic() >= deadline):
            raise ConflictError(f"{name} is already running")
        time.sleep(POLL_S if deadline is None else max(0.0, min(POLL_S, deadline - time.monotonic())))


@contextmanager
def named_lock(
    engine: Engine,
    name: str,
    *,
    wait: bool = False,
    timeout_s: float = 0,
    ttl_s: float = DEFAULT_TTL_S,
    clock: Callable[[], datetime] = utcnow,
) -> Iterator[HeldLock]:
    """Hold the lock called `name` for the with-block, or raise ConflictError(f"{name} is already running").

    With `wait=True` it retries until `timeout_s` seconds have passed (without limit when `timeout_s` <= 0).
    The lock is released when the block exits, however it exits.
    """
    if not name or len(name) > 128:
        raise ValueError("lock names are 1–128 characters")
    if engine.dialect.name == "postgresql":
        with _advisory_lock(engine, name, wait, timeout_s) as held:
            yield held
    else:
        with _row_lock(engine, name, wait, timeout_s, ttl_s, clock) as held:
            yield held


@contextmanager
def _advisory_lock(engine: Engine, name: str, wait: bool, timeout_s: float) -> Iterator[HeldLock]:
    keys = {"namespace": LOCK_NAMESPACE, "name": name}
    connection: Connection = engine.connect().execution_options(isolation_level="AUTOCOMMIT")
    try:

        def try_once() -> bool:
            taken = connection.execute(text("SELECT pg_try_advisory_lock(:namespace, hashtext(:name))"), keys)
            return bool(taken.scalar_one())

        _attempts(name, wait, timeout_s, try_once)
        try:
            yield HeldLock(name, f"pg:{_holder()}", lambda: connection.execute(text("SELECT 1")).close())
        finally:
            try:
                connection.execute(text("SELECT pg_advisory_unlock(:namespace, hashtext(:name))"), keys)
            except Exception:  # never hand a connection that may still hold the lock back to the pool
                log.exception("could not release advisory lock %s; dropping its connection", name)
                connection.invalidate()
    finally:
        connection.close()


def _insert_ignore(connection: Connection, values: dict[str, Any]) -> bool:
    dialect_insert: Any = postgresql.insert if connection.dialect.name == "postgresql" else sqlite.insert
    statement = dialect_insert(_RUN_LOCK).values(**values).on_conflict_do_nothing(index_elements=["name"])
    return connection.execute(statement.returning(_RUN_LOCK.c.name)).first() is not None


@contextmanager
def _row_lock(
    engine: Engine, name: str, wait: bool, timeout_s: float, ttl_s: float, clock: Callable[[], datetime]
) -> Iterator[HeldLock]:
    holder = _holder()
    ttl = timedelta(seconds=ttl_s)

    def try_once() -> bool:
        now = clock()
        with engine.begin() as connection:
            # The DELETE is the first write, so it takes SQLite's write lock before the insert decides.
            connection.execute(
                delete(_RUN_LOCK).where(_RUN_LOCK.c.name == name, _RUN_LOCK.c.expires_at <= now)
            )
            return _insert_ignore(
                connection, {"name": name, "holder": holder, "acquired_at": now, "expires_at": now + ttl}
            )

    def refresh() -> None:
        with engine.begin() as connection:
            kept = connection.execute(
                update(_RUN_LOCK)
                .where(_RUN_LOCK.c.name == name, _RUN_LOCK.c.holder == holder)
                .values(expires_at=clock() + ttl)
            ).rowcount
        if not kept:
            raise ConflictError(f"{name}: the lock expired and was taken over")

    _attempts(name, wait, timeout_s, try_once)
    try:
        yield HeldLock(name, holder, refresh)
    finally:
        try:
            with engine.begin() as connection:
                connection.execute(
                    delete(_RUN_LOCK).where(_RUN_LOCK.c.name == name, _RUN_LOCK.c.holder == holder)
                )
        except Exception:  # it expires after ttl_s anyway
            log.exception("could not release run lock %s", name)
