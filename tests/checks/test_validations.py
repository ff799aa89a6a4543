"""SPEC §5: the validation checks before a replacement, the registry that runs them, resend items.

Over 400 lines because it follows the §5 table row by row, each check on the data that passes, informs
and blocks it; the resend edge cases are test_validations_resend.py."""

from __future__ import annotations

import re
from typing import Any

import pytest

from checks.model import LineQuantity, OrderView, WarehouseProduct
from checks.results import CheckResult, Level, is_actionable
from checks.validations import (
    CHECK_CODES,
    CheckContext,
    CheckRegistry,
    ResendItem,
    blocked,
    default_resend_items,
    info,
    passed,
    run_checks,
    validate_items,
)
from tests.checks.factories import (
    LINE_ID,
    at,
    fulfillment,
    inventory,
    inventory_item,
    line_item,
    policy,
    refund,
    replacement_order,
    shipment,
    shipped,
    shipped_view,
    store_order,
    vendor_line_item,
    view,
    warehouse_order,
)
from tests.checks.sample_records import load_sample

SPEC_CODES = (
    "order.exists",
    "order.cancelled",
    "order.refunded",
    "order.shipped",
    "replacement.exists",
    "order.third_party",
    "inventory.available",
)
STOCK = inventory(inventory_item(sku="MUG-BLUE", total_fulfillable_quantity=10), inventory_item(sku="TEE-M"))
TEE = line_item(id=LINE_ID + 1, sku="TEE-M", title="Harbor Tee", price="32.00")
MUG_ITEM = ResendItem(LINE_ID, "MUG-BLUE", "Ceramic Mug", 1)
THREE_MUGS = shipped_view(
    line_items=(line_item(quantity=3, fulfillable_quantity=0),),
    fulfillments=(fulfillment(line_items=(LineQuantity(LINE_ID, 3),)),),
)


def ctx(order_view: OrderView | None, **overrides: Any) -> CheckContext:
    values: dict[str, Any] = {
        "order_name": "#3001",
        "view": order_view,
        "policy": policy(),
        "inventory": STOCK,
    }
    values.update(overrides)
    return CheckContext(**values)


def result_of(code: str, context: CheckContext) -> CheckResult:
    (result,) = [r for r in run_checks(context) if r.code == code]
    return result


# --- the registry ------------------------------------------------------------------------------


def test_registry_runs_the_spec_table_in_order() -> None:
    assert CHECK_CODES == SPEC_CODES
    assert tuple(r.code for r in run_checks(ctx(shipped_view()))) == SPEC_CODES


@pytest.mark.parametrize(
    "order_view",
    [view(), shipped_view(), view(store=store_order(cancelled_at=at("2026-07-01T11:00:00-04:00")))],
)
def test_exactly_one_result_per_code(order_view: OrderView) -> None:
    results = run_checks(ctx(order_view))
    assert sorted(r.code for r in results) == sorted(SPEC_CODES)
    assert all(isinstance(r.level, Level) for r in results)


def test_order_exists_blocked_stops_every_other_check() -> None:
    results = run_checks(ctx(None, order_name="#9999"))
    assert results == (
        CheckResult(
            "order.exists",
            Level.BLOCKED,
            "Order #9999 is not in the store data.",
            "Check the order number, or sync the order from the store.",
        ),
    )
    assert not is_actionable(results)


@pytest.mark.parametrize(
    "returned",
    ["pass", None, Level.PASS, ("order.x", "pass"), [passed("ok")], CheckResult("", "pass", "a str level")],  # type: ignore[arg-type]
)
def test_runner_refuses_a_check_returning_the_wrong_type(returned: object) -> None:
    registry = CheckRegistry()

    @registry.register("demo.first")
    def first(context: CheckContext) -> CheckResult:
        return passed("fine")

    @registry.register("demo.wrong")
    def wrong_type_check(context: CheckContext) -> CheckResult:
        return returned  # type: ignore[return-value]

    with pytest.raises(TypeError) as raised:
        registry.run(ctx(view()))
    assert "demo.wrong" in str(raised.value)
    assert "wrong_type_check" in str(raised.value)


