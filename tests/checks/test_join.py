"""SPEC §1's join, on data: the reference first, the order number second, the lowest id of several,
replacements apart, trackers by any linked code (every tracker that shares it)."""

from __future__ import annotations

from checks.join import WarehouseJoin, join_order, parse_reference, replacement_reference
from tests.checks.factories import (
    ORDER_ID,
    fulfillment,
    replacement_order,
    shipment,
    store_order,
    tracker,
    warehouse_order,
)


def test_the_reference_wins_over_the_order_number() -> None:
    by_number = warehouse_order(id=1, reference_id="", order_number="3001")
    by_reference = warehouse_order(id=2, reference_id=str(ORDER_ID), order_number="9999")
    view = join_order(store_order(), [by_number, by_reference], [])
    assert view.warehouse == by_reference


def test_the_order_number_without_hash_when_no_reference_matches() -> None:
    other = warehouse_order(id=1, reference_id="555", order_number="4001")
    mine = warehouse_order(id=2, reference_id="", order_number="3001")
    assert join_order(store_order(name="#3001"), [other, mine], []).warehouse == mine


def test_of_several_matches_the_lowest_id() -> None:
    high = warehouse_order(id=20, order_number="3001")
    low = warehouse_order(id=10, order_number="3001")
    assert join_order(store_order(), [high, low], []).warehouse == low


def test_replacements_are_never_the_match() -> None:
    first, second = replacement_order(1), replacement_order(2)
    view = join_order(store_order(), [second, first], [])
    assert view.warehouse is None
    assert view.replacements == (first, second)


def test_trackers_link_by_store_and_matched_3pl_codes_not_replacements() -> None:
    order = store_order(fulfillments=(fulfillment(tracking_numbers=("STORE1",)),))
    matched = warehouse_order(shipments=(shipment(tracking_number="3PL1"),))
    replacement = replacement_order(1, shipments=(shipment(id=77, tracking_number="REPL1"),))
    reused = [tracker(id="trk_b", tracking_code="STORE1"), tracker(id="trk_a", tracking_code="STORE1")]
    three_pl = tracker(id="trk_c", tracking_code="3PL1")
    stranger = tracker(id="trk_d", tracking_code="REPL1")
    view = join_order(order, [matched, replacement], [*reused, three_pl, stranger])
    assert [t.id for t in view.trackers] == ["trk_c", "trk_a", "trk_b"]  # by code, then id


def test_references_encode_the_store_order_and_the_replacement_number() -> None:
    assert replacement_reference(ORDER_ID, 3) == f"{ORDER_ID}-R3"
    assert parse_reference(f"{ORDER_ID}-R3") == (ORDER_ID, 3)
    assert parse_reference(str(ORDER_ID)) == (ORDER_ID, None)
    assert parse_reference("PO-1234") == (None, None)
    assert parse_reference(str(2**63)) == (None, None)  # beyond a 64-bit id: matched by number


def test_the_bulk_index_answers_as_the_one_order_join() -> None:
    orders = [store_order(id=ORDER_ID + i, name=f"#{3001 + i}") for i in range(4)]
    warehouse = [
        warehouse_order(id=5, reference_id=str(ORDER_ID + 1), order_number="x"),
        warehouse_order(id=4, reference_id="", order_number="3003"),
        warehouse_order(id=3, reference_id="", order_number="3003"),
        replacement_order(1),
    ]
    join = WarehouseJoin(warehouse)
    for order in orders:
        view = join_order(order, warehouse, [])
        assert (join.match(order), join.replacements(order)) == (view.warehouse, view.replacements)
