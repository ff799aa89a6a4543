"""One order seen from all three systems at an as-of time: the value the lookup page, the CLI
`check`/`summarize` commands and the summaries are built from."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from checks.categories import Classification
from checks.differences import Difference, order_differences
from checks.discrepancies import Discrepancy
from checks.model import OrderView
from checks.policy import SlaPolicy
from checks.results import CheckResult


@dataclass(frozen=True)
class OrderDetail:
    view: OrderView
    classification: Classification
    category: str  # SPEC §3 category at `as_of`
    due_at: datetime
    discrepancies: tuple[Discrepancy, ...]
    checks: tuple[CheckResult, ...]
    as_of: datetime
    policy: SlaPolicy
    # When each system's data about this order was last fetched: keys "store", "3pl", "carrier".
    sources_as_of: dict[str, datetime | None] = field(default_factory=dict)
    informational: bool = False
    vendor_late: bool | None = None

    @property
    def name(self) -> str:
        return self.view.store.name

    @property
    def differences(self) -> list[Difference]:
        """What the Differences box and the summary both show (SPEC §4 discrepancies first)."""
        return order_differences(self.view, self.category, self.discrepancies)