def test_runner_stamps_codes_keeps_order_and_refuses_a_foreign_code() -> None:
    registry = CheckRegistry()
    registry.register("demo.b")(lambda context: info("second registered, listed first", hint="a hint"))
    registry.register("demo.a")(lambda context: blocked("not a gate: the run goes on"))
    registry.register("demo.c")(lambda context: passed("last"))
    assert registry.run(ctx(view())) == (
        CheckResult("demo.b", Level.INFO, "second registered, listed first", "a hint"),
        CheckResult("demo.a", Level.BLOCKED, "not a gate: the run goes on"),
        CheckResult("demo.c", Level.PASS, "last"),
    )
    registry.register("demo.d")(lambda context: CheckResult("demo.other", Level.PASS, "wrong code"))
    with pytest.raises(ValueError, match=re.escape("'demo.d' returned a result for 'demo.other'")):
        registry.run(ctx(view()))


@pytest.mark.parametrize(
    ("gate_result", "calls_made"),
    [(blocked("stop"), ["gate"]), (info("go on"), ["gate", "after"]), (passed("go on"), ["gate", "after"])],
)
def test_gate_check_stops_the_run_only_when_blocked(gate_result: CheckResult, calls_made: list[str]) -> None:
    registry = CheckRegistry()
    calls: list[str] = []

    @registry.register("demo.gate", gate=True)
    def gate(context: CheckContext) -> CheckResult:
        calls.append("gate")
        return gate_result

    @registry.register("demo.after")
    def after(context: CheckContext) -> CheckResult:
        calls.append("after")
        return passed("ran")

    assert [r.code for r in registry.run(ctx(view()))] == ["demo." + c for c in calls_made]
    assert calls == calls_made


def test_registry_refuses_a_duplicate_code() -> None:
    registry = CheckRegistry()
    registry.register("demo.same")(lambda context: passed("one"))
    with pytest.raises(ValueError, match="already registered"):
        registry.register("demo.same")(lambda context: passed("two"))


def test_check_context_helpers() -> None:
    context = ctx(view())
    assert context.local(at("2026-07-01T14:00:00Z")).isoformat() == "2026-07-01T10:00:00-04:00"
    assert context.when(at("2026-11-02T19:00:00Z")) == "Nov 02, 2026 14:00 EST"
    with pytest.raises(LookupError, match="#9999"):
        _ = ctx(None, order_name="#9999").order
    assert ctx(None).resend_items == ()


# --- each check, each level ----------------------------------------------------------------------

CANCELLED_AT = at("2026-07-01T15:30:00Z")  # 11:30 in New York


