"""Named run locks across processes: two syncs of the same source never run at once.

PostgreSQL: a session-level advisory lock, `pg_try_advisory_lock(LOCK_NAMESPACE, hashtext(schema:name))`
(advisory locks are database-wide; the schema keeps installations in separate schemas apart), taken on a
dedicated AUTOCOMMIT connection held for the whole with-block; it dies with the connection, so a crashed
holder never leaves it behind. (The two-key form does not share key space with the audit chain's lock.)

SQLite: an `fcntl` lock on a file beside the database (`<database>.<name>.lock`), which the system
releases when its process ends, however it ends (kill -9 included): a crashed holder never blocks the
next run. Threads of one process are kept apart by a lock of the process.
"""

from __future__ import annotations

import errno
import fcntl
import logging
import os
import re
import socket
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from sqlalchemy import Connection, text
from sqlalchemy.engine import Engine

from services.errors import ConflictError

__all__ = ["LOCK_NAMESPACE", "HeldLock", "named_lock"]

log = logging.getLogger(__name__)

LOCK_NAMESPACE = 0x6C6F636B  # "lock": first key of the two-key advisory lock
POLL_S = 0.2


@dataclass
class HeldLock:
    """The lock while it is held. `refresh()` checks that it is still held (a PostgreSQL connection)."""

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
        with _file_lock(engine, name, wait, timeout_s) as held:
            yield held


@contextmanager
def _advisory_lock(engine: Engine, name: str, wait: bool, timeout_s: float) -> Iterator[HeldLock]:
    keys = {"namespace": LOCK_NAMESPACE, "name": name}
    connection: Connection = engine.connect().execution_options(isolation_level="AUTOCOMMIT")
    try:

        def try_once() -> bool:
            taken = connection.execute(
                text("SELECT pg_try_advisory_lock(:namespace, hashtext(current_schema() || ':' || :name))"),
                keys,
            )
            return bool(taken.scalar_one())

        _attempts(name, wait, timeout_s, try_once)
        try:
            yield HeldLock(name, f"pg:{_holder()}", lambda: connection.execute(text("SELECT 1")).close())
        finally:
            try:
                connection.execute(
                    text("SELECT pg_advisory_unlock(:namespace, hashtext(current_schema() || ':' || :name))"),
                    keys,
                )
            except Exception:  # never hand a connection that may still hold the lock back to the pool
                log.exception("could not release advisory lock %s; dropping its connection", name)
                connection.invalidate()
    finally:
        connection.close()


def _lock_path(engine: Engine, name: str) -> Path | None:
    """The file beside the database that holds `name`'s lock; None for an in-memory database."""
    database = engine.url.database
    if not database or database == ":memory:" or database.startswith("file::memory:"):
        return None
    safe = re.sub(r"[^A-Za-z0-9_.-]", "_", name)
    return Path(database).with_name(f"{Path(database).name}.{safe}.lock")


@contextmanager
def _file_lock(engine: Engine, name: str, wait: bool, timeout_s: float) -> Iterator[HeldLock]:
    """An `fcntl` (POSIX record) lock on a file beside the database, plus a lock for this process's
    threads (POSIX locks belong to the process). The system releases it when the process ends, however
    it ends, and a forked child does not inherit it. An in-memory database is private to its process,
    so the thread lock alone serves."""
    path = _lock_path(engine, name)
    key = str(path) if path is not None else f"{id(engine)}:{name}"
    with _local_guard:
        local = _local_locks.setdefault(key, threading.Lock())

    def take_local() -> bool:
        return local.acquire(blocking=False)

    _attempts(name, wait, timeout_s, take_local)
    fd: int | None = None
    try:
        if path is not None:
            fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o644)

            def take_file() -> bool:
                assert fd is not None
                try:
                    fcntl.lockf(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                except OSError as exc:
                    if exc.errno in (errno.EACCES, errno.EAGAIN):
                        return False
                    raise
                return True

            _attempts(name, wait, timeout_s, take_file)
            holder = _holder()
            os.ftruncate(fd, 0)
            os.write(fd, holder.encode())  # who holds it, for a person looking
        else:
            holder = _holder()
        yield HeldLock(name, f"file:{holder}", lambda: None)
    finally:
        if fd is not None:
            os.close(fd)  # releases the record lock
        local.release()


_local_guard = threading.Lock()
_local_locks: dict[str, threading.Lock] = {}
