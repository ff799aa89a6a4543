"""Database failures in words: a locked, read-only, deadlocked or unreachable database becomes a
`DatabaseError` with one clear line, for the CLI (exit 1) and the console (`st.error`)."""

from __future__ import annotations

import random
import time
from collections.abc import Callable
from typing import TypeVar

from sqlalchemy.exc import DBAPIError, OperationalError

from db.session import LOCK_TIMEOUT_S
from services.errors import DatabaseError

T = TypeVar("T")

# What the console shows as a database failure rather than a bug: locked, read-only, deadlocked,
# timed out, unreachable (psycopg and sqlite3 raise these as OperationalError).
DATABASE_ERRORS: tuple[type[BaseException], ...] = (OperationalError,)

DEADLOCK = "40P01"
SERIALIZATION_FAILURE = "40001"
LOCK_NOT_AVAILABLE = "55P03"


def sqlstate(exc: BaseException) -> str | None:
    """PostgreSQL's SQLSTATE of a driver error, when there is one."""
    original = getattr(exc, "orig", None)
    return getattr(original, "sqlstate", None) or getattr(original, "pgcode", None)


def is_retryable(exc: BaseException) -> bool:
    """A deadlock or serialization failure: the transaction was rolled back and may simply run again."""
    return isinstance(exc, DBAPIError) and sqlstate(exc) in (DEADLOCK, SERIALIZATION_FAILURE)


def as_database_error(exc: BaseException) -> DatabaseError:
    """The failure as one line a person can act on."""
    code = sqlstate(exc)
    first = str(getattr(exc, "orig", None) or exc).strip().splitlines()
    said = first[0] if first else type(exc).__name__
    lowered = said.lower()
    if code == DEADLOCK or "deadlock" in lowered:
        message = "the database stopped a deadlock between two writers; nothing was saved, try again"
    elif code == SERIALIZATION_FAILURE:
        message = "a concurrent change conflicted with this one; nothing was saved, try again"
    elif code == LOCK_NOT_AVAILABLE or "lock timeout" in lowered or "database is locked" in lowered:
        message = (
            f"the database is locked: another process held a lock for more than {LOCK_TIMEOUT_S}s; "
            "nothing was saved, try again"
        )
    elif "readonly" in lowered or "read-only" in lowered or "read only" in lowered:
        message = f"the database is read-only ({said}); check the file's permissions and DATABASE_URL"
    else:
        message = said
    return DatabaseError(f"database: {message}")


def retry_on_conflict(work: Callable[[], T], *, attempts: int = 5, pause_s: float = 0.05) -> T:
    """Run `work` (one whole transaction) again when the database rolled it back for a deadlock or a
    serialization failure. For transactions that record an irreversible external action (a created
    3PL order): the action happened, so its record must land."""
    for attempt in range(1, attempts + 1):
        try:
            return work()
        except DBAPIError as exc:
            if attempt == attempts or not is_retryable(exc):
                raise
            time.sleep(pause_s * attempt * (0.5 + random.random()))
    raise AssertionError("unreachable")  # pragma: no cover


__all__ = ["DATABASE_ERRORS", "as_database_error", "is_retryable", "retry_on_conflict", "sqlstate"]