@pytest.mark.parametrize(
    ("context", "code", "level", "words"),
    [
        # order.exists
        pytest.param(
            ctx(view()), "order.exists", Level.PASS, ["#3001", "Jul 01, 2026 10:00 EDT"], id="exists-pass"
        ),
        # order.cancelled
        pytest.param(ctx(view()), "order.cancelled", Level.PASS, ["Not cancelled"], id="cancelled-pass"),
        pytest.param(
            ctx(view(store=store_order(cancelled_at=CANCELLED_AT, cancel_reason="fraud"))),
            "order.cancelled",
            Level.BLOCKED,
            ["Cancelled", "Jul 01, 2026 11:30 EDT", "fraud"],
            id="cancelled-blocked",
        ),
        pytest.param(
            ctx(view(store=store_order(cancelled_at=CANCELLED_AT))),
            "order.cancelled",
            Level.BLOCKED,
            ["Cancelled in the store on Jul 01, 2026 11:30 EDT."],
            id="cancelled-without-reason",
        ),
        # order.refunded
        pytest.param(
            ctx(shipped_view()), "order.refunded", Level.PASS, ["Not refunded", "paid"], id="refunded-pass"
        ),
        pytest.param(
            ctx(shipped_view(financial_status="refunded")),
            "order.refunded",
            Level.BLOCKED,
            ["refunded"],
            id="refunded",
        ),
        pytest.param(
            ctx(shipped_view(financial_status="voided")),
            "order.refunded",
            Level.BLOCKED,
            ["voided"],
            id="voided",
        ),
        pytest.param(
            ctx(
                shipped_view(
                    financial_status="partially_refunded",
                    refunds=(refund(line_items=(LineQuantity(LINE_ID, 1),)),),
                )
            ),
            "order.refunded",
            Level.INFO,
            ["Partly refunded", "1 × Ceramic Mug (MUG-BLUE)"],
            id="partially-refunded",
        ),
        pytest.param(
            ctx(shipped_view(financial_status="partially_refunded")),
            "order.refunded",
            Level.INFO,
            ["amount only"],
            id="partially-refunded-amount",
        ),
        pytest.param(
            ctx(view(store=store_order(financial_status="pending"))),
            "order.refunded",
            Level.PASS,
            ["pending"],
            id="pending-payment-is-not-refunded",
        ),
        # order.shipped
        pytest.param(
            ctx(view(warehouse=warehouse_order())),
            "order.shipped",
            Level.BLOCKED,
            ["Nothing has shipped", "3PL order 90003001", "Processing", "Jul 02, 2026 23:59 EDT"],
            id="nothing-shipped",
        ),
        pytest.param(
            ctx(view()),
            "order.shipped",
            Level.BLOCKED,
            ["the 3PL has no order for it"],
            id="nothing-shipped-no-3pl",
        ),
        pytest.param(
            ctx(
                view(
                    store=store_order(
                        fulfillments=(fulfillment(status="failure"), fulfillment(id=2, status="cancelled"))
                    )
                )
            ),
            "order.shipped",
            Level.BLOCKED,
            ["no successful fulfillment"],
            id="failed-fulfillments-did-not-ship",
        ),
        pytest.param(
            ctx(view(replacements=(replacement_order(shipments=(shipment(),)),))),
            "order.shipped",
            Level.BLOCKED,
            ["Nothing has shipped"],
            id="replacement-shipment-does-not-count",
        ),
        pytest.param(
            ctx(
                view(
                    store=store_order(
                        line_items=(line_item(fulfillable_quantity=0),), fulfillments=(fulfillment(),)
                    )
                )
            ),
            "order.shipped",
            Level.PASS,
            ["store fulfillment 5503001", "Jul 02, 2026 12:00 EDT", "1ZHG00000000003001"],
            id="store-shipped",
        ),
        pytest.param(
            ctx(view(warehouse=warehouse_order(status="Fulfilled", shipments=(shipment(),)))),
            "order.shipped",
            Level.PASS,
            ["3PL order 90003001 shipment 900003001 completed on Jul 02, 2026 11:00 EDT"],
            id="3pl-shipped-store-not-synced",
        ),
        pytest.param(
            ctx(
                view(
                    store=store_order(
                        line_items=(line_item(fulfillable_quantity=0), TEE),
                        fulfillments=(fulfillment(),),
                        fulfillment_status="partial",
                    )
                )
            ),
            "order.shipped",
            Level.INFO,
            ["Partly shipped", "1 of 1 × Harbor Tee (TEE-M)"],
            id="partly-shipped-lines",
        ),
        pytest.param(
            ctx(
                view(
                    store=store_order(
                        line_items=(line_item(quantity=3, fulfillable_quantity=2),),
                        fulfillments=(fulfillment(),),
                    )
                )
            ),
            "order.shipped",
            Level.INFO,
            ["2 of 3 × Ceramic Mug (MUG-BLUE)"],
            id="partly-shipped-quantity",
        ),
        pytest.param(
            ctx(
                view(
                    warehouse=warehouse_order(
                        shipments=(shipment(), shipment(id=2, status="Processing", tracking_number=None))
                    )
                )
            ),
            "order.shipped",
            Level.INFO,
            ["Partly shipped", "shipment 900003001"],
            id="partly-shipped-3pl",
        ),
        pytest.param(
            ctx(
                view(
                    store=store_order(
                        line_items=(line_item(fulfillable_quantity=0), vendor_line_item()),
                        fulfillments=(fulfillment(),),
                    )
                )
            ),
            "order.shipped",
            Level.INFO,
            ["Partly shipped", "from Nordic Knitworks"],
            id="vendor-lines-open-make-it-partial",
        ),
        # replacement.exists
        pytest.param(
            ctx(shipped_view()), "replacement.exists", Level.PASS, ["No replacement"], id="replacement-pass"
        ),
        pytest.param(
            ctx(shipped_view(), console_replacements=1),
            "replacement.exists",
            Level.BLOCKED,
            ["console already recorded 1 replacement"],
            id="replacement-by-console",
        ),
        pytest.param(
            ctx(
                OrderView(
                    store=shipped_view().store,
                    warehouse=shipped_view().warehouse,
                    replacements=(replacement_order(2, status="Completed"),),
                )
            ),
            "replacement.exists",
            Level.BLOCKED,
            ["3PL order 90013003", "5410000003001-R2", "Completed"],
            id="replacement-at-3pl",
        ),
        # order.third_party
        pytest.param(ctx(view()), "order.third_party", Level.PASS, ["own 3PL"], id="third-party-pass"),
        pytest.param(
            ctx(view(store=store_order(line_items=(line_item(), vendor_line_item())))),
            "order.third_party",
            Level.INFO,
            ["Wool Scarf (SCARF-GRY) from Nordic Knitworks"],
            id="third-party-some",
        ),
        pytest.param(
            ctx(view(store=store_order(line_items=(vendor_line_item(), vendor_line_item(id=9, sku="HAT"))))),
            "order.third_party",
            Level.BLOCKED,
            ["Every item", "Nordic Knitworks", "vendor must replace"],
            id="third-party-all",
        ),
        pytest.param(
            ctx(view(store=store_order(line_items=()))),
            "order.third_party",
            Level.PASS,
            [],
            id="third-party-no-lines",
        ),
        # inventory.available
        pytest.param(
            ctx(view(), inventory={}),
            "inventory.available",
            Level.PASS,
            ["Nothing to resend", "no stock is needed"],
            id="inventory-nothing-to-resend",
        ),
        pytest.param(
            ctx(shipped_view()),
            "inventory.available",
            Level.PASS,
            ["MUG-BLUE need 1, 10 fulfillable"],
            id="inventory-in-stock",
        ),
        pytest.param(
            ctx(shipped_view(), inventory=inventory(inventory_item(total_fulfillable_quantity=1))),
            "inventory.available",
            Level.PASS,
            ["MUG-BLUE need 1, 1 fulfillable"],
            id="inventory-exactly-enough",
        ),
        pytest.param(
            ctx(shipped_view(), inventory=inventory(inventory_item(total_fulfillable_quantity=0))),
            "inventory.available",
            Level.BLOCKED,
            ["MUG-BLUE: need 1, the 3PL can fulfil 0"],
            id="inventory-short",
        ),
        pytest.param(
            ctx(shipped_view(), inventory={}),
            "inventory.available",
            Level.BLOCKED,
            ["MUG-BLUE is unknown to the 3PL"],
            id="inventory-unknown-sku",
        ),
        pytest.param(
            ctx(
                view(
                    store=store_order(
                        line_items=(line_item(sku=None, fulfillable_quantity=0),),
                        fulfillments=(fulfillment(),),
                    )
                )
            ),
            "inventory.available",
            Level.BLOCKED,
            ["Ceramic Mug", "has no SKU"],
            id="inventory-line-without-sku",
        ),
        pytest.param(
            ctx(
                view(
                    store=store_order(
                        line_items=(
                            line_item(fulfillable_quantity=0),
                            line_item(id=LINE_ID + 1, title="Ceramic Mug (gift)", fulfillable_quantity=0),
                        ),
                        fulfillments=(
                            fulfillment(line_items=(LineQuantity(LINE_ID, 1), LineQuantity(LINE_ID + 1, 1))),
                        ),
                    )
                ),
                inventory=inventory(inventory_item(total_fulfillable_quantity=1)),
            ),
            "inventory.available",
            Level.BLOCKED,
            ["MUG-BLUE: need 2, the 3PL can fulfil 1"],
            id="inventory-summed-per-sku",
        ),
        pytest.param(
            ctx(THREE_MUGS, inventory=inventory(inventory_item(total_fulfillable_quantity=1))),
            "inventory.available",
            Level.BLOCKED,
            ["MUG-BLUE: need 3, the 3PL can fulfil 1"],
            id="inventory-default-items-short",
        ),
        pytest.param(
            ctx(
                THREE_MUGS,
                inventory=inventory(inventory_item(total_fulfillable_quantity=1)),
                items=(ResendItem(LINE_ID, "MUG-BLUE", "Ceramic Mug", 1),),
            ),
            "inventory.available",
            Level.PASS,
            ["MUG-BLUE need 1, 1 fulfillable"],
            id="inventory-fewer-items-picked",
        ),
        pytest.param(
            ctx(shipped_view(), items=(ResendItem(LINE_ID, "MUG-BLUE", "Ceramic Mug", 2),)),
            "inventory.available",
            Level.BLOCKED,
            ["cannot be resent", "2 requested but 1 of 1 shipped"],
            id="inventory-invalid-pick",
        ),
    ],
)
def test_check_levels(context: CheckContext, code: str, level: Level, words: list[str]) -> None:
    result = result_of(code, context)
    assert result.level is level, result.message
    for word in words:
        assert word in result.message


