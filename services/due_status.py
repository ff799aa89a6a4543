"""How one order stands against its deadline, in words: late counts stop when the order ships (SPEC §6).

An order that shipped (category `fulfilled` or `sync_delay`) is judged at its shipped time, the 3PL's
word first (`checks.shipping.shipped_at`): "shipped on time" or "shipped N business days late", never a
count that keeps growing to today. An open order counts business days late up to the as-of day.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from checks.shipping import shipped_at
from services.lookup.detail import OrderDetail

SHIPPED_CATEGORIES = frozenset({"fulfilled", "sync_delay"})
CLOSED_CATEGORIES = frozenset({"cancelled", "refunded"})


@dataclass(frozen=True)
class DueStatus:
    text: str | None  # None: nothing to say (a cancelled or refunded order, or open and in time)
    late: bool
    shipped_at: datetime | None = None


def _days(n: int) -> str:
    return f"{n} business day{'' if n == 1 else 's'} late"


def due_status(detail: OrderDetail) -> DueStatus:
    policy, due_day = detail.policy, detail.classification.due_day
    if detail.category in CLOSED_CATEGORIES:
        return DueStatus(None, False)
    if detail.category in SHIPPED_CATEGORIES:
        shipped = shipped_at(detail.view)
        if shipped is None:  # fulfilled with nothing shipped (every item refunded or removed)
            return DueStatus(None, False)
        if shipped <= detail.due_at:
            return DueStatus("shipped on time", False, shipped)
        late = max(1, policy.business_days_between(due_day, policy.local_date(shipped)))
        return DueStatus(f"shipped {_days(late)}", True, shipped)
    today = policy.local_date(detail.as_of)
    if today <= due_day:
        return DueStatus(None, False)
    return DueStatus(_days(policy.business_days_between(due_day, today)), True)
