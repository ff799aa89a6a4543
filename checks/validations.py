"""SPEC §5: the validation checks run before a replacement, as a registry of small checks.

Over 400 lines because it is the whole §5 table, one small function per row, in the SPEC's order.

Each check is one function ``(ctx: CheckContext) -> CheckResult`` registered with ``@check(code)``;
:func:`run_checks` runs them in the SPEC table order and returns exactly one result per code. A check
builds its result with :func:`passed`, :func:`info` or :func:`blocked`; the runner stamps the code.
``order.exists`` is a *gate*: when it blocks, no other check runs.

Definitions the SPEC leaves to the code:

- *Something shipped*: the store has a fulfillment with status ``success``, or the matched 3PL order
  (``view.warehouse``, never a replacement) has a ``Completed`` shipment.
- *Partly shipped*: something shipped and a line item, own or third-party, is still open (SPEC §3
  open quantity > 0): ``info``. When the category is ``sync_delay`` (the 3PL shipped it all and the
  store has not caught up) the order counts as shipped (``pass``), and the message says the store lags.
- *Items to resend* default to :func:`default_resend_items`. Items the operator picked that
  :func:`validate_items` refuses make ``inventory.available`` blocked with the reason, so a preflight
  never crashes on a stale pick and the action stays impossible.
- Nothing to resend (nothing of ours shipped) needs no stock: ``inventory.available`` passes and says so.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, replace
from datetime import datetime

from checks.categories import classify
from checks.model import InventoryItem, LineItem, OrderView, StoreOrder
from checks.policy import SlaPolicy
from checks.quantities import open_quantity, own_open_quantity, shipped_quantities
from checks.results import CheckResult, Level

CheckFunction = Callable[["CheckContext"], CheckResult]

# The runner fills in the registered code; a check does not repeat it.
_UNSTAMPED = ""


@dataclass(frozen=True)
class ResendItem:
    """One store line item to send again, with the quantity to send."""

    line_item_id: int
    sku: str | None
    title: str
    quantity: int


@dataclass(frozen=True)
class CheckContext:
    """Everything a check may read. ``view`` is None when the order is not in the store data."""

    order_name: str
    view: OrderView | None
    policy: SlaPolicy
    inventory: Mapping[str, InventoryItem]  # by SKU: the inventory seen (live or stored)
    items: tuple[ResendItem, ...] | None = None  # None: the default items
    console_replacements: int = 0  # replacements the console already recorded for this order

    @property
    def order(self) -> StoreOrder:
        if self.view is None:
            raise LookupError(f"order {self.order_name} is not in the store data")
        return self.view.store

    def local(self, moment: datetime) -> datetime:
        """`moment` on the store's clock."""
        return self.policy.local(moment)

    def when(self, moment: datetime) -> str:
        """A store-time stamp for messages, e.g. ``Jul 01, 2026 10:00 EDT``."""
        return f"{self.local(moment):%b %d, %Y %H:%M %Z}"

    @property
    def resend_items(self) -> tuple[ResendItem, ...]:
        """The items the operator picked, else the default items (SPEC §5)."""
        if self.items is not None:
            return self.items
        if self.view is None:
            return ()
        return default_resend_items(self.view, self.policy)


def passed(message: str, hint: str | None = None) -> CheckResult:
    return CheckResult(_UNSTAMPED, Level.PASS, message, hint)


def info(message: str, hint: str | None = None) -> CheckResult:
    return CheckResult(_UNSTAMPED, Level.INFO, message, hint)


def blocked(message: str, hint: str | None = None) -> CheckResult:
    return CheckResult(_UNSTAMPED, Level.BLOCKED, message, hint)


@dataclass(frozen=True)
class RegisteredCheck:
    code: str
    function: CheckFunction
    gate: bool = False  # when it blocks, no later check runs


