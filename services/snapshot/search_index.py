"""The order search index (SQLite's FTS5 `order_search`, migration 0011) during a first backfill.

The index is kept current by triggers on `store_order`, one FTS insert per order written. A first
backfill into an empty store writes every order once, so the import drops those triggers inside its own
transaction and, once every order is in, puts them back exactly as they were (their SQL as stored) and
rebuilds the index from the table in one pass: the same index, about a tenth of the cost. A failed
import rolls the drop back with everything else. A store that has orders already keeps the triggers:
there the index must follow updates and deletes too.

A speed trick, needed by the backfill figures (README "Backfill figures", `bench/bulk_backfill.py`):
about 9% of the CPU time of a compact backfill. PostgreSQL's trigram indexes stay as they are.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy.engine import Connection

from db.search_schema import SEARCH_TABLE

_TRIGGERS = (
    "SELECT name, sql FROM sqlite_master WHERE type = 'trigger' AND tbl_name = 'store_order' "
    "AND name LIKE 'store_order_search_%' ORDER BY name"
)


@contextmanager
def deferred_on_first_backfill(conn: Connection) -> Iterator[bool]:
    """Inside the caller's write transaction: on SQLite with no store order stored yet, the search
    triggers are dropped for the block and the index is rebuilt when it ends without an error. Yields
    whether it was deferred."""
    if conn.dialect.name != "sqlite" or conn.exec_driver_sql("SELECT 1 FROM store_order LIMIT 1").first():
        yield False
        return
    triggers = [(str(name), str(sql)) for name, sql in conn.exec_driver_sql(_TRIGGERS)]
    if not triggers:  # a schema without the search index (before migration 0011)
        yield False
        return
    for name, _ in triggers:
        conn.exec_driver_sql(f'DROP TRIGGER "{name}"')
    yield True
    for _, sql in triggers:
        conn.exec_driver_sql(sql)
    conn.exec_driver_sql(f"INSERT INTO {SEARCH_TABLE}({SEARCH_TABLE}) VALUES ('rebuild')")


__all__ = ["deferred_on_first_backfill"]
