"""The event store: stored once per (source, event id), due events, backoff, the last event per source."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy.engine import Engine

from services.webhooks import event_counts, last_events
from services.webhooks.deliveries import Delivery
from services.webhooks.events import claim_event, due_event_ids, mark_failed, store_event

T = datetime(2026, 11, 20, 15, tzinfo=UTC)


def _delivery(source: str, event_id: str) -> Delivery:
    return Delivery(source, event_id, "orders/updated", "order:1", T, {})


def test_last_events_per_source(engine: Engine) -> None:
    with engine.connect() as conn:
        assert last_events(conn) == {"shopify": None, "shipbob": None, "easypost": None}
    store_event(engine, _delivery("shopify", "a"), b"{}", now=T)
    store_event(engine, _delivery("shopify", "b"), b"{}", now=T + timedelta(seconds=5))
    store_event(engine, _delivery("easypost", "evt_1"), b"{}", now=T + timedelta(seconds=2))
    with engine.connect() as conn:
        assert last_events(conn) == {
            "shopify": T + timedelta(seconds=5),
            "shipbob": None,
            "easypost": T + timedelta(seconds=2),
        }
        assert event_counts(conn)["shopify"] == {"received": 2}


def test_a_redelivery_is_stored_once_and_the_same_id_may_come_from_two_sources(engine: Engine) -> None:
    assert store_event(engine, _delivery("shopify", "x"), b"{}", now=T) is not None
    assert store_event(engine, _delivery("shopify", "x"), b"{}", now=T) is None
    assert store_event(engine, _delivery("shipbob", "x"), b"{}", now=T) is not None


def test_a_failed_event_backs_off_and_one_refused_is_never_due_again(engine: Engine) -> None:
    first = store_event(engine, _delivery("shopify", "1"), b"{}", now=T)
    second = store_event(engine, _delivery("shopify", "2"), b"{}", now=T)
    assert first is not None and second is not None
    with engine.begin() as conn:
        one, two = claim_event(conn, first, now=T), claim_event(conn, second, now=T)
    assert one is not None and two is not None
    with engine.begin() as conn:
        mark_failed(conn, one, "source away", now=T, retry=True)
        mark_failed(conn, two, "refused: bad", now=T, retry=False)
    with engine.connect() as conn:
        assert due_event_ids(conn, now=T + timedelta(seconds=1)) == []
        assert due_event_ids(conn, now=T + timedelta(seconds=2)) == [first]
        assert due_event_ids(conn, now=T + timedelta(days=1)) == [first]
