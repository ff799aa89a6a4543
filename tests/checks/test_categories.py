"""SPEC §3: open quantities, one category per order (first rule wins), and the informational view.

Over 400 lines because it walks the §3 rules in order, one case each, with the boundary around each."""

from __future__ import annotations

from datetime import date

import pytest

from checks.categories import (
    CATEGORIES,
    INFORMATIONAL,
    category_at,
    classify,
    is_informational_at,
    vendor_late_at,
)
from checks.model import LineQuantity, OrderView
from checks.quantities import open_quantity, own_open_quantity, vendor_open_quantity
from tests.checks.factories import (
    LINE_ID,
    at,
    fulfillment,
    line_item,
    policy,
    refund,
    replacement_order,
    shipment,
    shipped,
    store_order,
    vendor_line_item,
    view,
    warehouse_order,
)
from tests.checks.sample_records import load_sample

# The default order is placed Wed 2026-07-01 10:00 New York time: due (and standard due) Thu Jul 2.
BEFORE_DUE = at("2026-07-02T12:00:00-04:00")
AFTER_DUE = at("2026-07-03T09:00:00-04:00")
CANCELLED_AT = at("2026-07-01T11:00:00-04:00")

SHIPPED_3PL = warehouse_order(status="Fulfilled", shipments=(shipment(),))
OWN_DONE = line_item(fulfillable_quantity=0)
VENDOR_OPEN = vendor_line_item()
VENDOR_DONE = vendor_line_item(fulfillable_quantity=0)


def _category(order_view: OrderView, as_of=AFTER_DUE) -> str:
    return category_at(classify(order_view, policy()), as_of, policy())


def test_categories_are_the_spec_table() -> None:
    assert CATEGORIES == (
        "cancelled",
        "refunded",
        "fulfilled",
        "third_party_vendor",
        "awaiting_payment",
        "sync_delay",
        "on_hold",
        "overdue",
        "pending",
    )
    assert (
        frozenset(
            {"cancelled", "refunded", "third_party_vendor", "awaiting_payment", "sync_delay", "on_hold"}
        )
        == INFORMATIONAL
    )


