"""The write lock: step 1 of the lock order every writer of source data follows (see
`services.sync.apply`). Apart from the sync package so that writers which do not sync (the snapshot
import, replacements) take it without importing the connectors."""

from __future__ import annotations

from sqlalchemy import text
from sqlalchemy.engine import Connection

WRITE_LOCK_NAMESPACE = 0x77726974  # "writ": first key of the two-key advisory lock (own key space)


def write_lock(conn: Connection) -> None:
    """Take the write lock for the rest of the caller's transaction (step 1 of the lock order).

    Call it first in any transaction that writes other rows before `apply_records` (it is re-entrant:
    `apply_records` takes it again at no cost)."""
    if conn.dialect.name == "postgresql":
        # Advisory locks are database-wide: the schema keeps installations in separate schemas apart.
        conn.execute(
            text("SELECT pg_advisory_xact_lock(:ns, hashtext(current_schema()))"),
            {"ns": WRITE_LOCK_NAMESPACE},
        )
        return
    dbapi = conn.connection.dbapi_connection
    # pysqlite opens a transaction only at the first write; until then reads hold no lock and another
    # writer could come between. BEGIN IMMEDIATE takes the write lock now (waiting the busy timeout).
    # A transaction already open has written, so it holds the write lock already.
    if dbapi is not None and not getattr(dbapi, "in_transaction", True):
        conn.exec_driver_sql("BEGIN IMMEDIATE")


__all__ = ["WRITE_LOCK_NAMESPACE", "write_lock"]
