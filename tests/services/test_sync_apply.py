"""The one write path (`services.sync.apply.apply_records`): the orders a 3PL or carrier page
reclassifies, the stored hold a store page keeps when it did not ask, and the write lock every writer
takes first. On SQLite and PostgreSQL."""

from __future__ import annotations

from dataclasses import replace

import pytest
from sqlalchemy import select
from sqlalchemy.engine import Engine
from sqlalchemy.exc import OperationalError

from checks.model import StoreOrder
from services import store
from services.store import T_CLASS, T_ORDER
from services.sync import apply_records, write_lock
from tests.checks.factories import (
    at,
    line_item,
    policy,
    replacement_order,
    shipment,
    store_order,
    tracker,
    warehouse_order,
)

NOW = at("2026-07-03T12:00:00-04:00")


def _order(n: int) -> StoreOrder:
    return store_order(id=n, name=f"#{n}", line_items=(line_item(id=n * 10),))


A, B, C = _order(5001), _order(5002), _order(5003)


def _write_orders(engine: Engine, *orders: StoreOrder) -> None:
    with engine.begin() as conn:
        store.write_store_orders(conn, list(orders), NOW)


def test_a_3pl_page_names_its_orders_by_reference_by_number_and_by_earlier_match(engine: Engine) -> None:
    _write_orders(engine, A, B, C)
    moved = warehouse_order(id=70003, reference_id="5003", order_number="5003")
    with engine.begin() as conn:
        store.write_warehouse_orders(conn, [moved], NOW)
        store.reclassify(conn, [C.id], policy(), NOW)  # the 3PL order is now C's match
    page = [
        warehouse_order(id=70001, reference_id="5001", order_number=None, shipments=()),  # by reference
        warehouse_order(id=70002, reference_id="SB-legacy-5002", order_number="5002", shipments=()),  # number
        replace(moved, reference_id="SB-moved", order_number=None),  # no longer names C, was its match
        warehouse_order(id=70004, reference_id="9999", order_number="9999", shipments=()),  # no such order
        replacement_order(1, id=70005, reference_id="5001-R1", order_number=None),
    ]
    with engine.begin() as conn:
        assert apply_records(conn, policy(), NOW, warehouse_orders=page) == {A.id, B.id, C.id}
        assert apply_records(conn, policy(), NOW, warehouse_orders=page) == set()  # stored as they are
        assert apply_records(conn, policy(), NOW) == set()
        matched = dict(conn.execute(select(T_CLASS.c.order_id, T_CLASS.c.warehouse_name)).tuples().all())
    assert set(matched) == {A.id, B.id, C.id}


def test_a_carrier_page_names_the_orders_known_by_its_tracking_codes(engine: Engine) -> None:
    shipped_a = warehouse_order(
        id=70001,
        reference_id="5001",
        order_number="5001",
        shipments=(replace(warehouse_order().shipments[0], tracking_number="1ZA"),),
    )
    _write_orders(engine, A, B)
    with engine.begin() as conn:
        store.write_warehouse_orders(conn, [shipped_a], NOW)
        store.reclassify(conn, [A.id, B.id], policy(), NOW)
    with engine.begin() as conn:
        assert apply_records(conn, policy(), NOW, trackers=[tracker(id="trk_a", tracking_code="1ZA")]) == {
            A.id
        }
        assert (
            apply_records(conn, policy(), NOW, trackers=[tracker(id="trk_x", tracking_code="1ZNOBODY")])
            == set()
        )


def test_a_store_page_that_did_not_ask_the_hold_keeps_the_stored_one(engine: Engine) -> None:
    rules = policy()
    with engine.begin() as conn:
        apply_records(conn, rules, NOW, store_orders=[replace(A, on_hold=True), replace(B, on_hold=True)])
    # The next page asked B's hold (released) but not A's.
    with engine.begin() as conn:
        apply_records(conn, rules, NOW, store_orders=[replace(A, on_hold=None), replace(B, on_hold=False)])
    with engine.connect() as conn:
        holds = dict(conn.execute(select(T_ORDER.c.id, T_ORDER.c.on_hold)).tuples().all())
        categories = dict(conn.execute(select(T_CLASS.c.order_id, T_CLASS.c.base_category)).tuples().all())
    assert holds == {A.id: True, B.id: False}
    assert categories[A.id] == "on_hold" and categories[B.id] != "on_hold"


def test_a_3pl_order_written_before_its_store_order_is_in_the_store_orders_classification(
    engine: Engine,
) -> None:
    shipped = warehouse_order(
        id=70001, reference_id="5001", order_number="5001", shipments=(shipment(status="Completed"),)
    )
    with engine.begin() as conn:
        assert apply_records(conn, policy(), NOW, warehouse_orders=[shipped]) == set()  # A not stored yet
    with engine.begin() as conn:
        assert apply_records(conn, policy(), NOW, store_orders=[A]) == {A.id}
        category = conn.scalar(select(T_CLASS.c.base_category).where(T_CLASS.c.order_id == A.id))
    assert category == "sync_delay"  # open in the store, shipped by the 3PL


def test_the_write_lock_keeps_a_second_writer_out_until_the_first_commits(engine: Engine) -> None:
    first, second = engine.connect(), engine.connect()
    try:
        first.begin()
        write_lock(first)
        second.begin()
        if engine.dialect.name == "postgresql":
            second.exec_driver_sql("SET LOCAL lock_timeout = '300ms'")
        else:
            second.exec_driver_sql("PRAGMA busy_timeout = 300")
        with pytest.raises(OperationalError):
            write_lock(second)
        second.rollback()
        first.commit()
        second.begin()
        write_lock(second)  # free once the first transaction ended
        second.rollback()
    finally:
        first.close()
        second.close()
