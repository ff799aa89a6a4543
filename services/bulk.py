"""Bulk writes straight to the DB-API cursor: SQLAlchemy compiles each statement once, and values are
converted with one precomputed function per column instead of per-row type processing.

This is the import's hot path (hundreds of thousands of rows); everything else uses plain Core.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy import JSON, Boolean, Date, Table
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Connection

from db.types import UTCDateTime

Converter = Callable[[Any], Any]
_CACHE: dict[tuple[str, str, str, tuple[str, ...]], tuple[str, list[str]]] = {}


def _sqlite_datetime(value: datetime | None) -> str | None:
    if value is None:
        return None
    if value.tzinfo is None:
        raise ValueError(f"naive datetime {value!r}: timestamps must carry an offset")
    return value.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S.%f")


def _pg_datetime(value: datetime | None) -> datetime | None:
    if value is not None and value.tzinfo is None:
        raise ValueError(f"naive datetime {value!r}: timestamps must carry an offset")
    return value


def _json(value: Any) -> str | None:
    return None if value is None else json.dumps(value)


def _sqlite_date(value: date | None) -> str | None:
    return None if value is None else value.isoformat()


def _sqlite_bool(value: bool | None) -> int | None:
    return None if value is None else int(value)


def _identity(value: Any) -> Any:
    return value


def _converter(column_type: Any, dialect: str) -> Converter:
    if isinstance(column_type, UTCDateTime):
        return _sqlite_datetime if dialect == "sqlite" else _pg_datetime
    if isinstance(column_type, JSON):
        return _json
    if dialect == "sqlite" and isinstance(column_type, Boolean):
        return _sqlite_bool
    if dialect == "sqlite" and isinstance(column_type, Date):
        return _sqlite_date
    return _identity


def _compiled(conn: Connection, table: Table, keys: Sequence[str] | None, columns: tuple[str, ...]) -> tuple[str, list[str]]:
    dialect = conn.dialect.name
    cache_key = (dialect, table.name, ",".join(keys or ()), columns)
    if cache_key not in _CACHE:
        module = postgresql if dialect == "postgresql" else sqlite
        stmt: Any = module.insert(table)
        if keys:
            updates = {c: stmt.excluded[c] for c in columns if c not in keys}
            stmt = (stmt.on_conflict_do_update(index_elements=list(keys), set_=updates) if updates
                    else stmt.on_conflict_do_nothing(index_elements=list(keys)))
        compiled = stmt.compile(dialect=conn.dialect, column_keys=list(columns))
        order = list(compiled.positiontup) if compiled.positional else list(columns)
        _CACHE[cache_key] = (str(compiled), order)
    return _CACHE[cache_key]


def bulk_write(conn: Connection, table: Table, rows: list[dict[str, Any]], keys: Sequence[str] | None = None) -> None:
    """INSERT rows (all with the same keys); with `keys`, upsert on them (ON CONFLICT DO UPDATE)."""
    if not rows:
        return
    columns = tuple(rows[0])
    sql, order = _compiled(conn, table, keys, columns)
    dialect = conn.dialect.name
    convert = [(name, _converter(table.c[name].type, dialect)) for name in order]
    if conn.dialect.paramstyle in ("qmark", "numeric", "format"):
        params: list[Any] = [tuple(fn(row[name]) for name, fn in convert) for row in rows]
    else:
        params = [{name: fn(row[name]) for name, fn in convert} for row in rows]
    conn.exec_driver_sql(sql, params)
