"""Open quantities per SPEC §3: what the store still has to ship, split into own and vendor lines."""

from __future__ import annotations

from collections import Counter

from checks.model import LineItem, StoreOrder
from checks.policy import SlaPolicy


def open_quantity(order: StoreOrder, item: LineItem) -> int:
    """`fulfillable_quantity`, or for older payloads quantity minus shipped and refunded quantities."""
    if item.fulfillable_quantity is not None:
        return max(item.fulfillable_quantity, 0)
    done: Counter[int] = Counter()
    for fulfillment in order.fulfillments:
        if fulfillment.is_success:
            for line in fulfillment.line_items:
                done[line.line_item_id] += line.quantity
    for refund in order.refunds:
        for line in refund.line_items:
            done[line.line_item_id] += line.quantity
    return max(item.quantity - done[item.id], 0)


def own_open_quantity(order: StoreOrder, policy: SlaPolicy) -> int:
    return sum(open_quantity(order, i) for i in order.line_items if not policy.is_third_party(i.vendor))


def vendor_open_quantity(order: StoreOrder, policy: SlaPolicy) -> int:
    return sum(open_quantity(order, i) for i in order.line_items if policy.is_third_party(i.vendor))


def shipped_quantities(order: StoreOrder) -> Counter[int]:
    """Quantity of each line item in successful store fulfillments."""
    shipped: Counter[int] = Counter()
    for fulfillment in order.fulfillments:
        if fulfillment.is_success:
            for line in fulfillment.line_items:
                shipped[line.line_item_id] += line.quantity
    return shipped
