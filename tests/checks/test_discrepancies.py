"""SPEC §4: discrepancies between the store, the 3PL and the carrier."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest

from checks.categories import classify
from checks.discrepancies import CODES, discrepancies_at
from checks.model import OrderView, Tracker, WarehouseOrder
from tests.checks.factories import (
    at,
    fulfillment,
    policy,
    replacement_order,
    shipment,
    store_order,
    tracker,
    tracking_event,
    view,
    warehouse_order,
)
from tests.checks.sample_records import load_sample

CREATED = at("2026-07-01T10:00:00-04:00")  # the default order's created_at
AS_OF = at("2026-07-03T09:00:00-04:00")
CANCELLED_AT = at("2026-07-01T11:00:00-04:00")
COMPLETED = warehouse_order(status="Fulfilled", shipments=(shipment(),))
PROCESSING = warehouse_order()


def _codes(order_view: OrderView, as_of: datetime = AS_OF) -> list[str]:
    found = discrepancies_at(order_view, classify(order_view, policy()), as_of, policy())
    return [d.code for d in found]


def test_codes_are_the_spec_table() -> None:
    assert CODES == (
        "cancelled_but_shipped",
        "cancelled_not_stopped",
        "missing_at_3pl",
        "tracking_mismatch",
        "carrier_exception",
        "stalled_in_transit",
    )


@pytest.mark.parametrize(
    ("order_view", "found"),
    [
        (view(store=store_order(cancelled_at=CANCELLED_AT), warehouse=COMPLETED), True),
        (view(store=store_order(financial_status="refunded"), warehouse=COMPLETED), True),
        (view(store=store_order(financial_status="voided"), warehouse=COMPLETED), True),
        (
            view(
                store=store_order(cancelled_at=CANCELLED_AT),
                warehouse=warehouse_order(
                    shipments=(shipment(status="Completed"), shipment(id=2, status="Processing"))
                ),
            ),
            True,
        ),
        (view(store=store_order(cancelled_at=CANCELLED_AT), warehouse=PROCESSING), False),
        (
            view(
                store=store_order(cancelled_at=CANCELLED_AT),
                warehouse=warehouse_order(shipments=(shipment(status="Cancelled"),)),
            ),
            False,
        ),
        (view(store=store_order(cancelled_at=CANCELLED_AT)), False),
        (
            view(
                store=store_order(cancelled_at=CANCELLED_AT),
                replacements=(replacement_order(shipments=(shipment(),)),),
            ),
            False,
        ),
        (view(store=store_order(financial_status="partially_refunded"), warehouse=COMPLETED), False),
        (view(warehouse=COMPLETED), False),  # sync_delay, not cancelled
    ],
)
def test_cancelled_but_shipped(order_view: OrderView, found: bool) -> None:
    assert ("cancelled_but_shipped" in _codes(order_view)) is found


@pytest.mark.parametrize(
    ("order_view", "found"),
    [
        (view(store=store_order(cancelled_at=CANCELLED_AT), warehouse=PROCESSING), True),
        (view(store=store_order(financial_status="refunded"), warehouse=PROCESSING), True),
        (view(store=store_order(financial_status="voided"), warehouse=PROCESSING), True),
        (
            view(
                store=store_order(cancelled_at=CANCELLED_AT),
                warehouse=warehouse_order(shipments=(shipment(status="OnHold"),)),
            ),
            True,
        ),
        (view(store=store_order(cancelled_at=CANCELLED_AT), warehouse=COMPLETED), False),
        (
            view(
                store=store_order(cancelled_at=CANCELLED_AT),
                warehouse=warehouse_order(shipments=(shipment(status="Cancelled"),)),
            ),
            False,
        ),
        (view(store=store_order(cancelled_at=CANCELLED_AT), warehouse=warehouse_order(shipments=())), False),
        (view(store=store_order(cancelled_at=CANCELLED_AT)), False),
        (
            view(
                store=store_order(cancelled_at=CANCELLED_AT),
                replacements=(replacement_order(),),
            ),
            False,
        ),
        (view(store=store_order(financial_status="partially_refunded"), warehouse=PROCESSING), False),
        (view(warehouse=PROCESSING), False),  # open order at the 3PL: nothing to stop
    ],
)
def test_cancelled_not_stopped(order_view: OrderView, found: bool) -> None:
    assert ("cancelled_not_stopped" in _codes(order_view)) is found


def test_cancelled_not_stopped_beside_a_shipped_shipment_names_the_live_one() -> None:
    order_view = view(
        store=store_order(cancelled_at=CANCELLED_AT),
        warehouse=warehouse_order(
            shipments=(shipment(status="Completed"), shipment(id=2, status="Processing"))
        ),
    )
    found = {
        d.code: d.detail
        for d in discrepancies_at(order_view, classify(order_view, policy()), AS_OF, policy())
    }
    assert set(found) == {"cancelled_but_shipped", "cancelled_not_stopped"}
    assert found["cancelled_not_stopped"] == (
        "Store says cancelled, but 3PL order 90003001 may still ship (shipment 2 (Processing))."
    )


@pytest.mark.parametrize(
    ("order_view", "as_of", "found"),
    [
        (view(), CREATED + timedelta(hours=4), False),  # exactly the limit: not missing (strict >)
        (view(), CREATED + timedelta(hours=4, seconds=1), True),
        (view(), CREATED + timedelta(hours=1), False),
        (view(), AS_OF, True),  # overdue
        (view(), at("2026-07-02T12:00:00-04:00"), True),  # pending
        (view(warehouse=PROCESSING), AS_OF, False),
        (view(replacements=(replacement_order(),)), AS_OF, True),  # a replacement is not the matched order
        (view(store=store_order(cancelled_at=CANCELLED_AT)), AS_OF, False),
        (view(store=store_order(financial_status="pending")), AS_OF, False),
        (view(store=store_order(on_hold=True)), AS_OF, False),
    ],
)
def test_missing_at_3pl(order_view: OrderView, as_of: datetime, found: bool) -> None:
    assert ("missing_at_3pl" in _codes(order_view, as_of)) is found


def test_missing_at_3pl_uses_policy_hours() -> None:
    order_view = view()
    as_of = CREATED + timedelta(hours=2, seconds=1)
    assert discrepancies_at(order_view, classify(order_view, policy()), as_of, policy()) == ()
    shorter = policy(missing_after_hours=2)
    found = discrepancies_at(order_view, classify(order_view, shorter), as_of, shorter)
    assert [d.code for d in found] == ["missing_at_3pl"]


def _store_tracking(*codes: str) -> dict:
    return {"fulfillments": (fulfillment(tracking_numbers=codes),)} if codes else {}


def _warehouse_tracking(*codes: str | None) -> WarehouseOrder:
    return warehouse_order(shipments=tuple(shipment(id=n, tracking_number=c) for n, c in enumerate(codes)))


@pytest.mark.parametrize(
    ("store_codes", "warehouse_codes", "replacement_codes", "found"),
    [
        (("1ZA",), ("1ZB",), (), True),
        (("1ZA",), ("1ZA",), (), False),
        (("1ZA",), ("1ZB", "1ZA"), (), False),
        (("1ZA", "1ZC"), ("1ZC",), (), False),
        ((), ("1ZB",), (), False),
        (("1ZA",), (None,), (), False),
        (("1ZA",), ("1ZB",), ("1ZA",), True),  # a replacement's tracking number does not count
        ((), ("1ZB",), ("1ZA",), False),
    ],
)
def test_tracking_mismatch(
    store_codes: tuple[str, ...],
    warehouse_codes: tuple[str | None, ...],
    replacement_codes: tuple[str, ...],
    found: bool,
) -> None:
    replacements = (
        (
            replacement_order(
                shipments=tuple(
                    shipment(id=70 + n, tracking_number=c) for n, c in enumerate(replacement_codes)
                )
            ),
        )
        if replacement_codes
        else ()
    )
    order_view = view(
        store=store_order(**_store_tracking(*store_codes)),
        warehouse=_warehouse_tracking(*warehouse_codes),
        replacements=replacements,
    )
    assert ("tracking_mismatch" in _codes(order_view)) is found


def test_tracking_mismatch_without_a_3pl_order() -> None:
    assert "tracking_mismatch" not in _codes(view(store=store_order(**_store_tracking("1ZA"))))


@pytest.mark.parametrize(
    ("status", "found"),
    [
        ("return_to_sender", True),
        ("failure", True),
        ("error", True),
        ("delivered", False),
        ("in_transit", False),
        ("out_for_delivery", False),
        ("unknown", False),
        ("available_for_pickup", False),
    ],
)
def test_carrier_exception(status: str, found: bool) -> None:
    order_view = view(trackers=(tracker(status=status, events=(), updated_at=AS_OF),))
    assert ("carrier_exception" in _codes(order_view)) is found


def test_carrier_exception_detail_names_the_tracking_code() -> None:
    order_view = view(trackers=(tracker(status="return_to_sender", status_detail="address_not_found"),))
    found = discrepancies_at(order_view, classify(order_view, policy()), AS_OF, policy())
    assert [d.detail for d in found if d.code == "carrier_exception"] == [
        "Carrier reports return_to_sender (address_not_found) for 1ZHG00000000003001."
    ]


LAST_SCAN = at("2026-07-02T18:00:00Z")


@pytest.mark.parametrize(
    ("tracker_record", "as_of", "found"),
    [
        (tracker(events=(tracking_event(datetime=LAST_SCAN),)), LAST_SCAN + timedelta(days=5), False),
        (
            tracker(events=(tracking_event(datetime=LAST_SCAN),)),
            LAST_SCAN + timedelta(days=5, seconds=1),
            True,
        ),
        (
            tracker(status="pre_transit", events=(tracking_event(datetime=LAST_SCAN),)),
            LAST_SCAN + timedelta(days=6),
            True,
        ),
        (
            tracker(status="delivered", events=(tracking_event(datetime=LAST_SCAN),)),
            LAST_SCAN + timedelta(days=30),
            False,
        ),
        (
            tracker(status="out_for_delivery", events=(tracking_event(datetime=LAST_SCAN),)),
            LAST_SCAN + timedelta(days=30),
            False,
        ),
        (
            tracker(status="return_to_sender", events=(tracking_event(datetime=LAST_SCAN),)),
            LAST_SCAN + timedelta(days=30),
            False,
        ),
        # the newest event is the max, not the last element
        (
            tracker(
                events=(
                    tracking_event(datetime=LAST_SCAN + timedelta(days=3)),
                    tracking_event(datetime=LAST_SCAN),
                )
            ),
            LAST_SCAN + timedelta(days=6),
            False,
        ),
        (
            tracker(
                events=(
                    tracking_event(datetime=LAST_SCAN),
                    tracking_event(datetime=LAST_SCAN - timedelta(days=3)),
                )
            ),
            LAST_SCAN + timedelta(days=5, seconds=1),
            True,
        ),
        # no events: updated_at
        (tracker(events=(), updated_at=LAST_SCAN), LAST_SCAN + timedelta(days=5), False),
        (tracker(events=(), updated_at=LAST_SCAN), LAST_SCAN + timedelta(days=5, seconds=1), True),
        (tracker(events=(), updated_at=None), LAST_SCAN + timedelta(days=30), False),
    ],
)
def test_stalled_in_transit(tracker_record: Tracker, as_of: datetime, found: bool) -> None:
    order_view = view(warehouse=PROCESSING, trackers=(tracker_record,))
    assert ("stalled_in_transit" in _codes(order_view, as_of)) is found


def test_stalled_when_any_linked_tracker_stalls() -> None:
    fresh = tracker(
        id="trk_a", tracking_code="1ZA", events=(tracking_event(datetime=AS_OF - timedelta(days=1)),)
    )
    stale = tracker(
        id="trk_b", tracking_code="1ZB", events=(tracking_event(datetime=AS_OF - timedelta(days=9)),)
    )
    order_view = view(warehouse=PROCESSING, trackers=(fresh, stale))
    found = discrepancies_at(order_view, classify(order_view, policy()), AS_OF, policy())
    assert [(d.code, "1ZB" in d.detail) for d in found] == [("stalled_in_transit", True)]


def test_several_discrepancies_in_code_order() -> None:
    order_view = view(
        store=store_order(cancelled_at=CANCELLED_AT, **_store_tracking("1ZA")),
        warehouse=warehouse_order(shipments=(shipment(tracking_number="1ZB"),)),
        trackers=(
            tracker(tracking_code="1ZA", status="failure"),
            tracker(
                id="trk_b", tracking_code="1ZB", events=(tracking_event(datetime=AS_OF - timedelta(days=9)),)
            ),
        ),
    )
    assert _codes(order_view) == [
        "cancelled_but_shipped",
        "tracking_mismatch",
        "carrier_exception",
        "stalled_in_transit",
    ]


def test_no_discrepancy_for_a_clean_shipped_order() -> None:
    order_view = view(
        store=store_order(fulfillments=(fulfillment(),)),
        warehouse=COMPLETED,
        trackers=(tracker(status="delivered"),),
    )
    assert _codes(order_view, AS_OF + timedelta(days=30)) == []


def test_sample_discrepancies() -> None:
    sample = load_sample()
    found = [
        {"code": d.code, "order": name}
        for name in sorted(sample.views)
        for d in discrepancies_at(
            sample.views[name], sample.classification(name), sample.as_of, sample.policy
        )
    ]
    assert found == sample.expected["discrepancies"]


def test_several_trackers_in_exception_make_one_row_naming_each() -> None:
    order_view = view(
        trackers=(
            tracker(status="return_to_sender", status_detail="address_not_found"),
            tracker(
                id="trk_second", tracking_code="1ZHG00000000003002", status="failure", status_detail=None
            ),
            tracker(
                id="trk_same_code", tracking_code="1ZHG00000000003002", status="error", status_detail=None
            ),
        )
    )
    found = discrepancies_at(order_view, classify(order_view, policy()), AS_OF, policy())
    assert [(d.code, d.detail) for d in found if d.code == "carrier_exception"] == [
        (
            "carrier_exception",
            "Carrier reports return_to_sender (address_not_found) for 1ZHG00000000003001; "
            "failure for 1ZHG00000000003002 (tracker trk_second); "
            "error for 1ZHG00000000003002 (tracker trk_same_code).",
        )
    ]
