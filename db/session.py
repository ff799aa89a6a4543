"""Engine and session factory: SQLite file by default, PostgreSQL when DATABASE_URL says so."""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from sqlalchemy import event, make_url
from sqlalchemy.engine import Engine
from sqlmodel import Session, create_engine

DEFAULT_SQLITE_PATH = Path("data/order-recon.db")
# How long any statement waits for a lock before it fails (PostgreSQL `lock_timeout`, SQLite's busy
# timeout): a stuck or dead holder shows as a clear error, never as a hang.
LOCK_TIMEOUT_S = 30


def default_database_url() -> str:
    return f"sqlite:///{DEFAULT_SQLITE_PATH}"


def make_engine(url: str, **kwargs: Any) -> Engine:
    """Create an engine; SQLite gets WAL, foreign keys and a busy timeout so the console and a sync can
    share it; every connection waits at most LOCK_TIMEOUT_S for a lock."""
    if url.startswith("postgres://"):
        url = "postgresql+psycopg://" + url.removeprefix("postgres://")
    elif url.startswith("postgresql://"):
        url = "postgresql+psycopg://" + url.removeprefix("postgresql://")
    if url.startswith("sqlite"):
        path = url.split("///", 1)[-1]
        if path and path != ":memory:" and not path.startswith("file:"):
            _create_private(Path(path))
        engine = create_engine(
            url, connect_args={"check_same_thread": False, "timeout": LOCK_TIMEOUT_S}, **kwargs
        )
        event.listen(engine, "connect", _sqlite_pragmas)
        return engine
    kwargs.setdefault("pool_pre_ping", True)
    connect_args = dict(kwargs.pop("connect_args", {}))
    # libpq `options` may come in the URL (`?options=-csearch_path%3Dx`) or in connect_args; keep both.
    in_url = make_url(url).query.get("options")
    parts = [*((in_url,) if isinstance(in_url, str) else in_url or ()), connect_args.get("options") or ""]
    options = " ".join(p for p in parts if p)
    if "lock_timeout" not in options:
        options = f"{options} -c lock_timeout={LOCK_TIMEOUT_S * 1000}".strip()
    connect_args["options"] = options
    return create_engine(url, connect_args=connect_args, **kwargs)


def _create_private(path: Path) -> None:
    """The data folder 0700 and the database file 0600, created so from the start (no chmod window);
    SQLite gives its -wal and -shm files the database file's mode."""
    if not path.parent.exists():
        path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    with contextlib.suppress(FileExistsError):
        os.close(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600))


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute(f"PRAGMA busy_timeout={LOCK_TIMEOUT_S * 1000}")
    cursor.close()


@contextmanager
def session_scope(engine: Engine) -> Iterator[Session]:
    """A session that commits on success and rolls back on any error."""
    with Session(engine, expire_on_commit=False) as session:
        try:
            yield session
            session.commit()
        except BaseException:
            session.rollback()
            raise
