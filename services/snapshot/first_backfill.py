"""What follows every order written, deferred during a first backfill into an empty SQLite store.

Two things are kept current by triggers, row by row: the order search index (FTS5 `order_search`,
migration 0011; triggers on `store_order`) and the SLA day totals (`sla_day_total`, migration 0016;
triggers on `order_classification`). A first backfill writes every order once, so the import drops
those triggers inside its own transaction and, once every order is in, puts them back exactly as they
were (their SQL as stored), rebuilds the index from the table and counts the totals in one pass: the
same index and the same totals, for a fraction of the cost. A failed import rolls the drop back with
everything else. A store that has orders already keeps the triggers: there they must follow updates
and deletes too.

A speed trick, needed by the backfill figures (README "Backfill figures", `bench/bulk_backfill.py`): the
search triggers were about 9% of the CPU time of a compact backfill, the totals' about 15%. PostgreSQL
keeps its trigram indexes and its totals' trigger as they are.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy.engine import Connection

from db.search_schema import SEARCH_TABLE
from db.sla_totals import FILL

_TRIGGERS = (
    "SELECT name, sql FROM sqlite_master WHERE type = 'trigger' AND ("
    "(tbl_name = 'store_order' AND name LIKE 'store_order_search_%') OR "
    "(tbl_name = 'order_classification' AND name LIKE 'sla_day_total_%')) ORDER BY name"
)


@contextmanager
def deferred_on_first_backfill(conn: Connection) -> Iterator[bool]:
    """Inside the caller's write transaction: on SQLite with no store order stored yet, the search and
    totals triggers are dropped for the block, and the index and totals are made when it ends without
    an error. Yields whether anything was deferred."""
    if conn.dialect.name != "sqlite" or conn.exec_driver_sql("SELECT 1 FROM store_order LIMIT 1").first():
        yield False
        return
    # No store order means no classification either (it cascades), so the totals are empty too.
    triggers = [(str(name), str(sql)) for name, sql in conn.exec_driver_sql(_TRIGGERS)]
    if not triggers:  # a schema before migration 0011
        yield False
        return
    for name, _ in triggers:
        conn.exec_driver_sql(f'DROP TRIGGER "{name}"')
    yield True
    for _, sql in triggers:
        conn.exec_driver_sql(sql)
    if any(name.startswith("store_order_search_") for name, _ in triggers):
        conn.exec_driver_sql(f"INSERT INTO {SEARCH_TABLE}({SEARCH_TABLE}) VALUES ('rebuild')")
    if any(name.startswith("sla_day_total_") for name, _ in triggers):
        conn.exec_driver_sql(FILL)


__all__ = ["deferred_on_first_backfill"]