class CheckRegistry:
    """Checks in registration order; :meth:`run` returns one result per registered code."""

    def __init__(self) -> None:
        self._checks: list[RegisteredCheck] = []

    def register(self, code: str, *, gate: bool = False) -> Callable[[CheckFunction], CheckFunction]:
        def decorator(function: CheckFunction) -> CheckFunction:
            if code in self.codes:
                raise ValueError(f"check {code!r} is already registered")
            self._checks.append(RegisteredCheck(code, function, gate))
            return function

        return decorator

    @property
    def codes(self) -> tuple[str, ...]:
        return tuple(c.code for c in self._checks)

    def run(self, ctx: CheckContext) -> tuple[CheckResult, ...]:
        results: list[CheckResult] = []
        for registered in self._checks:
            result = registered.function(ctx)
            if not isinstance(result, CheckResult) or not isinstance(result.level, Level):
                name = getattr(registered.function, "__qualname__", repr(registered.function))
                what = (
                    type(result).__name__
                    if not isinstance(result, CheckResult)
                    else "a result without a Level"
                )
                raise TypeError(f"check {registered.code!r} ({name}) returned {what}, not a CheckResult")
            if result.code not in (_UNSTAMPED, registered.code):
                raise ValueError(f"check {registered.code!r} returned a result for {result.code!r}")
            results.append(replace(result, code=registered.code))
            if registered.gate and result.level is Level.BLOCKED:
                break
        return tuple(results)


registry = CheckRegistry()
check = registry.register


def run_checks(ctx: CheckContext) -> tuple[CheckResult, ...]:
    """Every SPEC §5 check on `ctx`, in the SPEC table order; only ``order.exists`` when it blocks."""
    return registry.run(ctx)


# --- items to resend -------------------------------------------------------------------------


def _own_lines(order: StoreOrder, policy: SlaPolicy) -> list[LineItem]:
    return [line for line in order.line_items if not policy.is_third_party(line.vendor)]


def refunded_quantities(order: StoreOrder) -> Counter[int]:
    """Quantity of each line item in the store's refunds."""
    refunded: Counter[int] = Counter()
    for refund in order.refunds:
        for part in refund.line_items:
            refunded[part.line_item_id] += part.quantity
    return refunded


def shipped_own_quantities(view: OrderView, policy: SlaPolicy) -> dict[int, int]:
    """What of each own line item may be resent (line id → quantity > 0), as SPEC §5 defines it.

    Its quantities in successful fulfillments' `line_items`; where no successful fulfillment lists
    line items, `quantity` − `fulfillable_quantity` − its refunded quantity; where that gives nothing
    and the matched 3PL order has a ``Completed`` shipment, the 3PL order's products whose SKU (else
    reference id) is an own line's SKU, in line order. Never more than the line's quantity less what
    was refunded: refunded units are never resent.
    """
    order = view.store
    own = _own_lines(order, policy)
    refunded = refunded_quantities(order)
    resendable = {line.id: max(line.quantity - refunded[line.id], 0) for line in own}
    if any(f.line_items for f in order.fulfillments if f.is_success):
        store_shipped = shipped_quantities(order)
        found = {line.id: min(store_shipped[line.id], resendable[line.id]) for line in own}
    else:
        found = {line.id: resendable[line.id] - open_quantity(order, line) for line in own}
    shipped = {line_id: quantity for line_id, quantity in found.items() if quantity > 0}
    warehouse = view.warehouse
    if shipped or warehouse is None or not warehouse.completed_shipments:
        return shipped
    available: Counter[str] = Counter()
    for product in warehouse.products:
        identifier = product.sku or product.reference_id
        if identifier:
            available[identifier] += product.quantity
    for line in own:
        if line.sku is None:
            continue
        quantity = min(available[line.sku], resendable[line.id])
        if quantity > 0:
            shipped[line.id] = quantity
            available[line.sku] -= quantity
    return shipped


def default_resend_items(view: OrderView, policy: SlaPolicy) -> tuple[ResendItem, ...]:
    """The shipped own line items with their shipped quantities, in line order (SPEC §5)."""
    shipped = shipped_own_quantities(view, policy)
    return tuple(
        ResendItem(line.id, line.sku, line.title, shipped[line.id])
        for line in view.store.line_items
        if line.id in shipped
    )