def test_blocked_checks_make_the_action_impossible() -> None:
    assert is_actionable(run_checks(ctx(shipped_view())))
    assert not is_actionable(run_checks(ctx(shipped_view(), console_replacements=1)))
    assert not is_actionable(run_checks(ctx(view())))


def test_info_results_keep_the_action_possible() -> None:
    partly = view(
        store=store_order(
            financial_status="partially_refunded",
            line_items=(line_item(fulfillable_quantity=0), TEE, vendor_line_item()),
            fulfillments=(fulfillment(),),
        )
    )
    levels = {r.code: r.level for r in run_checks(ctx(partly))}
    assert levels == {
        "order.exists": Level.PASS,
        "order.cancelled": Level.PASS,
        "order.refunded": Level.INFO,
        "order.shipped": Level.INFO,
        "replacement.exists": Level.PASS,
        "order.third_party": Level.INFO,
        "inventory.available": Level.PASS,
    }
    assert is_actionable(run_checks(ctx(partly)))


def test_every_problem_is_named_in_one_inventory_result() -> None:
    order = store_order(
        line_items=(line_item(fulfillable_quantity=0), TEE, line_item(id=LINE_ID + 2, sku="CAP-NVY")),
        fulfillments=(
            fulfillment(
                line_items=(
                    LineQuantity(LINE_ID, 1),
                    LineQuantity(LINE_ID + 1, 1),
                    LineQuantity(LINE_ID + 2, 1),
                )
            ),
        ),
    )
    stock = inventory(inventory_item(total_fulfillable_quantity=0), inventory_item(sku="TEE-M"))
    message = result_of("inventory.available", ctx(view(store=order), inventory=stock)).message
    assert "MUG-BLUE: need 1, the 3PL can fulfil 0" in message
    assert "CAP-NVY is unknown to the 3PL inventory" in message
    assert "TEE-M" not in message


