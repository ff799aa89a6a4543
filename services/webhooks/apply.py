"""Apply one stored webhook event: read its payload with the sources' own readers, keep the newest, write
it and reclassify the orders it touches; or, where the payload lacks what the rules need, refresh the
order from its source.

- Shopify `orders/*`: the REST `Order` JSON, read by `services.sources.shopify.parse_order`. A payload
  missing a field the rules need is refreshed instead; `fulfillments/*`, `refunds/create` and
  `fulfillment_orders/*` always are (their payloads are not orders).
- ShipBob order and shipment events: an `Order` payload is read by `services.sources.shipbob.parse_order`;
  a shipment-only payload refreshes the 3PL side of the order it belongs to.
- EasyPost `tracker.*`: the event's `result` is a `Tracker`, read by `services.sources.easypost`.

Newest wins (SPEC §1): a record whose own update time (`updated_at`; a 3PL order's `last_update_at`) is
older than the stored one's is not written, and neither is one whose time equals the stored one's when an
event about the same record triggered later was applied already. Either way the event counts as applied.

Bad payloads never change data: a record the readers refuse, a number beyond 64-bit ids or 32-bit
quantities, a timestamp outside 1970–9999 or a NUL in a string fails the event for good (`PayloadRefused`),
with the reason in `last_error` and the log.
"""

from __future__ import annotations

import dataclasses
import logging
from collections.abc import Sequence
from datetime import datetime
from typing import Any

import orjson
from sqlalchemy import select
from sqlalchemy.engine import Connection, Engine

from checks.model import StoreOrder, Tracker, WarehouseOrder
from checks.policy import SlaPolicy
from services import store
from services.errors import ConfigurationError, InputError, NotFoundError, SourceError
from services.settings import Settings
from services.sources import easypost, shipbob, shopify
from services.sources.fields import RecordError
from services.store import T_CODES, T_ORDER, T_TRACKER, T_WAREHOUSE
from services.webhooks import events
from services.webhooks.deliveries import SHOPIFY_ORDER_TOPICS
from services.webhooks.events import StoredEvent

log = logging.getLogger("order_recon.webhooks")
MAX_ID = 2**63 - 1
MAX_QUANTITY = 2**31 - 1
QUANTITY_FIELDS = frozenset({"quantity", "fulfillable_quantity", "total_fulfillable_quantity"})
MAX_ATTEMPTS = 12  # then a failing event waits for the catch-up sync instead


class PayloadRefused(Exception):
    """The payload itself is wrong: applying it again cannot succeed."""


def write_records(
    conn: Connection,
    policy: SlaPolicy,
    now: datetime,
    *,
    store_orders: Sequence[StoreOrder] = (),
    warehouse_orders: Sequence[WarehouseOrder] = (),
    trackers: Sequence[Tracker] = (),
) -> int:
    """Write these records and reclassify the orders they touch, in the caller's transaction; returns how
    many orders were reclassified. (The one place the receiver writes source data.)"""
    touched = orders_touched(conn, store_orders, warehouse_orders, trackers)  # before: the old 3PL match too
    store.write_store_orders(conn, store_orders, now)
    store.write_warehouse_orders(conn, warehouse_orders, now)
    store.write_trackers(conn, trackers, now)
    touched |= orders_touched(conn, store_orders, warehouse_orders, trackers)
    return store.reclassify(conn, sorted(touched), policy, now)


def orders_touched(
    conn: Connection,
    store_orders: Sequence[StoreOrder],
    warehouse_orders: Sequence[WarehouseOrder],
    trackers: Sequence[Tracker],
) -> set[int]:
    """The stored store orders these records belong to, by indexed look-ups only (the receiver applies
    one event at a time, so a scan of every row written since some time would cost more than the write)."""
    ids = {o.id for o in store_orders}
    numbers = set()
    for w in warehouse_orders:
        store_id, _ = shipbob.parse_reference(w.reference_id)
        if store_id is not None:
            ids.add(store_id)
        if w.order_number:
            numbers.add(w.order_number)
    if warehouse_orders:
        warehouse_ids = [w.id for w in warehouse_orders]
        ids |= {
            i
            for i in conn.scalars(
                select(T_WAREHOUSE.c.store_order_id).where(T_WAREHOUSE.c.id.in_(warehouse_ids))
            )
            if i
        }
    if numbers:
        ids |= set(conn.scalars(select(T_ORDER.c.id).where(T_ORDER.c.number.in_(sorted(numbers)))))
    codes = sorted({t.tracking_code for t in trackers})
    if codes:
        ids |= set(conn.scalars(select(T_CODES.c.order_id).where(T_CODES.c.tracking_number.in_(codes))))
    if not ids:
        return set()
    return set(conn.scalars(select(T_ORDER.c.id).where(T_ORDER.c.id.in_(sorted(ids)))))