@pytest.mark.parametrize(
    ("order_view", "as_of", "category"),
    [
        # each category on its own
        pytest.param(
            view(store=store_order(cancelled_at=CANCELLED_AT)), AFTER_DUE, "cancelled", id="cancelled"
        ),
        pytest.param(
            view(store=store_order(financial_status="refunded")), AFTER_DUE, "refunded", id="refunded"
        ),
        pytest.param(view(store=store_order(financial_status="voided")), AFTER_DUE, "refunded", id="voided"),
        pytest.param(
            view(store=store_order(line_items=(OWN_DONE,), fulfillments=(fulfillment(),))),
            AFTER_DUE,
            "fulfilled",
            id="fulfilled",
        ),
        pytest.param(
            view(store=store_order(line_items=(VENDOR_OPEN,))),
            AFTER_DUE,
            "third_party_vendor",
            id="third_party",
        ),
        pytest.param(
            view(store=store_order(financial_status="pending")),
            AFTER_DUE,
            "awaiting_payment",
            id="awaiting_payment",
        ),
        pytest.param(view(warehouse=SHIPPED_3PL), AFTER_DUE, "sync_delay", id="sync_delay"),
        pytest.param(view(store=store_order(on_hold=True)), AFTER_DUE, "on_hold", id="on_hold"),
        pytest.param(view(), AFTER_DUE, "overdue", id="overdue"),
        pytest.param(view(), BEFORE_DUE, "pending", id="pending"),
        pytest.param(view(store=store_order(on_hold=None)), AFTER_DUE, "overdue", id="on_hold-unknown"),
        pytest.param(view(store=store_order(on_hold=False)), AFTER_DUE, "overdue", id="on_hold-false"),
        pytest.param(
            view(store=store_order(financial_status="partially_paid")),
            AFTER_DUE,
            "overdue",
            id="partially_paid",
        ),
        pytest.param(
            view(store=store_order(financial_status="authorized")), AFTER_DUE, "overdue", id="authorized"
        ),
        # precedence between adjacent rules
        pytest.param(
            view(store=store_order(cancelled_at=CANCELLED_AT, financial_status="refunded")),
            AFTER_DUE,
            "cancelled",
            id="cancelled-beats-refunded",
        ),
        pytest.param(
            view(
                store=store_order(
                    cancelled_at=CANCELLED_AT, line_items=(OWN_DONE,), fulfillments=(fulfillment(),)
                )
            ),
            AFTER_DUE,
            "cancelled",
            id="cancelled-beats-fulfilled",
        ),
        pytest.param(
            view(store=store_order(financial_status="refunded"), warehouse=SHIPPED_3PL),
            AFTER_DUE,
            "refunded",
            id="refunded-beats-3pl-shipped",
        ),
        pytest.param(
            view(store=store_order(financial_status="refunded", line_items=(OWN_DONE,))),
            AFTER_DUE,
            "refunded",
            id="refunded-beats-fulfilled",
        ),
        pytest.param(
            view(store=store_order(line_items=(OWN_DONE, VENDOR_DONE))),
            AFTER_DUE,
            "fulfilled",
            id="fulfilled-beats-third_party",
        ),
        pytest.param(
            view(store=store_order(line_items=(OWN_DONE, VENDOR_OPEN))),
            AFTER_DUE,
            "third_party_vendor",
            id="third_party-when-vendor-open",
        ),
        pytest.param(
            view(store=store_order(line_items=(VENDOR_OPEN,), financial_status="pending")),
            AFTER_DUE,
            "third_party_vendor",
            id="third_party-beats-awaiting_payment",
        ),
        pytest.param(
            view(store=store_order(financial_status="pending"), warehouse=SHIPPED_3PL),
            AFTER_DUE,
            "awaiting_payment",
            id="awaiting_payment-beats-sync_delay",
        ),
        pytest.param(
            view(store=store_order(on_hold=True), warehouse=SHIPPED_3PL),
            AFTER_DUE,
            "sync_delay",
            id="sync_delay-beats-on_hold",
        ),
        pytest.param(view(store=store_order(on_hold=True)), AFTER_DUE, "on_hold", id="on_hold-beats-overdue"),
        pytest.param(view(), at("2026-07-02T23:59:59-04:00"), "pending", id="pending-until-end-of-due-day"),
        pytest.param(view(), at("2026-07-03T00:00:00-04:00"), "overdue", id="overdue-from-next-day"),
        pytest.param(
            view(store=store_order(shipping_method="Express")),
            at("2026-07-02T00:00:00-04:00"),
            "overdue",
            id="express-overdue-a-day-earlier",
        ),
        # mixed vendor orders: own lines decide the deadline
        pytest.param(
            view(store=store_order(line_items=(line_item(), VENDOR_OPEN))),
            AFTER_DUE,
            "overdue",
            id="mixed-overdue",
        ),
        pytest.param(
            view(store=store_order(line_items=(line_item(), VENDOR_OPEN))),
            BEFORE_DUE,
            "pending",
            id="mixed-pending",
        ),
        pytest.param(
            view(store=store_order(line_items=(line_item(), VENDOR_DONE))),
            AFTER_DUE,
            "overdue",
            id="mixed-vendor-done",
        ),
        # partial refunds
        pytest.param(
            view(
                store=store_order(
                    financial_status="partially_refunded",
                    line_items=(line_item(fulfillable_quantity=0), line_item(id=LINE_ID + 1, sku="TEE-M")),
                    refunds=(refund(),),
                )
            ),
            AFTER_DUE,
            "overdue",
            id="partial-refund-rest-open",
        ),
        pytest.param(
            view(
                store=store_order(
                    financial_status="partially_refunded",
                    line_items=(
                        line_item(fulfillable_quantity=0),
                        line_item(id=LINE_ID + 1, fulfillable_quantity=0),
                    ),
                    refunds=(refund(),),
                    fulfillments=(fulfillment(line_items=(LineQuantity(LINE_ID + 1, 1),)),),
                )
            ),
            AFTER_DUE,
            "fulfilled",
            id="partial-refund-rest-shipped",
        ),
    ],
)
def test_category(order_view: OrderView, as_of, category: str) -> None:
    assert _category(order_view, as_of) == category


# --- 3PL shipped: at least one shipment, every non-Cancelled one Completed ---------------------


@pytest.mark.parametrize(
    ("statuses", "category"),
    [
        (("Completed",), "sync_delay"),
        (("Completed", "Completed"), "sync_delay"),
        (("Completed", "Cancelled"), "sync_delay"),
        (("Cancelled", "Completed"), "sync_delay"),
        (("Completed", "Processing"), "overdue"),
        (("Completed", "Exception"), "overdue"),
        (("Processing",), "overdue"),
        (("OnHold",), "overdue"),
        # Every shipment cancelled: nothing left the warehouse, so not shipped (see the report).
        (("Cancelled",), "overdue"),
        (("Cancelled", "Cancelled"), "overdue"),
        ((), "overdue"),
    ],
)
def test_3pl_shipped_rule(statuses: tuple[str, ...], category: str) -> None:
    shipments = tuple(shipment(id=900 + n, status=status) for n, status in enumerate(statuses))
    assert _category(view(warehouse=warehouse_order(shipments=shipments))) == category


