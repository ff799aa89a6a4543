"""SPEC §1 in the store writes, for every writer (import, sync, refresh, webhook): a record older than
the stored one is not written; one without an update time replaces it; trackers are keyed by id, and
two trackers of one tracking code both link to its order."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

from sqlalchemy import select
from sqlalchemy.engine import Connection, Engine

from services import store
from tests.checks.factories import at, fulfillment, store_order, tracker

NOW = at("2026-07-06T14:00:00Z")
OLD = store_order(updated_at=at("2026-07-01T10:00:00Z"), financial_status="pending")
NEW = replace(
    OLD, updated_at=at("2026-07-02T10:00:00Z"), financial_status="paid", fulfillments=(fulfillment(),)
)


def _status(engine: Engine) -> str | None:
    with engine.connect() as conn:
        return _status_in(conn)


def test_an_older_store_order_is_not_written(engine: Engine) -> None:
    with engine.begin() as conn:
        assert store.write_store_orders(conn, [NEW], NOW) == [NEW]
        assert store.write_store_orders(conn, [OLD], NOW + timedelta(hours=1)) == []
    assert _status(engine) == "paid"
    with engine.connect() as conn:
        assert store.load_store_orders(conn, [NEW.id])[NEW.id].fulfillments == NEW.fulfillments


def test_the_same_time_or_no_time_replaces(engine: Engine) -> None:
    undated = replace(OLD, updated_at=None)
    with engine.begin() as conn:
        store.write_store_orders(conn, [NEW], NOW)
        assert store.write_store_orders(conn, [replace(NEW, financial_status="refunded")], NOW) != []
        assert _status_in(conn) == "refunded"
        assert store.write_store_orders(conn, [undated], NOW) == [undated]
    assert _status(engine) == "pending"


def _status_in(conn: Connection) -> str | None:
    return conn.scalar(select(store.T_ORDER.c.financial_status))


def test_an_older_tracker_is_not_written(engine: Engine) -> None:
    newer = tracker(status="delivered", updated_at=at("2026-07-03T10:00:00Z"))
    older = replace(newer, status="in_transit", updated_at=at("2026-07-02T10:00:00Z"))
    with engine.begin() as conn:
        store.write_trackers(conn, [newer], NOW)
        store.write_trackers(conn, [older], NOW)
        assert conn.scalar(select(store.T_TRACKER.c.status)) == "delivered"
        store.write_trackers(conn, [replace(older, updated_at=None)], NOW)
        assert conn.scalar(select(store.T_TRACKER.c.status)) == "in_transit"


def test_two_trackers_of_one_code_are_kept_and_both_link(engine: Engine) -> None:
    order = store_order(fulfillments=(fulfillment(),))  # tracking number 1ZHG00000000003001
    first = tracker(id="trk_first", status="in_transit")
    second = tracker(id="trk_second", status="return_to_sender")
    with engine.begin() as conn:
        store.write_store_orders(conn, [order], NOW)
        store.write_trackers(conn, [first], NOW)
        store.write_trackers(conn, [second], NOW)
        (order_view,) = store.build_views(conn, [order])
    assert [t.id for t in order_view.trackers] == ["trk_first", "trk_second"]
