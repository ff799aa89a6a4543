"""Bulk reads and writes straight to the DB-API cursor: SQLAlchemy compiles each statement once, and
values are converted column by column with one precomputed function per column instead of per-row
type processing.

This is the import's hot path (hundreds of thousands of rows); everything else uses plain Core.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable, Iterator, Sequence
from datetime import UTC, date, datetime
from operator import itemgetter
from typing import Any

import orjson
from sqlalchemy import JSON, Boolean, Date, Table, func
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Connection

from db.types import UTCDateTime

Converter = Callable[[Any], Any]
_CACHE: dict[tuple[str, str, str, tuple[str, ...], tuple[str, ...]], tuple[str, list[str]]] = {}

# Values per IN (...) list: far below SQLite's 32766 (999 before SQLite 3.32) and PostgreSQL's 65535
# bound parameters, and large enough that an import batch needs one statement, not several.
IN_CHUNK = 5000 if sqlite3.sqlite_version_info >= (3, 32) else 900


# ---------------------------------------------------------------- values to the database


# Timestamps repeat in bulk writes (a page's fetch time, an order's creation in its row and its
# classification, the end of a due day): two in three are formatted already. Equal aware datetimes are
# the same instant, so they share their UTC text whatever their offset.
_DATETIME_TEXT: dict[datetime, str] = {}
_DATETIME_TEXT_MAX = 20_000  # a few MB; the repeats are mostly within a page or a batch


def _sqlite_datetime(value: datetime | None) -> str | None:
    if value is None:
        return None
    text = _DATETIME_TEXT.get(value)
    if text is not None:
        return text
    tz = value.tzinfo
    if tz is None:
        raise ValueError(f"naive datetime {value!r}: timestamps must carry an offset")
    # SQLAlchemy's SQLite storage format ("YYYY-MM-DD HH:MM:SS.ffffff"); isoformat is several times
    # faster than strftime. The slice drops the "+00:00" suffix of the UTC value.
    text = (value if tz is UTC else value.astimezone(UTC)).isoformat(" ", "microseconds")[:-6]
    if len(_DATETIME_TEXT) >= _DATETIME_TEXT_MAX:
        _DATETIME_TEXT.clear()
    _DATETIME_TEXT[value] = text
    return text


def _pg_datetime(value: datetime | None) -> datetime | None:
    if value is not None and value.tzinfo is None:
        raise ValueError(f"naive datetime {value!r}: timestamps must carry an offset")
    return value


def _json(value: Any) -> str | None:
    # orjson writes the same JSON as SQLAlchemy's json.dumps, without the spaces, several times faster.
    return None if value is None else orjson.dumps(value).decode()


def _json_keeping_none(value: Any) -> str:
    # What SQLAlchemy's JSON type stores for None unless `none_as_null`: the JSON text "null".
    return orjson.dumps(value).decode()


def _sqlite_date(value: date | None) -> str | None:
    return None if value is None else value.isoformat()


def _sqlite_bool(value: bool | None) -> int | None:
    return None if value is None else int(value)


def _converter(column_type: Any, dialect: str) -> Converter | None:
    """How a Python value of this column is sent to the driver; None when it goes as it is."""
    if isinstance(column_type, UTCDateTime):
        return _sqlite_datetime if dialect == "sqlite" else _pg_datetime
    if isinstance(column_type, JSON):
        return _json if column_type.none_as_null else _json_keeping_none
    if dialect == "sqlite" and isinstance(column_type, Boolean):
        return _sqlite_bool
    if dialect == "sqlite" and isinstance(column_type, Date):
        return _sqlite_date
    return None


# ---------------------------------------------------------------- values from the database


def _sqlite_datetime_result(value: str | None) -> datetime | None:
    # Stored as naive UTC text (see `_sqlite_datetime` and `db.types.UTCDateTime`). Parsing it with the
    # offset appended gives the same aware value (tzinfo the `UTC` singleton) several times faster than
    # `.replace(tzinfo=UTC)` on the naive one.
    return None if value is None else datetime.fromisoformat(value + "+00:00")


def _pg_datetime_result(value: datetime | None) -> datetime | None:
    if value is None:
        return None
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def _json_result(value: str | float | None) -> Any:
    # SQLite gives JSON columns numeric affinity: a bare JSON number is stored, and read, as a number.
    return orjson.loads(value) if isinstance(value, str) else value


def _sqlite_bool_result(value: int | None) -> bool | None:
    return None if value is None else bool(value)


def _sqlite_date_result(value: str | None) -> date | None:
    return None if value is None else date.fromisoformat(value)


def _result_converter(column_type: Any, dialect: str) -> Converter | None:
    """The inverse of `_converter`: what SQLAlchemy's result processing would return."""
    if isinstance(column_type, UTCDateTime):
        return _sqlite_datetime_result if dialect == "sqlite" else _pg_datetime_result
    if dialect != "sqlite":  # psycopg already returns decoded JSON, dates and booleans
        return None
    if isinstance(column_type, JSON):
        return _json_result
    if isinstance(column_type, Boolean):
        return _sqlite_bool_result
    if isinstance(column_type, Date):
        return _sqlite_date_result
    return None


