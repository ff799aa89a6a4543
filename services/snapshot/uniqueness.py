"""SPEC §1 "Records": within one snapshot an id appears once per file, a store order `name` once, and a
line-item, fulfillment, refund or shipment id once across all orders. A repeat refuses the import,
naming both records.

Within a batch every key is checked in memory. Across batches, the top-level keys (ids, names, SKUs)
live in a temporary table, not in Python, so memory stays flat however long the file is; a child id (a
line item, a shipment…) of an earlier batch is found among the stored rows, which also refuses one
stored under another parent by an earlier snapshot, and a store order name stored for another order:
writing either would break the stored order.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Sequence
from typing import Any

from sqlalchemy import Column, MetaData, String, Table, Text
from sqlalchemy.engine import Connection

from checks.model import InventoryItem, StoreOrder, Tracker, WarehouseOrder
from services.errors import SnapshotError
from services.store import T_FULFILLMENT, T_LINE, T_ORDER, T_REFUND, T_SHIPMENT
from services.store.cursor_io import bulk_select, bulk_write_values

_CONTROL = re.compile("[\x00-\x1f\x7f]")


def shown(value: Any, limit: int = 40) -> str:
    """A value as one line of a message: control characters escaped, cut short when long."""
    text = _CONTROL.sub(lambda m: repr(m.group())[1:-1], str(value))
    return text if len(text) <= limit else f"{text[: limit - 3]}..."


def label(index: int, record: Any) -> str:
    """How messages name a record: its place in the file and its id."""
    ident = f"sku {shown(record.sku)}" if isinstance(record, InventoryItem) else f"id {shown(record.id)}"
    return f"record {index} ({ident})"


def _keys(record: Any) -> Iterator[tuple[str, Any, bool]]:
    """(what, value, top) of every key of `record` that must be unique in the snapshot; `top` keys
    are remembered across batches, the others (child ids) are checked against the stored rows."""
    if isinstance(record, StoreOrder):
        yield "order id", record.id, True
        yield "order name", record.name, True
        for line in record.line_items:
            yield "line item id", line.id, False
        for fulfillment in record.fulfillments:
            yield "fulfillment id", fulfillment.id, False
        for refund in record.refunds:
            yield "refund id", refund.id, False
    elif isinstance(record, WarehouseOrder):
        yield "3PL order id", record.id, True
        for shipment in record.shipments:
            yield "shipment id", shipment.id, False
    elif isinstance(record, Tracker):
        yield "tracker id", record.id, True
    elif isinstance(record, InventoryItem):
        yield "sku", record.sku, True


def _twice(file: str, what: str, value: Any, first: str, second: str) -> SnapshotError:
    where = f"in {first}" if first == second else f"in {first} and {second}"
    return SnapshotError(
        f"{file}: {what} {shown(value)} appears twice: {where}", file=file, record=second, field=what
    )


class SeenKeys:
    """The unique keys of the records read so far in one import (a temporary table)."""

    def __init__(self, conn: Connection) -> None:
        self.conn = conn
        self.table = Table(
            "import_seen_key",
            MetaData(),
            Column("key", String(300), primary_key=True),
            Column("record", Text, nullable=False),
            prefixes=["TEMPORARY"],
        )
        self.table.drop(conn, checkfirst=True)
        self.table.create(conn)

    def drop(self) -> None:
        self.table.drop(self.conn)

    def add(self, file: str, start: int, batch: Sequence[Any]) -> None:
        """Record the keys of `batch` (records `start`… of `file`); raise SnapshotError on a key
        seen before, in the batch or, for a top-level key, in an earlier one."""
        first: dict[tuple[str, Any], int] = {}
        top: dict[str, tuple[int, str, Any]] = {}
        for position, record in enumerate(batch):
            for what, value, is_top in _keys(record):
                key = (what, value)
                earlier = first.get(key)
                if earlier is not None:
                    raise _twice(
                        file,
                        what,
                        value,
                        label(start + earlier, batch[earlier]),
                        label(start + position, record),
                    )
                first[key] = position
                if is_top:
                    top[f"{what}:{value}"] = (position, what, value)
        stored = dict(bulk_select(self.conn, self.table, ("key", "record"), "key", list(top)))
        if stored:
            key = min(stored, key=lambda k: top[k][0])
            position, what, value = top[key]
            raise _twice(file, what, value, stored[key], label(start + position, batch[position]))
        rows = [(key, label(start + position, batch[position])) for key, (position, _, _) in top.items()]
        bulk_write_values(self.conn, self.table, ("key", "record"), rows)


# Child ids keyed alone in the store: (what, table, parent column, parent id of a record, children).
def _children(record: Any) -> Iterator[tuple[str, Table, int, list[int]]]:
    if isinstance(record, StoreOrder):
        yield "line item id", T_LINE, record.id, [line.id for line in record.line_items]
        yield "fulfillment id", T_FULFILLMENT, record.id, [f.id for f in record.fulfillments]
        yield "refund id", T_REFUND, record.id, [r.id for r in record.refunds]
    elif isinstance(record, WarehouseOrder):
        yield "shipment id", T_SHIPMENT, record.id, [s.id for s in record.shipments]


_PARENT = {T_LINE.name: "order_id", T_FULFILLMENT.name: "order_id", T_REFUND.name: "order_id"}


def refuse_stored_elsewhere(conn: Connection, file: str, start: int, batch: Sequence[Any]) -> None:
    """Refuse a record whose child id is stored under another parent (an earlier record of this
    snapshot, or of an earlier one), or a store order whose name is stored for another order id."""
    wanted: dict[tuple[str, str], dict[int, tuple[int, int]]] = {}
    for position, record in enumerate(batch):
        for what, table, parent, ids in _children(record):
            by_id = wanted.setdefault((what, table.name), {})
            for child in ids:
                by_id[child] = (position, parent)
    tables = {t.name: t for t in (T_LINE, T_FULFILLMENT, T_REFUND, T_SHIPMENT)}
    for (what, name), by_id in wanted.items():
        parent_column = _PARENT.get(name, "warehouse_order_id")
        for child, stored_parent in bulk_select(conn, tables[name], ("id", parent_column), "id", list(by_id)):
            position, parent = by_id[child]
            if stored_parent != parent:
                owner = "store order" if parent_column == "order_id" else "3PL order"
                where = label(start + position, batch[position])
                raise SnapshotError(
                    f"{file}: {where}: {what} {child} is already stored under {owner} {stored_parent}",
                    file=file,
                    record=where,
                    field=what,
                )
    names = {record.name: i for i, record in enumerate(batch) if isinstance(record, StoreOrder)}
    for stored_id, name in bulk_select(conn, T_ORDER, ("id", "name"), "name", list(names)):
        position = names[name]
        if stored_id != batch[position].id:
            where = label(start + position, batch[position])
            raise SnapshotError(
                f"{file}: {where}: order name {shown(name)} is already stored for order id {stored_id}",
                file=file,
                record=where,
                field="name",
            )