def test_replacement_shipments_do_not_make_the_order_shipped() -> None:
    shipped_replacement = replacement_order(shipments=(shipment(),))
    assert _category(view(replacements=(shipped_replacement,))) == "overdue"
    processing = warehouse_order(shipments=(shipment(status="Processing"),))
    assert _category(view(warehouse=processing, replacements=(shipped_replacement,))) == "overdue"


# --- open quantities, including older payloads without fulfillable_quantity --------------------


@pytest.mark.parametrize(
    ("quantity", "fulfillments", "refunds", "expected_open"),
    [
        (2, (), (), 2),
        (2, (("success", 2),), (), 0),
        (2, (("success", 1),), (), 1),
        (3, (("success", 1), ("success", 1)), (), 1),
        (1, (("failure", 1),), (), 1),
        (1, (("error", 1),), (), 1),
        (1, (("cancelled", 1),), (), 1),
        (1, (("pending", 1),), (), 1),
        (2, (("cancelled", 2), ("success", 1)), (), 1),
        (2, (("success", 1),), (1,), 0),
        (2, (), (1,), 1),
        (1, (), (1,), 0),
        (1, (("success", 1),), (1,), 0),  # never below zero
    ],
)
def test_open_quantity_without_fulfillable_quantity(
    quantity: int, fulfillments: tuple, refunds: tuple, expected_open: int
) -> None:
    line = line_item(quantity=quantity, fulfillable_quantity=None)
    order = store_order(
        line_items=(line,),
        fulfillments=tuple(
            fulfillment(id=n, status=status, line_items=(shipped(line, q),))
            for n, (status, q) in enumerate(fulfillments)
        ),
        refunds=tuple(refund(id=n, line_items=(shipped(line, q),)) for n, q in enumerate(refunds)),
    )
    assert open_quantity(order, line) == expected_open


def test_fulfillable_quantity_wins_over_derived_quantity() -> None:
    line = line_item(quantity=3, fulfillable_quantity=2)
    order = store_order(line_items=(line,), fulfillments=(fulfillment(line_items=(shipped(line, 3),)),))
    assert open_quantity(order, line) == 2


def test_own_and_vendor_open_quantities() -> None:
    order = store_order(
        line_items=(
            line_item(quantity=2, fulfillable_quantity=2),
            line_item(id=LINE_ID + 1, sku="TEE-M", quantity=1, fulfillable_quantity=None),
            vendor_line_item(quantity=3, fulfillable_quantity=3),
            vendor_line_item(id=LINE_ID + 600, vendor="Someone Else", quantity=4, fulfillable_quantity=4),
        )
    )
    assert own_open_quantity(order, policy()) == 2 + 1 + 4
    assert vendor_open_quantity(order, policy()) == 3


@pytest.mark.parametrize(
    ("status", "category"),
    [("success", "fulfilled"), ("failure", "overdue"), ("error", "overdue"), ("cancelled", "overdue")],
)
def test_older_payload_category_by_fulfillment_status(status: str, category: str) -> None:
    line = line_item(fulfillable_quantity=None)
    order = store_order(line_items=(line,), fulfillments=(fulfillment(status=status),))
    assert _category(view(store=order)) == category


def test_older_payload_refunded_line_is_not_open() -> None:
    own = line_item(quantity=2, fulfillable_quantity=None)
    order = store_order(
        financial_status="partially_refunded",
        line_items=(own,),
        fulfillments=(fulfillment(line_items=(shipped(own, 1),)),),
        refunds=(refund(line_items=(shipped(own, 1),)),),
    )
    assert _category(view(store=order)) == "fulfilled"


# --- informational view ------------------------------------------------------------------------


SYNC_DELAY = {"warehouse": SHIPPED_3PL}


