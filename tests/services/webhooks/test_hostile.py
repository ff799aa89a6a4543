"""Hostile payloads, correctly signed: each is refused or fails for good, the data stays byte-for-byte as
it was, and the receiver keeps answering."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import httpx
import pytest
from sqlalchemy import select
from sqlalchemy.engine import Engine

from services.webhooks.events import T_EVENT
from tests.services.snapshots import dump_tables
from tests.services.webhooks.support import (
    body_of,
    easypost_event,
    easypost_headers,
    running_receiver,
    sample,
    shipbob_headers,
    shopify_headers,
    wait_settled,
)


def _order(change: Callable[[dict[str, Any]], None]) -> bytes:
    order = sample("order")
    change(order)
    return body_of(order)


def _set(path: str, value: Any) -> Callable[[dict[str, Any]], None]:
    def change(order: dict[str, Any]) -> None:
        target: Any = order
        *parents, last = path.split(".")
        for part in parents:
            target = target[int(part)] if part.isdigit() else target[part]
        target[int(last) if last.isdigit() else last] = value

    return change


SHOPIFY_BODIES: dict[str, bytes] = {
    "a quantity of 10**30": _order(_set("line_items.0.quantity", 10**30)),
    "an id of 2**63": _order(_set("line_items.0.id", 2**63)),
    "a negative quantity": _order(_set("line_items.0.fulfillable_quantity", -1)),
    "a year-1 timestamp": _order(_set("created_at", "0001-01-01T00:00:00+05:45")),
    "a year-9999 timestamp past UTC": _order(_set("created_at", "9999-12-31T23:00:00-05:00")),
    "a timestamp that is not one": _order(_set("updated_at", "yesterday")),
    "a 5000-deep array": _order(_set("note_attributes", "DEEP")).replace(
        b'"DEEP"', b"[" * 5000 + b"]" * 5000
    ),
    "line items as a string": _order(_set("line_items", "MUG-BLUE x1")),
    "an id as a fraction": _order(_set("id", 1.5)),
    "a NUL in the note": _order(_set("note", "gift\u0000wrap")),
    "a name that is missing, and no source to refresh from": _order(lambda o: o.pop("name")),
    "a lone surrogate": _order(_set("note", "SURROGATE")).replace(b"SURROGATE", b"\\ud800"),
    "a repeated key": b'{"id": 5410000000001, "id": 5410000000001, "name": "#2001"}',
    "a list, not an object": b"[1, 2, 3]",
    "not UTF-8": b'{"note": "\xff\xfe"}',
    "NaN": b'{"id": NaN}',
}


@pytest.fixture
def seeded(engine: Engine) -> Any:
    """A receiver holding one order, its 3PL order and a tracker, all applied by webhooks."""
    with running_receiver(engine) as base, httpx.Client(base_url=base, timeout=10) as client:
        for path, body, headers in (
            ("shopify", body_of(sample("order")), None),
            ("shipbob", body_of(sample("shipbob")), None),
            ("easypost", body_of(easypost_event(sample("tracker"))), None),
        ):
            headers = {"shopify": shopify_headers, "shipbob": shipbob_headers, "easypost": easypost_headers}[
                path
            ](body)
            assert client.post(f"/webhooks/{path}", content=body, headers=headers).status_code == 200
        assert set(wait_settled(engine).values()) == {"applied"}
        yield client


def _assert_unchanged(engine: Engine, before: dict[str, Any], client: httpx.Client) -> None:
    statuses = wait_settled(engine)
    assert "received" not in statuses.values()
    assert dump_tables(engine) == before
    assert client.get("/healthz").status_code == 200
    with engine.connect() as conn:
        failed = conn.execute(
            select(T_EVENT.c.last_error, T_EVENT.c.next_attempt_at).where(T_EVENT.c.status == "failed")
        ).all()
    assert all(error and next_at is None for error, next_at in failed)  # refused for good, with the reason


@pytest.mark.parametrize("case", list(SHOPIFY_BODIES))
def test_a_hostile_shopify_order_changes_nothing(case: str, seeded: httpx.Client, engine: Engine) -> None:
    before = dump_tables(engine)
    body = SHOPIFY_BODIES[case]
    reply = seeded.post("/webhooks/shopify", content=body, headers=shopify_headers(body))
    assert reply.status_code in (200, 400)
    _assert_unchanged(engine, before, seeded)


def test_hostile_shipbob_and_easypost_payloads_change_nothing(seeded: httpx.Client, engine: Engine) -> None:
    before = dump_tables(engine)
    warehouse = sample("shipbob")
    bodies = []
    for change in (
        _set("id", "not-an-id"),
        _set("shipments", {"0": "x"}),
        _set("shipments.0.id", 2**64),
        _set("products.0.quantity", 2**40),
        _set("created_date", "0001-01-01T00:00:00+05:45"),
    ):
        payload = json.loads(json.dumps(warehouse))
        change(payload)
        bodies.append(("shipbob", body_of(payload)))
    tracker = sample("tracker")
    for change in (
        _set("tracking_details", "delivered"),
        _set("updated_at", "9999-12-31T23:00:00-05:00"),
        _set("id", None),
    ):
        payload = json.loads(json.dumps(tracker))
        change(payload)
        bodies.append(("easypost", body_of(easypost_event(payload))))
    bodies.append(("easypost", body_of({"id": "evt_x", "description": "tracker.updated", "result": [1]})))
    bodies.append(("easypost", body_of({"id": ["evt"], "description": "tracker.updated", "result": {}})))
    for source, body in bodies:
        headers = shipbob_headers(body) if source == "shipbob" else easypost_headers(body)
        assert seeded.post(f"/webhooks/{source}", content=body, headers=headers).status_code in (200, 400)
    _assert_unchanged(engine, before, seeded)
