"""SPEC §5 as sharpened: the items to resend (fulfillments without line items, refunded units, the 3PL's
products by SKU or reference id), `inventory.available` on them, and `order.shipped` info/pass."""

from __future__ import annotations

import pytest

from checks.model import LineQuantity, OrderView, WarehouseProduct
from checks.results import Level
from checks.validations import CheckContext, default_resend_items, run_checks
from tests.checks.factories import (
    LINE_ID,
    fulfillment,
    inventory,
    inventory_item,
    line_item,
    policy,
    refund,
    shipment,
    store_order,
    vendor_line_item,
    view,
    warehouse_order,
)

MUGS = "MUG-BLUE"


def _items(order_view: OrderView) -> list[tuple[int, int]]:
    return [(i.line_item_id, i.quantity) for i in default_resend_items(order_view, policy())]


@pytest.mark.parametrize(
    ("order_view", "expected"),
    [
        pytest.param(
            view(
                store=store_order(
                    line_items=(line_item(quantity=3, fulfillable_quantity=0),),
                    fulfillments=(fulfillment(line_items=()),),
                )
            ),
            [(LINE_ID, 3)],
            id="success-without-line-items-resends-what-the-store-no-longer-owes",
        ),
        pytest.param(
            view(
                store=store_order(
                    line_items=(line_item(quantity=3, fulfillable_quantity=0),),
                    fulfillments=(fulfillment(line_items=()),),
                    refunds=(refund(line_items=(LineQuantity(LINE_ID, 1),)),),
                )
            ),
            [(LINE_ID, 2)],
            id="without-line-items-less-the-refunded",
        ),
        pytest.param(
            view(
                store=store_order(
                    line_items=(line_item(quantity=2, fulfillable_quantity=0),),
                    fulfillments=(fulfillment(line_items=(LineQuantity(LINE_ID, 2),)),),
                    refunds=(refund(line_items=(LineQuantity(LINE_ID, 2),)),),
                )
            ),
            [],
            id="refunded-units-are-never-resent",
        ),
        pytest.param(
            view(
                store=store_order(
                    line_items=(line_item(quantity=3, fulfillable_quantity=0),),
                    fulfillments=(fulfillment(line_items=(LineQuantity(LINE_ID, 3),)),),
                    refunds=(refund(line_items=(LineQuantity(LINE_ID, 1),)),),
                )
            ),
            [(LINE_ID, 2)],
            id="listed-quantities-less-the-refunded",
        ),
        pytest.param(
            view(
                store=store_order(line_items=(line_item(quantity=2, fulfillable_quantity=2),)),
                warehouse=warehouse_order(
                    products=(WarehouseProduct(None, 2, reference_id=MUGS),), shipments=(shipment(),)
                ),
            ),
            [(LINE_ID, 2)],
            id="3pl-products-by-reference-id-when-no-sku",
        ),
        pytest.param(
            view(
                store=store_order(
                    line_items=(line_item(quantity=2, fulfillable_quantity=2),),
                    refunds=(refund(line_items=(LineQuantity(LINE_ID, 1),)),),
                ),
                warehouse=warehouse_order(products=(WarehouseProduct(MUGS, 2),), shipments=(shipment(),)),
            ),
            [(LINE_ID, 1)],
            id="3pl-products-less-the-refunded",
        ),
        pytest.param(
            view(
                store=store_order(line_items=(line_item(quantity=2, fulfillable_quantity=2),)),
                warehouse=warehouse_order(
                    products=(WarehouseProduct(MUGS, 2),), shipments=(shipment(status="Processing"),)
                ),
            ),
            [],
            id="no-completed-3pl-shipment-nothing-to-resend",
        ),
    ],
)
def test_items_to_resend(order_view: OrderView, expected: list[tuple[int, int]]) -> None:
    assert _items(order_view) == expected


def _result(order_view: OrderView, code: str, stock: int = 10) -> tuple[Level, str]:
    context = CheckContext(
        order_name=order_view.store.name,
        view=order_view,
        policy=policy(),
        inventory=inventory(inventory_item(sku=MUGS, total_fulfillable_quantity=stock)),
    )
    (result,) = [r for r in run_checks(context) if r.code == code]
    return result.level, result.message


def test_a_fulfillment_without_line_items_needs_stock_for_what_shipped() -> None:
    shipped_without_lines = view(
        store=store_order(
            line_items=(line_item(quantity=3, fulfillable_quantity=0),),
            fulfillments=(fulfillment(line_items=()),),
        )
    )
    assert _result(shipped_without_lines, "order.shipped")[0] is Level.PASS
    level, message = _result(shipped_without_lines, "inventory.available", stock=2)
    assert level is Level.BLOCKED and f"{MUGS}: need 3, the 3PL can fulfil 2" in message


def test_partly_shipped_while_a_third_party_line_is_open_is_info() -> None:
    order_view = view(
        store=store_order(
            line_items=(line_item(fulfillable_quantity=0), vendor_line_item(fulfillable_quantity=1)),
            fulfillments=(fulfillment(),),
        )
    )
    level, message = _result(order_view, "order.shipped")
    assert level is Level.INFO and "Partly shipped" in message and "Nordic Knitworks" in message


def test_sync_delay_is_shipped_and_the_message_says_the_store_lags() -> None:
    order_view = view(warehouse=warehouse_order(shipments=(shipment(),)))  # 3PL shipped, store still open
    level, message = _result(order_view, "order.shipped")
    assert level is Level.PASS and "the store lags" in message


def test_everything_shipped_is_pass() -> None:
    order_view = view(
        store=store_order(line_items=(line_item(fulfillable_quantity=0),), fulfillments=(fulfillment(),))
    )
    level, message = _result(order_view, "order.shipped")
    assert level is Level.PASS and message.startswith("Shipped:") and "lags" not in message
