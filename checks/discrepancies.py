"""SPEC §4: discrepancies between the store, the 3PL and the carrier (any number per order).

Three are facts about the data (stored at write time); `missing_at_3pl` and `stalled_in_transit`
depend on the as-of time and are evaluated from two stored moments.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from checks.categories import OPEN, Classification
from checks.model import OrderView, Tracker
from checks.policy import SlaPolicy

CODES = (
    "cancelled_but_shipped",
    "cancelled_not_stopped",
    "missing_at_3pl",
    "tracking_mismatch",
    "carrier_exception",
    "stalled_in_transit",
)
EXCEPTION_STATUSES = frozenset({"return_to_sender", "failure", "error"})
MOVING_STATUSES = frozenset({"pre_transit", "in_transit"})


@dataclass(frozen=True)
class Discrepancy:
    code: str
    detail: str


@dataclass(frozen=True)
class TimedDiscrepancyFacts:
    """The stored moments the time-dependent rules compare with the as-of."""

    missing_since: datetime | None  # created_at when open with no matched 3PL order, else None
    stalled_since: datetime | None  # oldest last scan among moving linked trackers
    stalled_tracking_code: str | None = None


def static_discrepancies(view: OrderView, classification: Classification) -> tuple[Discrepancy, ...]:
    found: list[Discrepancy] = []
    warehouse = view.warehouse
    if classification.base_category in ("cancelled", "refunded") and warehouse is not None:
        completed = warehouse.completed_shipments
        if completed:
            ids = ", ".join(str(s.id) for s in completed)
            found.append(
                Discrepancy(
                    "cancelled_but_shipped",
                    f"Store says {classification.base_category}, but 3PL order {warehouse.id} "
                    f"shipped (shipment {ids}).",
                )
            )
        # The 3PL may still ship these: nobody told it the order was cancelled (SPEC §4).
        live = [s for s in warehouse.shipments if s.status not in ("Completed", "Cancelled")]
        if live:
            named = ", ".join(f"{s.id} ({s.status})" for s in live)
            found.append(
                Discrepancy(
                    "cancelled_not_stopped",
                    f"Store says {classification.base_category}, but 3PL order {warehouse.id} "
                    f"may still ship (shipment {named}).",
                )
            )
    store_codes = view.store.tracking_numbers
    warehouse_codes = warehouse.tracking_numbers if warehouse is not None else frozenset()
    if store_codes and warehouse_codes and not (store_codes & warehouse_codes):
        found.append(
            Discrepancy(
                "tracking_mismatch",
                f"Store tracking {', '.join(sorted(store_codes))} does not match "
                f"3PL tracking {', '.join(sorted(warehouse_codes))}.",
            )
        )
    # One row per code (SPEC §4): every tracker in exception is named in the one message.
    exceptions = [
        f"{t.status}{f' ({t.status_detail})' if t.status_detail else ''} for {_tracker_name(t, view)}"
        for t in view.trackers
        if t.status in EXCEPTION_STATUSES
    ]
    if exceptions:
        found.append(Discrepancy("carrier_exception", f"Carrier reports {'; '.join(exceptions)}."))
    return tuple(found)


def _tracker_name(tracker: Tracker, view: OrderView) -> str:
    """A tracker by its code, and by its id too where another linked tracker shares the code."""
    shared = sum(1 for t in view.trackers if t.tracking_code == tracker.tracking_code) > 1
    return f"{tracker.tracking_code} (tracker {tracker.id})" if shared else tracker.tracking_code


def timed_facts(view: OrderView, classification: Classification) -> TimedDiscrepancyFacts:
    missing_since = (
        classification.created_at if classification.base_category == OPEN and view.warehouse is None else None
    )
    stalled_since: datetime | None = None
    stalled_code: str | None = None
    for tracker in view.trackers:
        scan = tracker.last_scan_at
        if (
            tracker.status in MOVING_STATUSES
            and scan is not None
            and (stalled_since is None or scan < stalled_since)
        ):
            stalled_since, stalled_code = scan, tracker.tracking_code
    return TimedDiscrepancyFacts(missing_since, stalled_since, stalled_code)


def missing_cutoff(as_of: datetime, policy: SlaPolicy) -> datetime:
    """An order not at the 3PL since before this is `missing_at_3pl` at `as_of`."""
    return as_of - timedelta(hours=policy.missing_after_hours)


def stalled_cutoff(as_of: datetime, policy: SlaPolicy) -> datetime:
    """A tracker without a scan since before this is `stalled_in_transit` at `as_of`."""
    return as_of - timedelta(days=policy.stalled_after_days)


def is_missing_at_3pl(facts: TimedDiscrepancyFacts, as_of: datetime, policy: SlaPolicy) -> bool:
    return facts.missing_since is not None and facts.missing_since < missing_cutoff(as_of, policy)


def is_stalled(facts: TimedDiscrepancyFacts, as_of: datetime, policy: SlaPolicy) -> bool:
    return facts.stalled_since is not None and facts.stalled_since < stalled_cutoff(as_of, policy)


def missing_at_3pl_detail(missing_since: datetime, as_of: datetime) -> str:
    hours = (as_of - missing_since).total_seconds() / 3600
    return f"No 3PL order {hours:.0f} h after the order was placed."


def stalled_detail(tracking_code: str | None, stalled_since: datetime, as_of: datetime) -> str:
    days = (as_of - stalled_since).total_seconds() / 86400
    return f"No carrier scan for {tracking_code} in {days:.1f} days."


def timed_discrepancies(
    facts: TimedDiscrepancyFacts, as_of: datetime, policy: SlaPolicy
) -> tuple[Discrepancy, ...]:
    found: list[Discrepancy] = []
    if is_missing_at_3pl(facts, as_of, policy):
        assert facts.missing_since is not None
        found.append(Discrepancy("missing_at_3pl", missing_at_3pl_detail(facts.missing_since, as_of)))
    if is_stalled(facts, as_of, policy):
        assert facts.stalled_since is not None
        detail = stalled_detail(facts.stalled_tracking_code, facts.stalled_since, as_of)
        found.append(Discrepancy("stalled_in_transit", detail))
    return tuple(found)


def discrepancies_at(
    view: OrderView, classification: Classification, as_of: datetime, policy: SlaPolicy
) -> tuple[Discrepancy, ...]:
    """Every SPEC §4 discrepancy of one order at `as_of`, in CODES order."""
    found = static_discrepancies(view, classification) + timed_discrepancies(
        timed_facts(view, classification), as_of, policy
    )
    return tuple(sorted(found, key=lambda d: CODES.index(d.code)))
