"""SPEC §1 "Records": within one snapshot an id appears once per file, a store order `name` once, and a
line-item, fulfillment, refund or shipment id once across all orders. A repeat refuses the import,
naming both records.

The keys seen so far live in a temporary table, not in Python, so memory stays flat however long the
file is. A child id (a line item, a shipment…) already stored under another parent, or a store order
name stored for another order, is refused the same way: writing it would break the stored one.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Column, MetaData, String, Table, Text
from sqlalchemy.engine import Connection

from checks.model import InventoryItem, StoreOrder, Tracker, WarehouseOrder
from services.bulk import bulk_select, bulk_write_values
from services.errors import SnapshotError
from services.store import T_FULFILLMENT, T_LINE, T_ORDER, T_REFUND, T_SHIPMENT


@dataclass(frozen=True)
class Located:
    """A parsed record and where it is: its file and its place in it, as messages name it."""

    file: str
    index: int
    record: Any

    @property
    def label(self) -> str:
        return f"record {self.index} ({_record_id(self.record)})"


def _record_id(record: Any) -> str:
    if isinstance(record, InventoryItem):
        return f"sku {record.sku}"
    return f"id {record.id}"


def _keys(record: Any) -> Iterator[tuple[str, str]]:
    """(what, value) of every key of `record` that must be unique in the snapshot."""
    if isinstance(record, StoreOrder):
        yield "order id", str(record.id)
        yield "order name", record.name
        for line in record.line_items:
            yield "line item id", str(line.id)
        for fulfillment in record.fulfillments:
            yield "fulfillment id", str(fulfillment.id)
        for refund in record.refunds:
            yield "refund id", str(refund.id)
    elif isinstance(record, WarehouseOrder):
        yield "3PL order id", str(record.id)
        for shipment in record.shipments:
            yield "shipment id", str(shipment.id)
    elif isinstance(record, Tracker):
        yield "tracker id", record.id
    elif isinstance(record, InventoryItem):
        yield "sku", record.sku


def _refuse(located: Located, what: str, value: str, other: str) -> SnapshotError:
    where = f"in {other}" if other == located.label else f"in {other} and {located.label}"
    return SnapshotError(
        f"{located.file}: {what} {value} appears twice: {where}",
        file=located.file,
        record=located.label,
        field=what,
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

    def add(self, batch: Sequence[Located]) -> None:
        """Record the keys of `batch`; raise SnapshotError on a key seen before, in it or earlier."""
        first: dict[str, tuple[Located, str, str]] = {}
        labels: dict[str, str] = {}
        for located in batch:
            for what, value in _keys(located.record):
                key = f"{what}:{value}"
                if key in first:
                    raise _refuse(located, what, value, labels[key])
                first[key] = (located, what, value)
                labels[key] = located.label
        earlier = dict(bulk_select(self.conn, self.table, ("key", "record"), "key", list(first)))
        if earlier:
            key = min(earlier, key=lambda k: first[k][0].index)
            located, what, value = first[key]
            raise _refuse(located, what, value, earlier[key])
        bulk_write_values(self.conn, self.table, ("key", "record"), [(k, labels[k]) for k in first])


# Child ids keyed alone in the store: (what, table, parent column, parent id of a record, children).
def _children(record: Any) -> Iterator[tuple[str, Table, int, list[int]]]:
    if isinstance(record, StoreOrder):
        yield "line item id", T_LINE, record.id, [line.id for line in record.line_items]
        yield "fulfillment id", T_FULFILLMENT, record.id, [f.id for f in record.fulfillments]
        yield "refund id", T_REFUND, record.id, [r.id for r in record.refunds]
    elif isinstance(record, WarehouseOrder):
        yield "shipment id", T_SHIPMENT, record.id, [s.id for s in record.shipments]


_PARENT = {T_LINE.name: "order_id", T_FULFILLMENT.name: "order_id", T_REFUND.name: "order_id"}


def refuse_stored_elsewhere(conn: Connection, batch: Sequence[Located]) -> None:
    """Refuse a record whose child id is stored under another parent, or a store order whose name is
    stored for another order id."""
    wanted: dict[tuple[str, str], dict[int, tuple[Located, int]]] = {}
    for located in batch:
        for what, table, parent, ids in _children(located.record):
            by_id = wanted.setdefault((what, table.name), {})
            for child in ids:
                by_id[child] = (located, parent)
    tables = {t.name: t for t in (T_LINE, T_FULFILLMENT, T_REFUND, T_SHIPMENT)}
    for (what, name), by_id in wanted.items():
        parent_column = _PARENT.get(name, "warehouse_order_id")
        for child, stored_parent in bulk_select(conn, tables[name], ("id", parent_column), "id", list(by_id)):
            located, parent = by_id[child]
            if stored_parent != parent:
                owner = "store order" if parent_column == "order_id" else "3PL order"
                raise SnapshotError(
                    f"{located.file}: {located.label}: {what} {child} is already stored under "
                    f"{owner} {stored_parent}",
                    file=located.file,
                    record=located.label,
                    field=what,
                )
    names = {loc.record.name: loc for loc in batch if isinstance(loc.record, StoreOrder)}
    for stored_id, name in bulk_select(conn, T_ORDER, ("id", "name"), "name", list(names)):
        located = names[name]
        if stored_id != located.record.id:
            raise SnapshotError(
                f"{located.file}: {located.label}: order name {name} is already stored for order id "
                f"{stored_id}",
                file=located.file,
                record=located.label,
                field="name",
            )