@pytest.mark.parametrize(
    ("store_overrides", "view_overrides", "as_of", "informational"),
    [
        ({"fulfillment_status": None}, SYNC_DELAY, AFTER_DUE, True),
        ({"fulfillment_status": "unfulfilled"}, SYNC_DELAY, AFTER_DUE, True),
        ({"fulfillment_status": "partial"}, SYNC_DELAY, AFTER_DUE, True),
        ({"fulfillment_status": "fulfilled"}, SYNC_DELAY, AFTER_DUE, False),
        ({"fulfillment_status": "restocked"}, SYNC_DELAY, AFTER_DUE, False),
        ({}, SYNC_DELAY, BEFORE_DUE, False),
        ({}, SYNC_DELAY, at("2026-07-02T23:59:59-04:00"), False),
        ({}, SYNC_DELAY, at("2026-07-03T00:00:00-04:00"), True),
        # the standard deadline decides, not the Express override (due Jul 1)
        ({"shipping_method": "Express"}, SYNC_DELAY, BEFORE_DUE, False),
        ({"shipping_method": "Express"}, SYNC_DELAY, AFTER_DUE, True),
        # every informational category
        ({"cancelled_at": CANCELLED_AT}, {}, AFTER_DUE, True),
        ({"cancelled_at": CANCELLED_AT, "fulfillment_status": "fulfilled"}, {}, AFTER_DUE, False),
        ({"financial_status": "refunded"}, {}, AFTER_DUE, True),
        ({"financial_status": "pending"}, {}, AFTER_DUE, True),
        ({"on_hold": True}, {}, AFTER_DUE, True),
        ({"line_items": (VENDOR_OPEN,)}, {}, AFTER_DUE, True),
        ({"line_items": (OWN_DONE, VENDOR_OPEN), "fulfillment_status": "partial"}, {}, AFTER_DUE, True),
        # not informational categories
        ({}, {}, AFTER_DUE, False),  # overdue: in the queue instead
        ({}, {}, BEFORE_DUE, False),  # pending
        ({"line_items": (OWN_DONE,)}, {}, AFTER_DUE, False),  # fulfilled, though the store says null
    ],
)
def test_informational_rule(store_overrides: dict, view_overrides: dict, as_of, informational: bool) -> None:
    order_view = view(store=store_order(**store_overrides), **view_overrides)
    assert is_informational_at(classify(order_view, policy()), as_of, policy()) is informational


@pytest.mark.parametrize(
    ("lines", "as_of", "vendor_late"),
    [
        ((VENDOR_OPEN,), at("2026-07-08T23:59:59-04:00"), False),
        ((VENDOR_OPEN,), at("2026-07-09T00:00:00-04:00"), True),
        ((line_item(), VENDOR_OPEN), at("2026-07-09T00:00:00-04:00"), True),
        ((line_item(),), at("2026-07-09T00:00:00-04:00"), None),
    ],
)
def test_vendor_late(lines: tuple, as_of, vendor_late: bool | None) -> None:
    classification = classify(view(store=store_order(line_items=lines)), policy())
    assert vendor_late_at(classification, as_of, policy()) is vendor_late


def test_reason_names_what_decided() -> None:
    classification = classify(view(warehouse=SHIPPED_3PL), policy())
    assert classification.base_category == "sync_delay"
    assert "90003001" in classification.reason
    assert "1 unit(s) open" in classification.reason


def test_classification_stores_dates() -> None:
    classification = classify(view(store=store_order(line_items=(line_item(), VENDOR_OPEN))), policy())
    assert (classification.own_open, classification.vendor_open) == (1, 1)
    assert classification.due_day == date(2026, 7, 2)
    assert classification.vendor_due_day == date(2026, 7, 8)
    assert classification.looks_unshipped is True


# --- the worked example -----------------------------------------------------------------------

SAMPLE = load_sample()


@pytest.mark.parametrize(("name", "category"), sorted(SAMPLE.expected["categories"].items()))
def test_sample_categories(name: str, category: str) -> None:
    assert category_at(SAMPLE.classification(name), SAMPLE.as_of, SAMPLE.policy) == category


def test_sample_informational_view() -> None:
    rows = []
    for name in sorted(SAMPLE.views):
        classification = SAMPLE.classification(name)
        if is_informational_at(classification, SAMPLE.as_of, SAMPLE.policy):
            row: dict[str, object] = {"category": classification.base_category, "order": name}
            if classification.base_category == "third_party_vendor":
                row["vendor_late"] = vendor_late_at(classification, SAMPLE.as_of, SAMPLE.policy)
            rows.append(row)
    assert rows == SAMPLE.expected["informational"]


def test_sample_overdue_queue() -> None:
    overdue = [
        (classification.due_day, name)
        for name in SAMPLE.views
        if category_at(classification := SAMPLE.classification(name), SAMPLE.as_of, SAMPLE.policy)
        == "overdue"
    ]
    queue = [
        {"due_at": SAMPLE.policy.due_at(due_day).isoformat(), "order": name}
        for due_day, name in sorted(overdue)
    ]
    assert queue == SAMPLE.expected["queue"]
