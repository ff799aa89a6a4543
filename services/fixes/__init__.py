"""Guided fixes (SPEC §8): mend a discrepancy in the one system that can, under a replacement's controls.

    cancel-at-3pl      cancelled_not_stopped   ShipBob POST /2026-07/order/{id}:cancel
    send-to-3pl        missing_at_3pl          ShipBob POST /2026-07/order (reference_id = store order id)
    fulfill-in-store   sync_delay              Shopify fulfillmentCreate on the open fulfillment order
    push-tracking      tracking_mismatch       Shopify fulfillmentTrackingInfoUpdate on the store fulfillment

`dry_run` (agent, ops, admin) shows the checks, the exact request and a fingerprint; `execute` (ops,
admin) sends it at most once (see `services.fixes.run`); `settle` reads the target back for a reservation a
dead process left pending.
"""

from __future__ import annotations

from services.errors import InputError
from services.fixes.base import Fix, FixPlan, FixRequest
from services.fixes.cancel_at_3pl import FIX as CANCEL_AT_3PL
from services.fixes.fulfill_in_store import FIX as FULFILL_IN_STORE
from services.fixes.push_tracking import FIX as PUSH_TRACKING
from services.fixes.run import DRY_RUN, EXECUTE, SETTLE, FixResult, dry_run, execute, plan_fix, settle
from services.fixes.send_to_3pl import FIX as SEND_TO_3PL
from services.lookup.detail import OrderDetail

FIXES: dict[str, Fix] = {f.kind: f for f in (CANCEL_AT_3PL, SEND_TO_3PL, FULFILL_IN_STORE, PUSH_TRACKING)}
KINDS = tuple(FIXES)


def fix_for(kind: str) -> Fix:
    """The fix named `kind`; InputError naming the kinds otherwise."""
    try:
        return FIXES[kind]
    except KeyError:
        raise InputError(f"Unknown fix {kind!r}: choose one of {', '.join(KINDS)}.") from None


def offered(detail: OrderDetail) -> dict[str, Fix]:
    """The fixes the order shows a reason for, by the discrepancy code (or category) each mends."""
    return {f.offered_for: f for f in FIXES.values() if f.offered(detail)}


def offered_codes() -> tuple[str, ...]:
    """The discrepancy codes and categories that have a fix ("has a fix" filters)."""
    return tuple(f.offered_for for f in FIXES.values())


__all__ = [
    "DRY_RUN",
    "EXECUTE",
    "FIXES",
    "KINDS",
    "SETTLE",
    "Fix",
    "FixPlan",
    "FixRequest",
    "FixResult",
    "dry_run",
    "execute",
    "fix_for",
    "offered",
    "offered_codes",
    "plan_fix",
    "settle",
]
