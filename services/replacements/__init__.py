"""Replacement orders (SPEC §5, §7): preflight, dry run, confirmation and exactly-once execution.

    preflight(session, …)  the SPEC §5 checks on live 3PL inventory             agent, ops, admin
    dry_run(session, …)    + the exact ShipBob request and its fingerprint      agent, ops, admin
    execute(engine, …)     refresh → re-check → same fingerprint? → reserve → 3PL → record     ops, admin

Exactly once. `execute` reserves the replacement as a `pending` row under the unique (order_id, seq)
and commits before calling the 3PL, so of two clicks, tabs, operators or processes one reserves it and
the others get ConflictError (or ActionBlocked once the first is recorded: `replacement.exists`).
The 3PL's own guard is the reference: ShipBob refuses a second order with the same `reference_id`
(422), and `execute` then looks the order up and records it instead of creating another.

Retry rule. A `failed` row (the 3PL refused the request, or the outcome stayed unknown and the lookup
by reference found nothing) does not count as a replacement, so the next execution for the order gets
the same seq, takes over that row and re-sends the same `reference_id`: if the earlier request did reach
ShipBob after all, the 422 leads to the lookup and the existing order is recorded, never a second one.
A `pending` row is only left behind when the process dies between the reservation and the settle; it keeps
blocking (the order may exist at the 3PL) until `settle` (ops, admin) looks its `reference_id` up at the
3PL and records the row `created` (with the 3PL order) or `failed`.
"""

from services.replacements.execute import EXECUTE, execute, send
from services.replacements.plan import (
    DRY_RUN,
    PREFLIGHT,
    InventorySource,
    Preflight,
    ReplacementPlan,
    build_payload,
    dry_run,
    plan_fingerprint,
    preflight,
)
from services.replacements.records import (
    Replacement,
    pending_for,
    recorded_replacements,
    replacements_for,
)
from services.replacements.settle import SETTLE, STALE_AFTER, may_settle, settle

__all__ = [
    "DRY_RUN",
    "EXECUTE",
    "PREFLIGHT",
    "SETTLE",
    "STALE_AFTER",
    "InventorySource",
    "Preflight",
    "Replacement",
    "ReplacementPlan",
    "build_payload",
    "dry_run",
    "execute",
    "may_settle",
    "pending_for",
    "plan_fingerprint",
    "preflight",
    "recorded_replacements",
    "replacements_for",
    "send",
    "settle",
]
