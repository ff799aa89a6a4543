"""The differences a person sees for one order, on data: SPEC §4 discrepancies first and always
included, then the status and shipment differences, each once."""

from __future__ import annotations

from checks.differences import order_differences
from checks.discrepancies import Discrepancy
from checks.model import OrderView
from tests.checks.factories import shipment, store_order, tracker, warehouse_order


def test_the_spec_discrepancies_come_first_and_are_all_shown() -> None:
    view = OrderView(store=store_order(), warehouse=warehouse_order())
    spec = [Discrepancy("tracking_mismatch", "Store tracking A does not match 3PL tracking B.")]
    found = order_differences(view, "open", spec)
    assert found[0].code == "tracking_mismatch" and found[0].spec
    assert {d.code for d in found if d.spec} == {"tracking_mismatch"}


def test_a_3pl_shipment_the_store_has_not_heard_of() -> None:
    shipped = warehouse_order(status="Completed", shipments=(shipment(),))
    found = order_differences(OrderView(store=store_order(), warehouse=shipped), "open", [])
    assert [(d.code, d.spec) for d in found] == [("shipped_not_synced", False)]
    assert "3PL shipped (order status Completed)" in found[0].detail


def test_a_problem_shipment_and_a_failed_delivery_are_named() -> None:
    order = store_order(fulfillment_status="fulfilled")
    warehouse = warehouse_order(status="Exception", shipments=(shipment(id=880000285, status="Exception"),))
    failed = tracker(status="return_to_sender", tracking_code="1ZHG00000000003001")
    found = order_differences(
        OrderView(store=order, warehouse=warehouse, trackers=(failed,)), "fulfilled", []
    )
    assert {d.code: d.detail for d in found} == {
        "store_ahead_of_3pl": "Store says fulfilled, but the 3PL order is Exception.",
        "shipment_problem": "3PL shipment 880000285 is Exception.",
        "delivery_failed": "Store says fulfilled, but the carrier says return_to_sender for 1ZHG00000000003001.",
    }


def test_a_carrier_exception_already_reported_is_not_repeated() -> None:
    order = store_order(fulfillment_status="fulfilled")
    warehouse = warehouse_order(status="Completed", shipments=(shipment(),))
    failed = tracker(status="failure")
    spec = [Discrepancy("carrier_exception", "Carrier reports failure for 1ZHG00000000003001.")]
    found = order_differences(
        OrderView(store=order, warehouse=warehouse, trackers=(failed,)), "fulfilled", spec
    )
    assert [d.code for d in found] == ["carrier_exception"]


def test_no_3pl_order_for_an_open_order_but_not_for_a_closed_one() -> None:
    view = OrderView(store=store_order())
    assert [d.code for d in order_differences(view, "open", [])] == ["no_3pl_order"]
    assert order_differences(view, "cancelled", []) == []