# --- the items to resend ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("order_view", "items"),
    [
        pytest.param(view(), (), id="nothing-shipped"),
        pytest.param(shipped_view(), (MUG_ITEM,), id="store-fulfillment"),
        pytest.param(
            view(
                store=store_order(
                    line_items=(line_item(quantity=3, fulfillable_quantity=1), TEE),
                    fulfillments=(
                        fulfillment(line_items=(LineQuantity(LINE_ID, 1),)),
                        fulfillment(id=2, line_items=(LineQuantity(LINE_ID, 1),)),
                        fulfillment(id=3, status="cancelled", line_items=(LineQuantity(LINE_ID + 1, 1),)),
                    ),
                )
            ),
            (ResendItem(LINE_ID, "MUG-BLUE", "Ceramic Mug", 2),),
            id="successful-fulfillments-only",
        ),
        pytest.param(
            view(
                store=store_order(
                    line_items=(line_item(fulfillable_quantity=0), vendor_line_item(fulfillable_quantity=0)),
                    fulfillments=(
                        fulfillment(line_items=(LineQuantity(LINE_ID, 1), LineQuantity(LINE_ID + 500, 1))),
                    ),
                )
            ),
            (MUG_ITEM,),
            id="vendor-lines-left-out",
        ),
        pytest.param(
            view(warehouse=warehouse_order(shipments=(shipment(),))),
            (MUG_ITEM,),
            id="3pl-completed-store-not-synced",
        ),
        pytest.param(
            view(
                store=store_order(line_items=(line_item(quantity=2, fulfillable_quantity=2), TEE)),
                warehouse=warehouse_order(
                    products=(WarehouseProduct("MUG-BLUE", 5), WarehouseProduct("OTHER", 1)),
                    shipments=(shipment(),),
                ),
            ),
            (ResendItem(LINE_ID, "MUG-BLUE", "Ceramic Mug", 2),),
            id="3pl-products-by-sku-capped",
        ),
        pytest.param(
            view(
                store=store_order(
                    line_items=(
                        line_item(quantity=2, fulfillable_quantity=2),
                        line_item(id=LINE_ID + 1, quantity=2, fulfillable_quantity=2, title="Mug again"),
                    )
                ),
                warehouse=warehouse_order(
                    products=(WarehouseProduct("MUG-BLUE", 3),), shipments=(shipment(),)
                ),
            ),
            (
                ResendItem(LINE_ID, "MUG-BLUE", "Ceramic Mug", 2),
                ResendItem(LINE_ID + 1, "MUG-BLUE", "Mug again", 1),
            ),
            id="3pl-products-shared-by-lines",
        ),
        pytest.param(
            view(
                store=store_order(
                    fulfillments=(fulfillment(line_items=(LineQuantity(LINE_ID + 500, 1),)),),
                    line_items=(line_item(), vendor_line_item(fulfillable_quantity=0)),
                ),
                warehouse=warehouse_order(shipments=(shipment(),)),
            ),
            (MUG_ITEM,),
            id="store-shipped-only-vendor-lines-3pl-shipped-ours",
        ),
        pytest.param(view(warehouse=warehouse_order()), (), id="3pl-not-completed"),
        pytest.param(
            view(replacements=(replacement_order(shipments=(shipment(),)),)),
            (),
            id="replacement-does-not-count",
        ),
        pytest.param(
            view(
                store=store_order(line_items=(line_item(sku=None),)),
                warehouse=warehouse_order(products=(WarehouseProduct(None, 1),), shipments=(shipment(),)),
            ),
            (),
            id="3pl-fallback-needs-a-sku",
        ),
    ],
)
def test_default_resend_items(order_view: OrderView, items: tuple[ResendItem, ...]) -> None:
    assert default_resend_items(order_view, policy()) == items
    assert ctx(order_view).resend_items == items


