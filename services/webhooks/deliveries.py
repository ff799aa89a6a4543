"""What a verified delivery is: its source, event id, topic and the record it concerns, read from the
headers and a strict decoding of the body. Anything else about the payload is read when it is applied.

A body is refused (`DeliveryError`, answered 400, nothing stored) when it is not UTF-8 JSON of one
object, nests deeper than orjson's limit, holds a lone surrogate or a repeated key, or when its topic is
not one the receiver subscribes to.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import orjson

from services.sources.json_fields import utc_timestamp

SOURCES = ("shopify", "shipbob", "easypost")

SHOPIFY_ORDER_TOPICS = frozenset(
    {"orders/create", "orders/updated", "orders/cancelled", "orders/fulfilled", "orders/partially_fulfilled"}
)
SHOPIFY_REFRESH_TOPICS = frozenset(
    {
        "fulfillments/create",
        "fulfillments/update",
        "refunds/create",
        "fulfillment_orders/placed_on_hold",
        "fulfillment_orders/hold_released",
    }
)
# ShipBob 2026-07 order and shipment topics: shipped, delivered, exception, on hold, cancelled.
SHIPBOB_TOPICS = frozenset(
    {
        "order.shipped",
        "order.delivered",
        "order.shipment.delivered",
        "order.shipment.exception",
        "order.shipment.on_hold",
        "order.shipment.cancelled",
    }
)
EASYPOST_TOPICS = frozenset({"tracker.created", "tracker.updated"})
TOPICS: dict[str, frozenset[str]] = {
    "shopify": SHOPIFY_ORDER_TOPICS | SHOPIFY_REFRESH_TOPICS,
    "shipbob": SHIPBOB_TOPICS,
    "easypost": EASYPOST_TOPICS,
}
MAX_EVENT_ID = 255


class DeliveryError(Exception):
    """A verified delivery that cannot be taken: why, in one line (logged, and sent back as the 400 body)."""


class IgnoredDelivery(DeliveryError):
    """An EasyPost event the receiver does not use: EasyPost sends every event to every webhook (there
    are no topics to subscribe to), so these are answered 200 and dropped, not refused."""


@dataclass(frozen=True)
class Delivery:
    source: str
    event_id: str
    topic: str
    record_key: str | None  # "order:<id>", "tracker:<id>" — what newer events of the same record share
    occurred_at: datetime
    payload: Any  # the decoded body


def _refuse_repeated_keys(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, value in pairs:
        if key in out:
            raise DeliveryError(f"the body repeats the key {key!r}")
        out[key] = value
    return out


def decode_body(body: bytes) -> Any:
    """The body as JSON, strictly. orjson refuses bad UTF-8, lone surrogates and deep nesting in C;
    the standard library then finds repeated keys, which orjson silently collapses."""
    try:
        orjson.loads(body)
    except orjson.JSONDecodeError as exc:
        raise DeliveryError(f"the body is not valid JSON: {exc}") from None
    try:
        return json.loads(body, object_pairs_hook=_refuse_repeated_keys, parse_constant=_no_constant)
    except RecursionError:
        raise DeliveryError("the body nests too deeply") from None
    except ValueError as exc:
        raise DeliveryError(f"the body is not valid JSON: {exc}") from None


def _no_constant(name: str) -> Any:
    raise DeliveryError(f"the body holds {name}, which is not JSON")


def _event_id(value: str | None, header: str) -> str:
    if not value or not value.strip():
        raise DeliveryError(f"no {header}")
    if len(value) > MAX_EVENT_ID or not value.isprintable():
        raise DeliveryError(f"{header} is not a plausible event id")
    return value.strip()


def _when(value: Any) -> datetime | None:
    if not isinstance(value, str) or not value:
        return None
    try:
        moment = utc_timestamp(value)
    except (ValueError, OverflowError):
        return None
    return moment if 1970 <= moment.year <= 9999 else None


def _id_of(value: Any) -> str | None:
    """An id as text, for a record key: an integer or a short string, else None."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int) and 0 <= value < 2**63:
        return str(value)
    if isinstance(value, str) and 0 < len(value) <= 100 and value.isprintable():
        return value
    return None


def read_delivery(source: str, headers: Any, body: bytes, *, received_at: datetime) -> Delivery:
    """The delivery of a verified request (`headers` read case-insensitively); raises DeliveryError."""
    if source == "shopify":
        topic = str(headers.get("x-shopify-topic") or "")
        event_id = _event_id(headers.get("x-shopify-webhook-id"), "X-Shopify-Webhook-Id")
        occurred = _when(headers.get("x-shopify-triggered-at"))
    elif source == "shipbob":
        topic = str(headers.get("x-webhook-topic") or "")
        event_id = _event_id(headers.get("webhook-id"), "webhook-id")
        stamp = headers.get("webhook-timestamp") or ""
        occurred = datetime.fromtimestamp(int(stamp), UTC) if stamp.isdigit() and len(stamp) <= 12 else None
    else:
        topic, event_id, occurred = "", "", None
    if source != "easypost" and topic not in TOPICS[source]:
        raise DeliveryError(f"{source} topic {topic[:80]!r} is not one the receiver handles")
    payload = decode_body(body)
    if not isinstance(payload, dict):
        raise DeliveryError("the body is not a JSON object")
    if source == "easypost":
        description = payload.get("description")
        topic = description if isinstance(description, str) else ""
        if topic not in EASYPOST_TOPICS:
            raise IgnoredDelivery(f"easypost event {topic[:80]!r} is not one the receiver handles")
        raw_id = payload.get("id")
        event_id = _event_id(raw_id if isinstance(raw_id, str) else None, "event id")
        occurred = _when(payload.get("updated_at")) or _when(payload.get("created_at"))
    return Delivery(
        source=source,
        event_id=event_id,
        topic=topic,
        record_key=record_key(source, topic, payload),
        occurred_at=occurred or received_at,
        payload=payload,
    )


def record_key(source: str, topic: str, payload: dict[str, Any]) -> str | None:
    """Which record the event is about, where the payload says so plainly."""
    if source == "shopify":
        if topic in SHOPIFY_ORDER_TOPICS:
            ident = _id_of(payload.get("id"))
        else:
            ident = _id_of(payload.get("order_id"))
        return f"order:{ident}" if ident else None
    if source == "shipbob":
        ident = _id_of(payload.get("id")) or _id_of(payload.get("order_id"))
        return f"order:{ident}" if ident else None
    result = payload.get("result")
    ident = _id_of(result.get("id")) if isinstance(result, dict) else None
    return f"tracker:{ident}" if ident else None
