"""SPEC §3: one category per order, and the informational rule.

Classification is split in two so any as-of answers without re-reading the order:
:func:`classify` stores what an order *is* (every rule but lateness, plus the dates), and
:func:`category_at` adds the time part (rule 8 versus 9) against an as-of moment.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from checks.model import OrderView
from checks.policy import SlaPolicy
from checks.quantities import own_open_quantity, vendor_open_quantity

# Stored when own open > 0 and no earlier rule matched: overdue or pending depending on the as-of.
OPEN = "open"
INFORMATIONAL = frozenset(
    {"cancelled", "refunded", "third_party_vendor", "awaiting_payment", "sync_delay", "on_hold"}
)
CATEGORIES = (
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
# Store fulfillment_status values a naive dashboard reads as "not shipped yet".
NAIVE_UNSHIPPED = frozenset({None, "unfulfilled", "partial"})


@dataclass(frozen=True)
class Classification:
    """What an order is, independent of the as-of time (stored at write time)."""

    base_category: str  # one of CATEGORIES without overdue/pending, or OPEN
    reason: str
    own_open: int
    vendor_open: int
    created_at: datetime
    due_day: date
    standard_due_day: date
    vendor_due_day: date | None  # only when the order has third-party line items
    looks_unshipped: bool  # store fulfillment_status is null, unfulfilled or partial


def classify(view: OrderView, policy: SlaPolicy) -> Classification:
    order = view.store
    own_open = own_open_quantity(order, policy)
    vendor_open = vendor_open_quantity(order, policy)
    base, reason = _base_category(view, own_open, vendor_open)
    has_vendor_lines = any(policy.is_third_party(i.vendor) for i in order.line_items)
    # policy.due_day(created_at, n) is add_business_days(start_day(created_at), n): find the start
    # day once for the three due days (it converts to the store's timezone).
    start = policy.start_day(order.created_at)
    return Classification(
        base_category=base,
        reason=reason,
        own_open=own_open,
        vendor_open=vendor_open,
        created_at=order.created_at,
        due_day=policy.add_business_days(start, policy.handling_days_for(order.shipping_method)),
        standard_due_day=policy.add_business_days(start, policy.handling_days),
        vendor_due_day=policy.add_business_days(start, policy.vendor_handling_days)
        if has_vendor_lines
        else None,
        looks_unshipped=order.fulfillment_status in NAIVE_UNSHIPPED,
    )


def _base_category(view: OrderView, own_open: int, vendor_open: int) -> tuple[str, str]:
    order = view.store
    if order.cancelled_at is not None:
        why = f" ({order.cancel_reason})" if order.cancel_reason else ""
        return "cancelled", f"Cancelled in the store at {order.cancelled_at.isoformat()}{why}."
    if order.financial_status in ("refunded", "voided"):
        return "refunded", f"Store financial status is {order.financial_status}."
    if own_open == 0 and vendor_open == 0:
        return "fulfilled", "Nothing left to ship in the store."
    if own_open == 0:
        return "third_party_vendor", f"Only third-party vendor items are open ({vendor_open} unit(s))."
    if order.financial_status == "pending":
        return "awaiting_payment", "Store financial status is pending: payment not captured yet."
    if view.warehouse is not None and view.warehouse.is_shipped:
        shipped = [s.shipped_at for s in view.warehouse.completed_shipments if s.shipped_at]
        when = f" on {max(shipped).isoformat()}" if shipped else ""
        return (
            "sync_delay",
            f"The 3PL shipped order {view.warehouse.id}{when}, but the store still shows "
            f"{own_open} unit(s) open: the fulfillment update has not synced.",
        )
    if order.on_hold:
        return "on_hold", "The store holds fulfillment (fulfillment order on hold)."
    return OPEN, f"{own_open} unit(s) of own items open."


def category_at(classification: Classification, as_of: datetime, policy: SlaPolicy) -> str:
    """The SPEC §3 category at `as_of`: the stored category, or overdue/pending for open orders."""
    if classification.base_category != OPEN:
        return classification.base_category
    return "overdue" if policy.is_late(classification.due_day, as_of) else "pending"


def is_informational_at(classification: Classification, as_of: datetime, policy: SlaPolicy) -> bool:
    """A false alarm a naive dashboard would flag: unshipped-looking, past the standard deadline."""
    return (
        classification.base_category in INFORMATIONAL
        and classification.looks_unshipped
        and policy.is_late(classification.standard_due_day, as_of)
    )


def vendor_late_at(classification: Classification, as_of: datetime, policy: SlaPolicy) -> bool | None:
    if classification.vendor_due_day is None:
        return None
    return policy.is_late(classification.vendor_due_day, as_of)