TWO_MUGS = shipped_view(
    line_items=(line_item(quantity=2, fulfillable_quantity=0), TEE, vendor_line_item(fulfillable_quantity=0)),
    fulfillments=(fulfillment(line_items=(shipped(line_item(quantity=2)), LineQuantity(LINE_ID + 500, 1))),),
)


@pytest.mark.parametrize(
    "items",
    [
        (ResendItem(LINE_ID, "MUG-BLUE", "Ceramic Mug", 2),),
        (ResendItem(LINE_ID, "MUG-BLUE", "Ceramic Mug", 1),),
        (ResendItem(LINE_ID, "MUG-BLUE", "a title typed by hand", 1),),
    ],
)
def test_validate_items_accepts(items: tuple[ResendItem, ...]) -> None:
    assert validate_items(TWO_MUGS, policy(), items) == items


@pytest.mark.parametrize(
    ("items", "message"),
    [
        ((), "Choose at least one item of #3001"),
        ((ResendItem(999, "MUG-BLUE", "Ceramic Mug", 1),), "is not a line item of #3001"),
        ((ResendItem(LINE_ID + 500, "SCARF-GRY", "Wool Scarf", 1),), "third-party vendor Nordic Knitworks"),
        ((ResendItem(LINE_ID, "MUG-BLUE", "Ceramic Mug", 0),), "at least 1 (got 0)"),
        ((ResendItem(LINE_ID, "MUG-BLUE", "Ceramic Mug", -1),), "at least 1 (got -1)"),
        ((ResendItem(LINE_ID, "MUG-BLUE", "Ceramic Mug", 3),), "3 requested but 2 of 2 shipped"),
        ((ResendItem(LINE_ID + 1, "TEE-M", "Harbor Tee", 1),), "1 requested but 0 of 1 shipped"),
        (
            (ResendItem(LINE_ID, "MUG-RED", "Ceramic Mug", 1),),
            "SKU does not match the order's line (MUG-BLUE)",
        ),
        ((MUG_ITEM, MUG_ITEM), "listed more than once"),
    ],
)
def test_validate_items_refuses(items: tuple[ResendItem, ...], message: str) -> None:
    with pytest.raises(ValueError) as raised:
        validate_items(TWO_MUGS, policy(), items)
    assert message in str(raised.value)


# --- the worked example --------------------------------------------------------------------------

SAMPLE = load_sample()


@pytest.mark.parametrize("name", sorted(SAMPLE.expected["checks"]))
def test_sample_checks(name: str) -> None:
    expected = SAMPLE.expected["checks"][name]
    results = run_checks(CheckContext(name, SAMPLE.views[name], SAMPLE.policy, SAMPLE.inventory))
    assert {r.code: r.level.value for r in results} == expected["results"]
    assert is_actionable(results) is expected["actionable"]


def test_sample_messages_say_why() -> None:
    by_code = {
        r.code: r.message
        for r in run_checks(CheckContext("#2001", SAMPLE.views["#2001"], SAMPLE.policy, SAMPLE.inventory))
    }
    assert "3PL order 90000001 has no completed shipment (status Processing)" in by_code["order.shipped"]
    assert "Jul 02, 2026 23:59 EDT" in by_code["order.shipped"]
    assert "Nothing to resend" in by_code["inventory.available"]
    messages = {
        r.code: r.message
        for r in run_checks(CheckContext("#2006", SAMPLE.views["#2006"], SAMPLE.policy, SAMPLE.inventory))
    }
    assert messages["inventory.available"] == "In stock at the 3PL: CAP-NVY need 1, 12 fulfillable."