def validate_items(view: OrderView, policy: SlaPolicy, items: Iterable[ResendItem]) -> tuple[ResendItem, ...]:
    """Return `items` if the operator may resend them, else raise ValueError saying why.

    Each item must be an own line item of the order, listed once, with its SKU, and a quantity from 1
    up to what shipped of that line: the operator may pick fewer, never more.
    """
    items = tuple(items)
    order = view.store
    if not items:
        raise ValueError(f"Choose at least one item of {order.name} to resend.")
    lines = {line.id: line for line in order.line_items}
    shipped = shipped_own_quantities(view, policy)
    seen: set[int] = set()
    for item in items:
        line = lines.get(item.line_item_id)
        label = f"{item.title} ({item.sku or 'no SKU'}, line {item.line_item_id})"
        if line is None:
            raise ValueError(f"{label} is not a line item of {order.name}.")
        if policy.is_third_party(line.vendor):
            raise ValueError(
                f"{label} is from the third-party vendor {line.vendor}: the vendor must replace it."
            )
        if item.line_item_id in seen:
            raise ValueError(f"{label} is listed more than once.")
        seen.add(item.line_item_id)
        if item.sku != line.sku:
            raise ValueError(f"{label}: the SKU does not match the order's line ({line.sku or 'no SKU'}).")
        if item.quantity < 1:
            raise ValueError(f"{label}: the quantity must be at least 1 (got {item.quantity}).")
        if item.quantity > shipped.get(line.id, 0):
            raise ValueError(
                f"{label}: {item.quantity} requested but {shipped.get(line.id, 0)} of {line.quantity} shipped; "
                "only shipped units can be resent."
            )
    return items


def _describe(line: LineItem) -> str:
    return f"{line.title} ({line.sku})" if line.sku else f"{line.title} (no SKU)"


# --- the checks, in SPEC table order ---------------------------------------------------------


@check("order.exists", gate=True)
def order_exists(ctx: CheckContext) -> CheckResult:
    if ctx.view is None:
        return blocked(
            f"Order {ctx.order_name} is not in the store data.",
            hint="Check the order number, or sync the order from the store.",
        )
    return passed(f"Order {ctx.order.name} is in the store data (placed {ctx.when(ctx.order.created_at)}).")


@check("order.cancelled")
def order_cancelled(ctx: CheckContext) -> CheckResult:
    order = ctx.order
    if order.cancelled_at is not None:
        reason = f" (reason: {order.cancel_reason})" if order.cancel_reason else ""
        return blocked(f"Cancelled in the store on {ctx.when(order.cancelled_at)}{reason}.")
    return passed("Not cancelled.")


@check("order.refunded")
def order_refunded(ctx: CheckContext) -> CheckResult:
    order = ctx.order
    status = order.financial_status
    if status in ("refunded", "voided"):
        return blocked(f"The payment is {status}: the customer has their money back, so nothing is resent.")
    if status == "partially_refunded":
        lines = {line.id: line for line in order.line_items}
        refunded = refunded_quantities(order)
        what = ", ".join(
            f"{quantity} × {_describe(lines[line_id])}"
            if line_id in lines
            else f"{quantity} × line {line_id}"
            for line_id, quantity in refunded.items()
        )
        detail = f": {what} refunded" if what else " (no items, an amount only)"
        return info(f"Partly refunded{detail}. Make sure the replacement does not resend what was refunded.")
    return passed(f"Not refunded (payment {status or 'status unknown'}).")