def apply_event(
    engine: Engine, event_row_id: int, settings: Settings, policy: SlaPolicy, now: datetime
) -> str | None:
    """Apply one event if it is still due; returns what was done (None: not due, or taken by another
    worker). A failure is recorded on the event (retried with backoff unless the payload is wrong) and
    not raised."""
    refresh: tuple[str, tuple[str, ...]] | None = None
    event: StoredEvent | None = None
    try:
        with engine.begin() as conn:
            event = events.claim_event(conn, event_row_id, now=now)
            if event is None:
                return None
            outcome, refresh = _apply_payload(conn, event, policy, now)
            if refresh is None:
                events.mark_applied(conn, event, now=now, outcome=outcome)
                return outcome
        # A refresh asks the source over HTTP and writes in its own transactions: never inside ours.
        name, sources = refresh
        from services.sync import refresh_order  # imported here: the sync package is heavy to load

        result = refresh_order(engine, settings, policy, name, sources=sources, now=now)
        failed = [f"{s.source}: {s.error}" for s in result.sources.values() if not s.ok]
        if failed:
            raise SourceErrorText("; ".join(failed))
        outcome = f"refreshed {name} from {', '.join(sources)}"
        with engine.begin() as conn:
            events.mark_applied(conn, event, now=now, outcome=outcome)
        return outcome
    except (
        PayloadRefused,
        RecordError,
        ConfigurationError,
        OverflowError,
        RecursionError,
        UnicodeError,
    ) as exc:
        assert event is not None
        _fail(engine, event, f"refused: {exc}", now, retry=False)
    except (SourceError, SourceErrorText, NotFoundError, InputError) as exc:
        assert event is not None
        _fail(engine, event, str(exc), now, retry=event.attempts + 1 < MAX_ATTEMPTS)
    except Exception as exc:  # a database error, say: keep the event and try again later
        if event is None:
            raise
        log.exception("webhook %s %s failed", event.source, event.event_id)
        _fail(engine, event, f"{type(exc).__name__}: {exc}", now, retry=event.attempts + 1 < MAX_ATTEMPTS)
    return None


class SourceErrorText(Exception):
    """A refresh that reached a source which answered with an error."""


def _fail(engine: Engine, event: StoredEvent, error: str, now: datetime, *, retry: bool) -> None:
    log.warning("webhook %s %s (%s) not applied: %s", event.source, event.event_id, event.topic, error)
    events.mark_failed(engine, event, error, now=now, retry=retry)


def _apply_payload(
    conn: Connection, event: StoredEvent, policy: SlaPolicy, now: datetime
) -> tuple[str, tuple[str, tuple[str, ...]] | None]:
    """(outcome, None) when written here, or ("", (order name, sources)) when the order is to be refreshed."""
    try:
        payload = orjson.loads(event.payload)  # checked strictly when it was received
    except orjson.JSONDecodeError as exc:
        raise PayloadRefused(f"the stored body is not JSON: {exc}") from None
    if not isinstance(payload, dict):
        raise PayloadRefused("the body is not a JSON object")
    if event.source == "shopify":
        return _shopify(conn, event, payload, policy, now)
    if event.source == "shipbob":
        return _shipbob(conn, event, payload, policy, now)
    return _easypost(conn, event, payload, policy, now)


def _shopify(
    conn: Connection, event: StoredEvent, payload: dict[str, Any], policy: SlaPolicy, now: datetime
) -> tuple[str, tuple[str, tuple[str, ...]] | None]:
    if event.topic in SHOPIFY_ORDER_TOPICS:
        try:
            order = _checked(shopify.parse_order(payload))
        except RecordError as exc:
            if exc.problem not in ("is missing", "is null"):
                raise
            return "", (_store_order_name(conn, payload.get("id"), payload.get("name"), exc), ("store",))
        if _older(conn, T_ORDER.c.updated_at, T_ORDER.c.id, order.id, order.updated_at, event):
            return f"kept the stored {order.name}: this one is older", None
        n = write_records(conn, policy, now, store_orders=[order])
        return f"wrote {order.name}, reclassified {n}", None
    # Fulfillment, refund and hold events carry no order: refresh it from the store.
    order_id = payload.get("order_id")
    if order_id is None and isinstance(payload.get("fulfillment_order"), dict):
        order_id = payload["fulfillment_order"].get("order_id")
    return "", (_store_order_name(conn, order_id, None, None), ("store",))


def _shipbob(
    conn: Connection, event: StoredEvent, payload: dict[str, Any], policy: SlaPolicy, now: datetime
) -> tuple[str, tuple[str, tuple[str, ...]] | None]:
    if "reference_id" in payload and "id" in payload:
        order = _checked(shipbob.parse_order(payload))
        if _older(
            conn, T_WAREHOUSE.c.last_update_at, T_WAREHOUSE.c.id, order.id, order.last_update_at, event
        ):
            return f"kept the stored 3PL order {order.id}: this one is older", None
        n = write_records(conn, policy, now, warehouse_orders=[order])
        return f"wrote 3PL order {order.id}, reclassified {n}", None
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
    return "", (_store_order_name(conn, store_id, None, None), ("3pl",))


def _easypost(
    conn: Connection, event: StoredEvent, payload: dict[str, Any], policy: SlaPolicy, now: datetime
) -> tuple[str, tuple[str, tuple[str, ...]] | None]:
    result = payload.get("result")
    if not isinstance(result, dict):
        raise PayloadRefused("the event's `result` is not a Tracker object")
    tracker = _checked(easypost.parse_tracker(result))
    if _older(conn, T_TRACKER.c.updated_at, T_TRACKER.c.id, tracker.id, tracker.updated_at, event):
        return f"kept the stored tracker {tracker.id}: this one is older", None
    n = write_records(conn, policy, now, trackers=[tracker])
    return f"wrote tracker {tracker.id}, reclassified {n}", None


def _older(
    conn: Connection, column: Any, key: Any, ident: Any, updated: datetime | None, event: StoredEvent
) -> bool:
    """Newest wins: the stored record is newer than this one (see the module's docstring)."""
    if updated is None:  # a record without an update time replaces the stored one
        return False
    stored = conn.scalar(select(column).where(key == ident))
    if stored is None:
        return False
    if updated != stored:
        return updated < stored
    return events.newer_applied(conn, event)


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
