"""A real webhook receiver on loopback for tests, signed deliveries, and small sample payloads."""

from __future__ import annotations

import copy
import json
import socket
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.engine import Engine

from services.settings import Settings
from services.webhooks import signatures
from services.webhooks.events import T_EVENT
from services.webhooks.serve import start_receiver
from tests.conftest import SMALL_STORE

SECRETS = {
    "shopify_webhook_secret": "shpss_test_client_secret",
    "shipbob_webhook_secret": "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw",
    "easypost_webhook_secret": "e\u0301asypost-se\u0301cret",  # NFKD matters: an accented secret
}


def settings(**overrides: Any) -> Settings:
    return Settings(database_url="sqlite://", **{**SECRETS, **overrides})


def free_socket() -> socket.socket:
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    sock.listen(128)
    return sock


@contextmanager
def running_receiver(engine: Engine, config: Settings | None = None, **kw: Any) -> Iterator[str]:
    """A uvicorn server of the receiver on 127.0.0.1 (a free port); yields its base URL."""
    config = config or settings()
    with start_receiver(engine, config, config.policy(), poll_s=kw.pop("poll_s", 0.2), **kw) as running:
        yield running.base_url


def body_of(payload: Any) -> bytes:
    return json.dumps(payload, separators=(",", ":")).encode()


def shopify_headers(
    body: bytes, topic: str = "orders/updated", event_id: str | None = None, **kw: str
) -> dict[str, str]:
    headers = {
        "X-Shopify-Hmac-SHA256": signatures.sign_shopify(SECRETS["shopify_webhook_secret"], body),
        "X-Shopify-Topic": topic,
        "X-Shopify-Webhook-Id": event_id or str(uuid.uuid4()),
        "Content-Type": "application/json",
    }
    return {**headers, **kw}


def shipbob_headers(body: bytes, topic: str = "order.shipped", event_id: str | None = None) -> dict[str, str]:
    event_id = event_id or f"msg_{uuid.uuid4().hex}"
    stamp = int(time.time())
    return {
        "webhook-id": event_id,
        "webhook-timestamp": str(stamp),
        "webhook-signature": signatures.sign_shipbob(
            SECRETS["shipbob_webhook_secret"], event_id, stamp, body
        ),
        "x-webhook-topic": topic,
        "Content-Type": "application/json",
    }


def easypost_headers(body: bytes) -> dict[str, str]:
    return {
        "X-Hmac-Signature": signatures.sign_easypost(SECRETS["easypost_webhook_secret"], body),
        "Content-Type": "application/json",
    }


def easypost_event(
    tracker: dict[str, Any], description: str = "tracker.updated", event_id: str | None = None
) -> dict[str, Any]:
    return {
        "id": event_id or f"evt_{uuid.uuid4().hex}",
        "object": "Event",
        "mode": "production",
        "description": description,
        "created_at": tracker.get("updated_at"),
        "updated_at": tracker.get("updated_at"),
        "result": tracker,
        "status": "pending",
        "pending_urls": [],
        "completed_urls": [],
    }


def sample(kind: str, index: int = 0) -> dict[str, Any]:
    """A record of the small-store sample: 'order' (Shopify REST), 'shipbob', 'tracker'."""
    if kind == "order":
        data = json.loads((SMALL_STORE / "shopify" / "orders.json").read_text())["orders"]
    elif kind == "shipbob":
        data = json.loads((SMALL_STORE / "shipbob" / "orders.json").read_text())
    else:
        data = json.loads((SMALL_STORE / "easypost" / "trackers.json").read_text())["trackers"]
    return copy.deepcopy(data[index])


def wait_settled(engine: Engine, timeout: float = 10.0) -> dict[str, str]:
    """Wait until no event is `received` (each applied or failed); {event_id: status}."""
    deadline = time.monotonic() + timeout
    while True:
        with engine.connect() as conn:
            rows = dict(conn.execute(select(T_EVENT.c.event_id, T_EVENT.c.status)).all())
        if "received" not in rows.values() or time.monotonic() > deadline:
            return rows
        time.sleep(0.02)


def utc(text: str) -> datetime:
    return datetime.fromisoformat(text).astimezone(UTC)