@check("order.shipped")
def order_shipped(ctx: CheckContext) -> CheckResult:
    assert ctx.view is not None
    order, warehouse = ctx.order, ctx.view.warehouse
    store_done = [f for f in order.fulfillments if f.is_success]
    completed = warehouse.completed_shipments if warehouse is not None else ()
    if not store_done and not completed:
        where = (
            f"3PL order {warehouse.id} has no completed shipment (status {warehouse.status or 'unknown'})"
            if warehouse is not None
            else "the 3PL has no order for it"
        )
        policy = ctx.policy
        still_to_ship = (
            order.cancelled_at is None
            and order.financial_status not in ("refunded", "voided")
            and own_open_quantity(order, policy) > 0
        )
        due = policy.due_at(policy.due_day(order.created_at, policy.handling_days_for(order.shipping_method)))
        when = f" Our items are due to ship by {ctx.when(due)}." if still_to_ship else ""
        return blocked(
            f"Nothing has shipped yet: the store has no successful fulfillment and {where}. "
            f"A replacement is only for an order that shipped.{when}",
            hint="Chase the original shipment instead of sending a replacement." if still_to_ship else None,
        )
    evidence: list[str] = []
    if store_done:
        latest = max(store_done, key=lambda f: f.created_at)
        tracking = f", tracking {', '.join(latest.tracking_numbers)}" if latest.tracking_numbers else ""
        evidence.append(f"store fulfillment {latest.id} on {ctx.when(latest.created_at)}{tracking}")
    if completed:
        assert warehouse is not None
        ids = ", ".join(str(s.id) for s in completed)
        dates = [s.shipped_at for s in completed if s.shipped_at is not None]
        on = f" on {ctx.when(max(dates))}" if dates else ""
        evidence.append(f"3PL order {warehouse.id} shipment {ids} completed{on}")
    shipped_by = "; ".join(evidence)
    open_lines = [line for line in order.line_items if open_quantity(order, line) > 0]
    if not open_lines:
        return passed(f"Shipped: {shipped_by}.")
    still_open = ", ".join(
        f"{open_quantity(order, line)} of {line.quantity} × {_describe(line)}"
        + (f" from {line.vendor}" if ctx.policy.is_third_party(line.vendor) else "")
        for line in open_lines
    )
    if classify(ctx.view, ctx.policy).base_category == "sync_delay":
        return passed(
            f"Shipped: {shipped_by}. The 3PL shipped everything; the store lags and still shows "
            f"{still_open} open."
        )
    return info(
        f"Partly shipped ({shipped_by}); still open in the store: {still_open}. "
        "Only shipped items can be resent."
    )


@check("replacement.exists")
def replacement_exists(ctx: CheckContext) -> CheckResult:
    assert ctx.view is not None
    found: list[str] = []
    if ctx.console_replacements > 0:
        found.append(f"the console already recorded {ctx.console_replacements} replacement(s) for this order")
    for replacement in ctx.view.replacements:
        found.append(
            f"3PL order {replacement.id} (reference {replacement.reference_id}, "
            f"status {replacement.status or 'unknown'})"
        )
    if found:
        return blocked(
            f"A replacement already exists: {'; '.join(found)}.",
            hint="Follow up on the existing replacement instead of sending another.",
        )
    return passed("No replacement exists yet.")


@check("order.third_party")
def order_third_party(ctx: CheckContext) -> CheckResult:
    lines = ctx.order.line_items
    vendor_lines = [line for line in lines if ctx.policy.is_third_party(line.vendor)]
    vendors = ", ".join(sorted({line.vendor for line in vendor_lines if line.vendor}))
    if lines and len(vendor_lines) == len(lines):
        return blocked(
            f"Every item is shipped by the third-party vendor {vendors}: the vendor must replace it."
        )
    if vendor_lines:
        which = ", ".join(f"{_describe(line)} from {line.vendor}" for line in vendor_lines)
        return info(f"Some items are shipped by a third-party vendor and are not resent by us: {which}.")
    return passed("Every item ships from our own 3PL stock.")


@check("inventory.available")
def inventory_available(ctx: CheckContext) -> CheckResult:
    assert ctx.view is not None
    if ctx.items is not None:
        try:
            validate_items(ctx.view, ctx.policy, ctx.items)
        except ValueError as exc:
            return blocked(f"The items picked cannot be resent: {exc}")
    items = ctx.resend_items
    if not items:
        return passed("Nothing to resend (none of our own items has shipped), so no stock is needed.")
    needed: Counter[str] = Counter()
    problems: list[str] = []
    for item in items:
        if item.sku is None:
            problems.append(f"{item.title} (line {item.line_item_id}) has no SKU, so the 3PL cannot pick it")
        else:
            needed[item.sku] += item.quantity
    in_stock: list[str] = []
    for sku, quantity in needed.items():
        stock = ctx.inventory.get(sku)
        if stock is None:
            problems.append(f"{sku} is unknown to the 3PL inventory (need {quantity})")
        elif stock.total_fulfillable_quantity < quantity:
            problems.append(f"{sku}: need {quantity}, the 3PL can fulfil {stock.total_fulfillable_quantity}")
        else:
            in_stock.append(f"{sku} need {quantity}, {stock.total_fulfillable_quantity} fulfillable")
    if problems:
        return blocked(f"Not enough stock to resend: {'; '.join(problems)}.")
    return passed(f"In stock at the 3PL: {'; '.join(in_stock)}.")


CHECK_CODES = registry.codes
