"""What a stored event says: the record it carries, read with the sources' own readers, or the order to
refresh when its payload cannot say enough.

- Shopify `orders/*`: the REST `Order` JSON, read by `services.sources.shopify.parse_order`. A payload
  missing a field the rules need is refreshed instead; `fulfillments/*`, `refunds/create` and
  `fulfillment_orders/*` always are (their payloads are not orders).
- ShipBob order and shipment events: an `Order` payload is read by `services.sources.shipbob.parse_order`;
  a shipment-only payload refreshes the 3PL side of the order it belongs to.
- EasyPost `tracker.*`: the event's `result` is a `Tracker`, read by `services.sources.easypost`.

A record is checked before it is written: a number beyond 64-bit ids or 32-bit quantities (or a negative
quantity), a timestamp outside 1970–9999 or a NUL in a string refuses it (`PayloadRefused`).
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import orjson
from sqlalchemy import select
from sqlalchemy.engine import Connection

from checks.model import StoreOrder, Tracker, WarehouseOrder
from services.errors import NotFoundError
from services.sources.easypost import parse as easypost
from services.sources.json_fields import RecordError
from services.sources.shipbob import parse as shipbob
from services.sources.shopify import parse as shopify
from services.store import T_ORDER, T_WAREHOUSE
from services.webhooks.deliveries import SHOPIFY_ORDER_TOPICS
from services.webhooks.events import StoredEvent

MAX_ID = 2**63 - 1
MAX_QUANTITY = 2**31 - 1
QUANTITY_FIELDS = frozenset({"quantity", "fulfillable_quantity", "total_fulfillable_quantity"})


class PayloadRefused(Exception):
    """The payload itself is wrong: applying it again cannot succeed."""


# Errors that say the payload itself is wrong: applying it again cannot succeed.
REFUSALS: tuple[type[Exception], ...] = (
    PayloadRefused,
    RecordError,
    OverflowError,
    RecursionError,
    UnicodeError,
)


@dataclass(frozen=True)
class Write:
    """A record to write: `kind` is store | 3pl | carrier; `updated` its own update time (None: unknown)."""

    kind: str
    ident: int | str
    record: StoreOrder | WarehouseOrder | Tracker
    updated: datetime | None

    def describe(self) -> str:
        if isinstance(self.record, StoreOrder):
            return self.record.name
        return f"{'3PL order' if self.kind == '3pl' else 'tracker'} {self.ident}"


@dataclass(frozen=True)
class Refresh:
    """Ask the source about this store order instead (`sources` as `refresh_order` takes them)."""

    name: str
    sources: tuple[str, ...]


def read_event(conn: Connection, event: StoredEvent) -> Write | Refresh:
    """What to do with a stored event. Raises one of REFUSALS for a wrong payload, NotFoundError when
    the order it concerns is not stored yet (a later attempt may find it)."""
    try:
        payload = orjson.loads(event.payload)  # checked strictly when it was received
    except orjson.JSONDecodeError as exc:
        raise PayloadRefused(f"the stored body is not JSON: {exc}") from None
    if not isinstance(payload, dict):
        raise PayloadRefused("the body is not a JSON object")
    if event.source == "shopify":
        return _shopify(conn, event.topic, payload)
    if event.source == "shipbob":
        return _shipbob(conn, payload)
    result = payload.get("result")
    if not isinstance(result, dict):
        raise PayloadRefused("the event's `result` is not a Tracker object")
    tracker = _checked(easypost.parse_tracker(result))
    return Write("carrier", tracker.id, tracker, tracker.updated_at)


def _shopify(conn: Connection, topic: str, payload: dict[str, Any]) -> Write | Refresh:
    if topic in SHOPIFY_ORDER_TOPICS:
        try:
            order = _checked(shopify.parse_order(payload))
        except RecordError as exc:
            if exc.problem not in ("is missing", "is null"):
                raise
            return Refresh(_store_order_name(conn, payload.get("id"), payload.get("name"), exc), ("store",))
        return Write("store", order.id, order, order.updated_at)
    # Fulfillment, refund and hold events carry no order: refresh it from the store.
    order_id = payload.get("order_id")
    if order_id is None and isinstance(payload.get("fulfillment_order"), dict):
        order_id = payload["fulfillment_order"].get("order_id")
    return Refresh(_store_order_name(conn, order_id, None, None), ("store",))


def _shipbob(conn: Connection, payload: dict[str, Any]) -> Write | Refresh:
    if "reference_id" in payload and "id" in payload:
        order = _checked(shipbob.parse_order(payload))
        return Write("3pl", order.id, order, warehouse_updated_at(order))
    # A shipment-only payload: refresh the 3PL side of the store order it belongs to.
    warehouse_id = _bounded_id(payload.get("order_id"), "order_id")
    row = conn.execute(
        select(T_WAREHOUSE.c.reference_store_id, T_WAREHOUSE.c.store_order_id).where(
            T_WAREHOUSE.c.id == warehouse_id
        )
    ).first()
    store_id = (row.store_order_id or row.reference_store_id) if row is not None else None
    if store_id is None:
        raise NotFoundError(f"3PL order {warehouse_id} is not matched to a stored order yet")
    return Refresh(_store_order_name(conn, store_id, None, None), ("3pl",))


def warehouse_updated_at(order: WarehouseOrder) -> datetime | None:
    """A 3PL order's own update time: the latest of its `last_update_at` and its shipments' (ShipBob's
    order often has none of its own; each shipment has)."""
    times = [t for t in (order.last_update_at, *(s.last_update_at for s in order.shipments)) if t is not None]
    return max(times) if times else None


def _store_order_name(conn: Connection, order_id: Any, name: Any, cause: Exception | None) -> str:
    """The stored name of a store order (by id), else the payload's own name: what a refresh asks for."""
    if order_id is not None:
        stored = conn.scalar(select(T_ORDER.c.name).where(T_ORDER.c.id == _bounded_id(order_id, "order_id")))
        if stored is not None:
            return str(stored)
    if isinstance(name, str) and 0 < len(name) <= 64 and name.isprintable():
        return name
    why = f" ({cause})" if cause else ""
    raise PayloadRefused(f"the payload names no order that can be refreshed{why}")


