"""`shopify/orders.jsonl` of a snapshot: the bulk-operation output of the connector's own order query.

Read line by line (`services.sources.shopify.bulk.orders` puts each order back together with its
`__parentId` children), so memory holds one order, however long the file. Every problem is a
`SnapshotError` naming the file and the line or record.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

from checks.model import StoreOrder
from services.errors import SnapshotError
from services.sources.json_fields import RecordError
from services.sources.shopify import bulk as shopify_bulk
from services.sources.shopify.graphql import parse_graphql_order

RELATIVE = "shopify/orders.jsonl"
_BOM = b"\xef\xbb\xbf"


def _lines(path: Path) -> Iterator[bytes]:
    with path.open("rb") as handle:
        first = True
        for line in handle:
            if first:
                line, first = line.removeprefix(_BOM), False
            yield line


def _name(raw: Any) -> str:
    if isinstance(raw, dict):
        for key in ("name", "id"):
            if raw.get(key) is not None:
                return f"{key} {raw[key]}"
    return "no id"


def read_orders(path: Path, relative: str = RELATIVE) -> Iterator[StoreOrder]:
    """The store orders of a bulk JSONL file, in file order."""
    index = -1
    try:
        for index, raw in enumerate(shopify_bulk.orders(_lines(path), source=relative)):
            try:
                yield parse_graphql_order(raw)
            except RecordError as exc:
                record = f"{index} ({_name(raw)})"
                raise SnapshotError(
                    f"{relative}: record {record}: {exc}", file=relative, record=record, field=exc.field
                ) from None
    except RecordError as exc:  # a line that is not JSON, or a child without its parent
        raise SnapshotError(f"{exc}", file=relative, record=None if index < 0 else str(index + 1)) from None


__all__ = ["RELATIVE", "read_orders"]
