"""Paging the console's lists in the database: a page of a query, its row count, and a list made of
index-ordered parts (one per category or code) paged without sorting the whole table."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Select, func, select
from sqlalchemy.engine import Connection


@dataclass(frozen=True)
class Part:
    """One index-ordered slice of a list: how many rows it has, and a page of them."""

    count: Callable[[], int]
    fetch: Callable[[int | None, int], list[Any]]


def concat_pages(parts: Sequence[Part], limit: int | None, offset: int) -> list[Any]:
    """A page of the concatenation of `parts`, asking each part only for the rows the page needs."""
    rows: list[Any] = []
    for part in parts:
        if limit is not None and len(rows) >= limit:
            break
        size = part.count()
        if offset >= size:
            offset -= size
            continue
        want = None if limit is None else limit - len(rows)
        rows += part.fetch(want, offset)
        offset = 0
    return rows


def page(query: Select[Any], limit: int | None, offset: int) -> Select[Any]:
    """`query` limited to one page (no limit: every row from `offset`)."""
    if limit is not None:
        query = query.limit(limit)
    return query.offset(offset) if offset else query


def count_rows(conn: Connection, query: Select[Any]) -> int:
    """How many rows `query` has (its ordering dropped)."""
    return int(conn.scalar(select(func.count()).select_from(query.order_by(None).subquery())) or 0)
