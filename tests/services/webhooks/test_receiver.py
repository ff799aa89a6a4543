"""The receiver as a real server on loopback: signatures, size limit, dedupe, newest wins, hostile bodies."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from sqlalchemy import select
from sqlalchemy.engine import Engine

from services.store import T_CLASS, T_ORDER, T_SHIPMENT, T_TRACKER, T_WAREHOUSE
from services.webhooks import signatures
from services.webhooks.events import T_EVENT
from tests.services.webhooks.support import (
    SECRETS,
    body_of,
    easypost_event,
    easypost_headers,
    running_receiver,
    sample,
    shipbob_headers,
    shopify_headers,
    wait_settled,
)


@pytest.fixture
def receiver(engine: Engine) -> Iterator[httpx.Client]:
    with running_receiver(engine) as base, httpx.Client(base_url=base, timeout=10) as client:
        yield client


def _events(engine: Engine) -> list[Any]:
    with engine.connect() as conn:
        return conn.execute(select(T_EVENT).order_by(T_EVENT.c.id)).all()


def _signed(source: str, payload: Any, **kw: Any) -> tuple[bytes, dict[str, str]]:
    body = body_of(payload)
    if source == "shopify":
        return body, shopify_headers(body, **kw)
    if source == "shipbob":
        return body, shipbob_headers(body, **kw)
    return body, easypost_headers(body)


def _payload(source: str) -> Any:
    if source == "shopify":
        return sample("order")
    if source == "shipbob":
        return sample("shipbob")
    return easypost_event(sample("tracker"))


SIGNATURE_HEADER = {
    "shopify": "X-Shopify-Hmac-SHA256",
    "shipbob": "webhook-signature",
    "easypost": "X-Hmac-Signature",
}


def test_healthz(receiver: httpx.Client) -> None:
    assert receiver.get("/healthz").json() == {"ok": True}


@pytest.mark.parametrize("source", ["shopify", "shipbob", "easypost"])
def test_a_valid_signature_is_stored_and_applied(source: str, receiver: httpx.Client, engine: Engine) -> None:
    body, headers = _signed(source, _payload(source))
    reply = receiver.post(f"/webhooks/{source}", content=body, headers=headers)
    assert reply.status_code == 200 and reply.json()["stored"] is True
    assert wait_settled(engine) and [e.status for e in _events(engine)] == ["applied"]


@pytest.mark.parametrize("source", ["shopify", "shipbob", "easypost"])
@pytest.mark.parametrize("case", ["missing", "wrong", "wrong secret", "body altered by one byte"])
def test_a_bad_signature_is_401_and_nothing_is_stored(
    source: str, case: str, receiver: httpx.Client, engine: Engine
) -> None:
    body, headers = _signed(source, _payload(source))
    name = SIGNATURE_HEADER[source]
    if case == "missing":
        headers.pop(name)
    elif case == "wrong":
        headers[name] = headers[name][:-4] + ("AAAA" if not headers[name].endswith("AAAA") else "BBBB")
    elif case == "wrong secret":
        other = {"shopify_webhook_secret": "other", "easypost_webhook_secret": "other"}
        if source == "shopify":
            headers[name] = signatures.sign_shopify(other["shopify_webhook_secret"], body)
        elif source == "easypost":
            headers[name] = signatures.sign_easypost(other["easypost_webhook_secret"], body)
        else:
            stamp = int(headers["webhook-timestamp"])
            headers[name] = signatures.sign_shipbob(
                "whsec_b3RoZXItc2VjcmV0", headers["webhook-id"], stamp, body
            )
    else:
        body = body[:-2] + bytes([body[-2] ^ 1]) + body[-1:]
    reply = receiver.post(f"/webhooks/{source}", content=body, headers=headers)
    assert reply.status_code == 401
    assert _events(engine) == []


def test_a_shipbob_delivery_replayed_later_is_refused(receiver: httpx.Client, engine: Engine) -> None:
    body = body_of(sample("shipbob"))
    stamp = 1_700_000_000  # long ago: a captured delivery sent again
    headers = shipbob_headers(body)
    headers["webhook-timestamp"] = str(stamp)
    headers["webhook-signature"] = signatures.sign_shipbob(
        SECRETS["shipbob_webhook_secret"], headers["webhook-id"], stamp, body
    )
    assert receiver.post("/webhooks/shipbob", content=body, headers=headers).status_code == 401
    assert _events(engine) == []


def test_the_easypost_secret_is_nfkd_normalized() -> None:
    body = b'{"id":"evt_1"}'
    composed = "\u00e9asypost-s\u00e9cret"  # the same text as SECRETS' decomposed one
    assert signatures.sign_easypost(composed, body) == signatures.sign_easypost(
        SECRETS["easypost_webhook_secret"], body
    )


def test_a_body_over_1_mb_is_413_and_nothing_is_stored(receiver: httpx.Client, engine: Engine) -> None:
    order = sample("order")
    order["note"] = "x" * (1024 * 1024)
    body, headers = _signed("shopify", order)
    assert receiver.post("/webhooks/shopify", content=body, headers=headers).status_code == 413

    def chunks() -> Iterator[bytes]:  # no Content-Length: the limit holds while streaming too
        yield from (body[i : i + 65536] for i in range(0, len(body), 65536))

    assert receiver.post("/webhooks/shopify", content=chunks(), headers=headers).status_code == 413
    assert _events(engine) == []


def test_a_redelivery_is_stored_once(receiver: httpx.Client, engine: Engine) -> None:
    body, headers = _signed("shopify", sample("order"), event_id="delivery-1")
    first = receiver.post("/webhooks/shopify", content=body, headers=headers)
    second = receiver.post("/webhooks/shopify", content=body, headers=headers)
    assert (first.json()["stored"], second.json()["stored"]) == (True, False)
    wait_settled(engine)
    assert len(_events(engine)) == 1
    with engine.connect() as conn:
        assert conn.scalar(select(T_ORDER.c.name)) == "#2001"
        assert conn.scalar(select(T_CLASS.c.order_id)) == 5410000000001


def test_an_older_store_order_never_moves_it_back(receiver: httpx.Client, engine: Engine) -> None:
    old = sample("order")
    new = sample("order")
    new["updated_at"] = "2026-07-02T09:00:00-04:00"
    new["financial_status"] = "refunded"
    for payload in (new, old):  # the newer arrives first
        body, headers = _signed("shopify", payload)
        assert receiver.post("/webhooks/shopify", content=body, headers=headers).status_code == 200
        wait_settled(engine)
    with engine.connect() as conn:
        assert conn.scalar(select(T_ORDER.c.financial_status)) == "refunded"
        assert conn.scalar(select(T_CLASS.c.base_category)) == "refunded"
    assert [e.outcome for e in _events(engine)][1].startswith("kept the stored #2001")


def test_with_equal_update_times_the_later_triggered_event_wins(
    receiver: httpx.Client, engine: Engine
) -> None:
    # A fulfillment that did not move the order's updated_at: only the trigger time orders the two.
    before = sample("order")
    after = sample("order")
    after["fulfillment_status"] = "fulfilled"
    for payload, triggered in ((after, "2026-07-01T15:00:00Z"), (before, "2026-07-01T14:10:00Z")):
        body = body_of(payload)
        headers = shopify_headers(body, **{"X-Shopify-Triggered-At": triggered})
        receiver.post("/webhooks/shopify", content=body, headers=headers)
        wait_settled(engine)
    with engine.connect() as conn:
        assert conn.scalar(select(T_ORDER.c.fulfillment_status)) == "fulfilled"


def test_an_older_tracker_and_3pl_order_are_ignored(receiver: httpx.Client, engine: Engine) -> None:
    tracker = sample("tracker")
    older = json.loads(json.dumps(tracker))
    older["updated_at"], older["status"] = "2026-06-27T08:00:00Z", "in_transit"
    warehouse = sample("shipbob")
    warehouse["last_update_at"] = "2026-07-03T10:00:00-04:00"
    stale = sample("shipbob")
    stale["last_update_at"], stale["status"] = "2026-07-01T10:00:00-04:00", "Exception"
    deliveries = [
        ("easypost", easypost_event(tracker)),
        ("easypost", easypost_event(older)),
        ("shipbob", warehouse),
        ("shipbob", stale),
    ]
    for source, payload in deliveries:
        body, headers = _signed(source, payload)
        assert receiver.post(f"/webhooks/{source}", content=body, headers=headers).status_code == 200
        wait_settled(engine)
    with engine.connect() as conn:
        assert conn.scalar(select(T_TRACKER.c.status)) == "delivered"
        assert conn.scalar(select(T_WAREHOUSE.c.status)) == warehouse["status"]


def test_an_older_3pl_order_is_known_by_its_shipments_times(receiver: httpx.Client, engine: Engine) -> None:
    # ShipBob's order has no update time of its own here: its shipments' `last_update_at` say how new it is.
    newer = sample("shipbob")
    newer.pop("last_update_at", None)
    newer["shipments"][0].update(status="Completed", last_update_at="2026-07-03T10:00:00-04:00")
    older = sample("shipbob")
    older.pop("last_update_at", None)
    older["shipments"][0].update(status="Processing", last_update_at="2026-07-01T10:00:00-04:00")
    for payload in (newer, older):
        body, headers = _signed("shipbob", payload)
        assert receiver.post("/webhooks/shipbob", content=body, headers=headers).status_code == 200
        wait_settled(engine)
    with engine.connect() as conn:
        assert conn.scalar(select(T_SHIPMENT.c.status)) == "Completed"


def test_an_unknown_topic_or_bad_json_is_400_and_nothing_is_stored(
    receiver: httpx.Client, engine: Engine
) -> None:
    body, headers = _signed("shopify", sample("order"), topic="products/create")
    assert receiver.post("/webhooks/shopify", content=body, headers=headers).status_code == 400
    broken = b'{"id": 1, "name": '
    assert (
        receiver.post("/webhooks/shopify", content=broken, headers=shopify_headers(broken)).status_code == 400
    )
    assert (
        receiver.post("/webhooks/shipbob", content=broken, headers=shipbob_headers(broken)).status_code == 400
    )
    assert _events(engine) == []


def test_an_easypost_event_other_than_a_tracker_is_acknowledged_and_dropped(
    receiver: httpx.Client, engine: Engine
) -> None:
    body = body_of({"id": "evt_batch", "object": "Event", "description": "batch.updated", "result": {}})
    reply = receiver.post("/webhooks/easypost", content=body, headers=easypost_headers(body))
    assert reply.status_code == 200 and reply.json()["stored"] is False
    assert _events(engine) == []
