"""The tables the store layer writes and reads, and the small helpers every part of it uses."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

from sqlalchemy import Table
from sqlalchemy.engine import Connection

from db.models import (
    CarrierTracker,
    InventoryLevel,
    OrderClassification,
    OrderDiscrepancy,
    OrderTrackingNumber,
    SlaDayTotal,
    StoreFulfillment,
    StoreLineItem,
    StoreRefund,
    WarehouseShipment,
)
from db.models import (
    StoreOrder as StoreOrderRow,
)
from db.models import (
    WarehouseOrder as WarehouseOrderRow,
)
from services.store.cursor_io import (
    bulk_delete,
    bulk_write,
    bulk_write_values,
)

T_ORDER: Table = StoreOrderRow.__table__  # type: ignore[attr-defined]
T_LINE: Table = StoreLineItem.__table__  # type: ignore[attr-defined]
T_FULFILLMENT: Table = StoreFulfillment.__table__  # type: ignore[attr-defined]
T_REFUND: Table = StoreRefund.__table__  # type: ignore[attr-defined]
T_WAREHOUSE: Table = WarehouseOrderRow.__table__  # type: ignore[attr-defined]
T_SHIPMENT: Table = WarehouseShipment.__table__  # type: ignore[attr-defined]
T_TRACKER: Table = CarrierTracker.__table__  # type: ignore[attr-defined]
T_INVENTORY: Table = InventoryLevel.__table__  # type: ignore[attr-defined]
T_CLASS: Table = OrderClassification.__table__  # type: ignore[attr-defined]
T_DISC: Table = OrderDiscrepancy.__table__  # type: ignore[attr-defined]
T_CODES: Table = OrderTrackingNumber.__table__  # type: ignore[attr-defined]
# Kept by the database's own triggers (migration 0016): read, never written, by the services.
T_DAY_TOTAL: Table = SlaDayTotal.__table__  # type: ignore[attr-defined]

# SQLite allows 32766 bound parameters per statement; keep IN lists well below it.
IN_CHUNK = 900


def chunks(values: Sequence[Any], size: int = IN_CHUNK) -> Iterable[Sequence[Any]]:
    for start in range(0, len(values), size):
        yield values[start : start + size]


def upsert(conn: Connection, table: Table, rows: list[dict[str, Any]], keys: Sequence[str]) -> None:
    """INSERT … ON CONFLICT (keys) DO UPDATE, on SQLite and PostgreSQL alike."""
    bulk_write(conn, table, rows, keys)


def replace_children(
    conn: Connection,
    table: Table,
    fk: str,
    parent_ids: Sequence[int],
    columns: Sequence[str],
    rows: list[tuple[Any, ...]],
) -> None:
    """Delete the children of `parent_ids`, then insert `rows` (tuples in `columns` order)."""
    bulk_delete(conn, table, fk, parent_ids)
    bulk_write_values(conn, table, columns, rows)


# The child rows of a store order, written and read in this column order.
LINE_COLUMNS = ("id", "order_id", "sku", "title", "vendor", "quantity", "fulfillable_quantity", "price")
FULFILLMENT_COLUMNS = (
    "id",
    "order_id",
    "status",
    "created_at",
    "tracking_company",
    "tracking_numbers",
    "line_items",
)
REFUND_COLUMNS = ("id", "order_id", "created_at", "note", "line_items")