def _bounded_id(value: Any, field: str) -> int:
    if isinstance(value, str) and value.isdigit() and len(value) <= 19:
        value = int(value)
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= MAX_ID:
        raise PayloadRefused(f"`{field}` is not an id")
    return value


def _checked(record: Any, path: str = "") -> Any:
    """The record, once every number, timestamp and string in it is one the database can hold (SPEC §1:
    64-bit ids, 32-bit quantities ≥ 0, years 1970–9999, no NUL)."""
    if dataclasses.is_dataclass(record) and not isinstance(record, type):
        for f in dataclasses.fields(record):
            value = getattr(record, f.name)
            where = f"{path}{f.name}"
            if isinstance(value, bool) or value is None:
                continue
            if isinstance(value, int):
                limit = MAX_QUANTITY if f.name in QUANTITY_FIELDS else MAX_ID
                low = 0 if f.name in QUANTITY_FIELDS else -MAX_ID
                if not low <= value <= limit:
                    raise PayloadRefused(f"`{where}` is {value}, out of range")
            else:
                _checked(value, f"{where}.")
    elif isinstance(record, tuple | list | set | frozenset):
        for i, item in enumerate(record):
            _checked(item, f"{path.rstrip('.')}[{i}].")
    elif isinstance(record, datetime):
        if not 1970 <= record.year <= 9999:
            raise PayloadRefused(f"`{path.rstrip('.')}` is outside the years 1970-9999")
    elif isinstance(record, str) and "\x00" in record:
        raise PayloadRefused(f"`{path.rstrip('.')}` holds a NUL character")
    return record
