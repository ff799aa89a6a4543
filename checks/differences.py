"""Where the three systems disagree about one order: one list, read by the lookup page and the summary
(through `OrderDetail.differences`).

The SPEC §4 discrepancies come first (`spec=True`, their own codes); then the status and shipment
differences a person would also want to know about. Both the page's Differences box and the summary's
facts are built from `order_differences`, so they can never contradict each other, and the SPEC
discrepancies are always a subset of what is shown.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from checks.discrepancies import EXCEPTION_STATUSES, Discrepancy
from checks.model import OrderView

SHIPPED_STORE = frozenset({"fulfilled"})
PROBLEM_SHIPMENTS = frozenset({"Exception", "OnHold"})
CLOSED_CATEGORIES = frozenset({"cancelled", "refunded", "fulfilled"})

# Plain words for every code; the SPEC §4 ones match the summaries' wording.
LABELS = {
    "cancelled_but_shipped": "cancelled but shipped",
    "cancelled_not_stopped": "cancelled but not stopped at the 3PL",
    "missing_at_3pl": "missing at the 3PL",
    "tracking_mismatch": "tracking mismatch",
    "carrier_exception": "carrier exception",
    "stalled_in_transit": "stalled in transit",
    "no_3pl_order": "no 3PL order",
    "shipped_not_synced": "shipped but not synced to the store",
    "store_ahead_of_3pl": "store fulfilled before the 3PL shipped",
    "shipment_problem": "3PL shipment problem",
    "cancel_not_reflected": "cancelled in the store only",
    "delivery_failed": "delivery failed",
}


@dataclass(frozen=True)
class Difference:
    code: str
    detail: str  # one plain sentence (no markup)
    spec: bool  # a SPEC §4 discrepancy

    @property
    def label(self) -> str:
        return LABELS.get(self.code, self.code.replace("_", " "))

    def as_dict(self) -> dict[str, str]:
        return {"code": self.code, "detail": self.detail}


def order_differences(
    view: OrderView, category: str, discrepancies: Sequence[Discrepancy]
) -> list[Difference]:
    """Every difference between the systems for one order in `category` (SPEC §3, at the as-of) whose
    SPEC §4 `discrepancies` are given: those first, then the others, without repeats."""
    found = [Difference(d.code, d.detail, True) for d in discrepancies]
    codes = {d.code for d in discrepancies}
    store, warehouse = view.store, view.warehouse
    store_shipped = store.fulfillment_status in SHIPPED_STORE
    if warehouse is None:
        if category not in CLOSED_CATEGORIES and "missing_at_3pl" not in codes:
            found.append(Difference("no_3pl_order", "The 3PL has no order for this store order.", False))
    elif warehouse.is_shipped and not store_shipped and category not in ("cancelled", "refunded"):
        found.append(
            Difference(
                "shipped_not_synced",
                f"Store fulfillment status is {store.fulfillment_status or 'unfulfilled'}, "
                f"but the 3PL shipped (order status {warehouse.status or 'unknown'}).",
                False,
            )
        )
    elif store_shipped and not warehouse.is_shipped:
        found.append(
            Difference(
                "store_ahead_of_3pl",
                f"Store says fulfilled, but the 3PL order is {warehouse.status or 'unknown'}.",
                False,
            )
        )
    if warehouse is not None:
        for shipment in warehouse.shipments:
            if shipment.status in PROBLEM_SHIPMENTS:
                found.append(
                    Difference("shipment_problem", f"3PL shipment {shipment.id} is {shipment.status}.", False)
                )
        if (
            store.cancelled_at
            and warehouse.status not in (None, "Cancelled")
            and not codes & {"cancelled_not_stopped", "cancelled_but_shipped"}
        ):
            found.append(
                Difference(
                    "cancel_not_reflected",
                    f"Cancelled in the store, but the 3PL order is {warehouse.status}.",
                    False,
                )
            )
    if store_shipped and "carrier_exception" not in codes:
        for tracker in view.trackers:
            if tracker.status in EXCEPTION_STATUSES:
                found.append(
                    Difference(
                        "delivery_failed",
                        f"Store says fulfilled, but the carrier says {tracker.status} for "
                        f"{tracker.tracking_code}.",
                        False,
                    )
                )
    unique: dict[tuple[str, str], Difference] = {}
    for difference in found:
        unique.setdefault((difference.code, difference.detail), difference)
    return list(unique.values())