def _convert_columns(
    rows: Sequence[Sequence[Any]], converters: Sequence[Converter | None]
) -> list[tuple[Any, ...]]:
    """Apply one converter per column. Transposing with zip keeps the per-value loop in C (map)."""
    if not rows:
        return []
    if not any(converters):
        return [tuple(r) for r in rows] if not isinstance(rows[0], tuple) else list(rows)  # type: ignore[arg-type]
    columns = [
        col if fn is None else list(map(fn, col))
        for col, fn in zip(zip(*rows, strict=True), converters, strict=True)
    ]
    return list(zip(*columns, strict=True))


# ---------------------------------------------------------------- statements


def placeholder(conn: Connection) -> str:
    """The driver's positional parameter marker, for driver SQL."""
    return "?" if conn.dialect.paramstyle == "qmark" else "%s"


def quote(conn: Connection, name: str) -> str:
    """A table or column name quoted for driver SQL where the dialect needs it."""
    return conn.dialect.identifier_preparer.quote(name)


def _in_chunks(values: Sequence[Any]) -> Iterator[Sequence[Any]]:
    for start in range(0, len(values), IN_CHUNK):
        yield values[start : start + IN_CHUNK]


def _compiled(
    conn: Connection,
    table: Table,
    keys: Sequence[str] | None,
    columns: tuple[str, ...],
    keep_on_null: tuple[str, ...],
) -> tuple[str, list[str]]:
    dialect = conn.dialect.name
    cache_key = (dialect, table.name, ",".join(keys or ()), columns, keep_on_null)
    if cache_key not in _CACHE:
        module = postgresql if dialect == "postgresql" else sqlite
        stmt: Any = module.insert(table)
        if keys:
            updates = {c: stmt.excluded[c] for c in columns if c not in keys}
            for c in keep_on_null:
                updates[c] = func.coalesce(stmt.excluded[c], table.c[c])
            stmt = (
                stmt.on_conflict_do_update(index_elements=list(keys), set_=updates)
                if updates
                else stmt.on_conflict_do_nothing(index_elements=list(keys))
            )
        compiled = stmt.compile(dialect=conn.dialect, column_keys=list(columns))
        order = list(compiled.positiontup) if compiled.positional else list(columns)
        _CACHE[cache_key] = (str(compiled), order)
    return _CACHE[cache_key]


def bulk_write(
    conn: Connection, table: Table, rows: list[dict[str, Any]], keys: Sequence[str] | None = None
) -> None:
    """INSERT rows (all with the same keys); with `keys`, upsert on them (ON CONFLICT DO UPDATE)."""
    if not rows:
        return
    columns = tuple(rows[0])
    getter = itemgetter(*columns)
    values = [getter(r) for r in rows] if len(columns) > 1 else [(getter(r),) for r in rows]
    bulk_write_values(conn, table, columns, values, keys)


def bulk_write_values(
    conn: Connection,
    table: Table,
    columns: Sequence[str],
    rows: list[tuple[Any, ...]],
    keys: Sequence[str] | None = None,
    *,
    keep_on_null: Sequence[str] = (),
) -> None:
    """Like `bulk_write`, with rows as tuples in `columns` order (no dict per row).

    `keep_on_null`: columns an upsert leaves as stored when the new value is null.
    """
    if not rows:
        return
    columns = tuple(columns)
    sql, order = _compiled(conn, table, keys, columns, tuple(keep_on_null))
    dialect = conn.dialect.name
    if list(columns) != order:  # the compiled statement binds the columns in another order
        getter = itemgetter(*(columns.index(name) for name in order))
        rows = [getter(r) for r in rows] if len(order) > 1 else [(getter(r),) for r in rows]
    params: list[Any] = _convert_columns(rows, [_converter(table.c[name].type, dialect) for name in order])
    if conn.dialect.paramstyle not in ("qmark", "numeric", "format"):
        params = [dict(zip(order, p, strict=True)) for p in params]
    conn.exec_driver_sql(sql, params)


def bulk_delete(conn: Connection, table: Table, column: str, values: Sequence[Any]) -> None:
    """DELETE the rows whose `column` is one of `values`."""
    for part in _in_chunks(values):
        sql = (
            f"DELETE FROM {quote(conn, table.name)} WHERE {quote(conn, column)} IN {in_list(conn, len(part))}"
        )
        conn.exec_driver_sql(sql, tuple(part))


def in_list(conn: Connection, count: int) -> str:
    """`(?, ?, …)` with `count` driver placeholders, for an IN condition in driver SQL."""
    return f"({', '.join([placeholder(conn)] * count)})"


def select_rows(
    conn: Connection, table: Table, columns: Sequence[str], where: str, params: Sequence[Any]
) -> list[tuple[Any, ...]]:
    """`SELECT columns FROM table WHERE where` in driver SQL (`where` uses `in_list` placeholders);
    values come back converted as SQLAlchemy's result processing would return them."""
    dialect = conn.dialect.name
    names = ", ".join(quote(conn, c) for c in columns)
    sql = f"SELECT {names} FROM {quote(conn, table.name)} WHERE {where}"
    converters = [_result_converter(table.c[c].type, dialect) for c in columns]
    return _convert_columns(conn.exec_driver_sql(sql, tuple(params)).fetchall(), converters)


def bulk_select(
    conn: Connection, table: Table, columns: Sequence[str], column: str, values: Sequence[Any]
) -> list[tuple[Any, ...]]:
    """The `columns` of the rows whose `column` is one of `values` (see `select_rows`)."""
    out: list[tuple[Any, ...]] = []
    for part in _in_chunks(values):
        out += select_rows(conn, table, columns, f"{quote(conn, column)} IN {in_list(conn, len(part))}", part)
    return out
