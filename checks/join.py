"""SPEC §1, how the three systems join: which 3PL order is a store order's, which are its replacements,
and which trackers are its. The one home of the rule: the store's bulk reads (`services.store.views`)
and the write path's "which orders did this touch" (`services.sync.apply`) use these.

- 3PL order ↔ store order: `reference_id == str(order.id)`; failing that (or with no `reference_id`),
  `order_number` == the store `name` without `#`. Of several matches, the lowest 3PL id.
- `reference_id` `"<store order id>-R<n>"`: the n-th replacement of that order (never its match).
- Tracker ↔ order: its `tracking_code` is a tracking number of the store's fulfillments or of the
  matched 3PL order's shipments (not the replacements'); every tracker with that code links.
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Iterable

from checks.model import OrderView, StoreOrder, Tracker, WarehouseOrder

ID_MAX = 2**63 - 1  # ids are 64-bit (SPEC §1); a longer number is not a store order id
REPLACEMENT_REFERENCE = re.compile(r"^([0-9]{1,19})-R([0-9]{1,9})$")
STORE_REFERENCE = re.compile(r"^[0-9]{1,19}$")


def replacement_reference(store_order_id: int, seq: int) -> str:
    """The 3PL reference of the n-th replacement of a store order."""
    return f"{store_order_id}-R{seq}"


def parse_reference(reference_id: str) -> tuple[int | None, int | None]:
    """(store order id, replacement number) encoded in a reference_id; (id, None) for the original."""
    match = REPLACEMENT_REFERENCE.match(reference_id)
    if match and int(match.group(1)) <= ID_MAX:
        return int(match.group(1)), int(match.group(2))
    if STORE_REFERENCE.match(reference_id) and int(reference_id) <= ID_MAX:
        return int(reference_id), None
    # Not a store order id (or too large to be one): the order is matched by its order number.
    return None, None


class WarehouseJoin:
    """3PL orders indexed for joining many store orders at once: `match` and `replacements` answer
    what `join_order` would for each order, without a scan per order."""

    def __init__(self, warehouse_orders: Iterable[WarehouseOrder]) -> None:
        self._by_reference: dict[str, WarehouseOrder] = {}
        self._by_number: dict[str, WarehouseOrder] = {}
        self._replacements: dict[int, list[WarehouseOrder]] = defaultdict(list)
        for warehouse in sorted(warehouse_orders, key=lambda w: w.id):  # the lowest id wins a tie
            store_id, seq = parse_reference(warehouse.reference_id)
            if seq is not None:
                assert store_id is not None
                self._replacements[store_id].append(warehouse)
                continue
            self._by_reference.setdefault(warehouse.reference_id, warehouse)
            if warehouse.order_number:
                self._by_number.setdefault(warehouse.order_number, warehouse)

    def match(self, order: StoreOrder) -> WarehouseOrder | None:
        found = self._by_reference.get(str(order.id))
        return found if found is not None else self._by_number.get(order.number)

    def replacements(self, order: StoreOrder) -> tuple[WarehouseOrder, ...]:
        return tuple(self._replacements.get(order.id, ()))


def linked_tracking_codes(view: OrderView) -> frozenset[str]:
    """The store's fulfillment tracking numbers and the matched 3PL order's (not replacements')."""
    codes = set(view.store.tracking_numbers)
    if view.warehouse is not None:
        codes |= view.warehouse.tracking_numbers
    return frozenset(codes)


def join_order(
    order: StoreOrder, warehouse_orders: Iterable[WarehouseOrder], trackers: Iterable[Tracker]
) -> OrderView:
    """One store order with its 3PL order, replacements and trackers (trackers in code, then id order)."""
    join = WarehouseJoin(warehouse_orders)
    partial = OrderView(store=order, warehouse=join.match(order), replacements=join.replacements(order))
    codes = linked_tracking_codes(partial)
    linked = sorted((t for t in trackers if t.tracking_code in codes), key=lambda t: (t.tracking_code, t.id))
    return OrderView(
        store=order, warehouse=partial.warehouse, replacements=partial.replacements, trackers=tuple(linked)
    )
