"""What every guided fix is made of (SPEC §8): its checks, its one request, and how its target is read back.

A fix module defines one `Fix` subclass. The runner (`services.fixes.run`) does the rest the same way for
all of them: permission, checks, dry run and fingerprint, typed confirmation, refresh and re-check,
reservation, the one call, settling an unknown outcome by reading the target back, audit, refresh afterwards.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import httpx
from sqlalchemy.engine import Connection

from checks.results import CheckResult, Level
from checks.validations import blocked, passed
from services import audit
from services.lookup.detail import OrderDetail
from services.settings import Settings

# SPEC §5 checks a fix repeats where they apply, by code (the order's own results are reused).
ORDER_EXISTS = "order.exists"


@dataclass(frozen=True)
class FixRequest:
    """The exact request a fix sends: ShipBob method/path/body, or a Shopify GraphQL mutation."""

    system: str  # "shipbob" | "shopify"
    method: str
    path: str
    body: dict[str, Any] | None
    target: str  # what the request changes, e.g. "3pl-order:123": part of the exactly-once key

    def as_dict(self) -> dict[str, Any]:
        return {"system": self.system, "method": self.method, "path": self.path, "body": self.body}


@dataclass(frozen=True)
class FixPlan:
    """A dry run: the checks, the request (None when a check blocks before one can be built), the fingerprint."""

    kind: str
    order: str
    order_id: int | None
    checks: tuple[CheckResult, ...]
    request: FixRequest | None
    fingerprint: str
    facts: dict[str, Any] = field(default_factory=dict)

    @property
    def blocked(self) -> tuple[CheckResult, ...]:
        return tuple(r for r in self.checks if r.level is Level.BLOCKED)

    @property
    def actionable(self) -> bool:
        return self.request is not None and not self.blocked

    @property
    def fix_key(self) -> str:
        assert self.request is not None
        return f"{self.kind}:{self.request.target}"

    def as_dict(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "order": self.order,
            "actionable": self.actionable,
            "checks": [r.as_dict() for r in self.checks],
            "request": None if self.request is None else self.request.as_dict(),
            "fingerprint": self.fingerprint,
        }


@dataclass(frozen=True)
class Sent:
    """What the call answered: how the change was obtained, and the target's reply (for the audit)."""

    resolution: str  # "sent" | "already_done" | "found_after_unknown_outcome"
    reply: dict[str, Any] = field(default_factory=dict)


class Fix:
    """One guided fix. Subclasses set the class attributes and implement the four methods."""

    kind: str = ""  # the CLI's KIND, e.g. "cancel-at-3pl"
    system: str = ""  # the source the request goes to: "shipbob" | "shopify"
    offered_for: str = ""  # the discrepancy code or category that offers it (SPEC §8)
    title: str = ""  # the button's words
    spec_checks: tuple[str, ...] = (ORDER_EXISTS,)  # SPEC §5 codes that apply

    def offered(self, detail: OrderDetail) -> bool:
        """True when the order shows what this fix mends (the lookup shows its button)."""
        return (
            self.offered_for in {d.code for d in detail.discrepancies} or detail.category == self.offered_for
        )

    def own_checks(
        self, detail: OrderDetail, live: Mapping[str, Any]
    ) -> list[CheckResult]:  # pragma: no cover - abstract
        raise NotImplementedError

    def read_live(
        self, conn: Connection, settings: Settings, detail: OrderDetail, transport: httpx.BaseTransport | None
    ) -> dict[str, Any]:
        """Facts read live from the target before planning (stock, fulfillment orders); none by default."""
        return {}

    def build_request(self, detail: OrderDetail, live: Mapping[str, Any]) -> FixRequest:  # pragma: no cover
        raise NotImplementedError

    def send(
        self, settings: Settings, request: FixRequest, transport: httpx.BaseTransport | None
    ) -> Sent:  # pragma: no cover
        """Send the request once. Raises SourceUnavailable when the outcome is unknown (timeout, 5xx after
        sending) and another SourceError when the target refused it (its words in the message)."""
        raise NotImplementedError

    def landed(
        self, settings: Settings, request: FixRequest, transport: httpx.BaseTransport | None
    ) -> bool:  # pragma: no cover
        """Read the target back: does it show the change? Never sends the request."""
        raise NotImplementedError

    def state(self, detail: OrderDetail) -> dict[str, Any]:
        """The order facts whose change makes a preview stale (beside the request and the check levels)."""
        view = detail.view
        warehouse = view.warehouse
        return {
            "category": detail.category,
            "discrepancies": [d.code for d in detail.discrepancies],
            "store": {
                "cancelled_at": view.store.cancelled_at,
                "financial_status": view.store.financial_status,
                "fulfillments": [
                    [f.id, f.status, sorted(f.tracking_numbers)] for f in view.store.fulfillments
                ],
            },
            "warehouse": None
            if warehouse is None
            else {
                "id": warehouse.id,
                "shipments": [[s.id, s.status, s.tracking_number] for s in warehouse.shipments],
            },
        }


def applies(detail: OrderDetail, fix: Fix) -> CheckResult:
    """`fix.applies`: blocked unless the order shows what the fix mends now."""
    if fix.offered(detail):
        return passed(f"{detail.name} shows {fix.offered_for}.")
    return blocked(
        f"{detail.name} does not show {fix.offered_for} any more: there is nothing for this fix to mend."
    )


def stamp(code: str, result: CheckResult) -> CheckResult:
    return CheckResult(code, result.level, result.message, result.hint)


def fingerprint(
    kind: str, request: FixRequest | None, checks: Sequence[CheckResult], state: Mapping[str, Any]
) -> str:
    content = {
        "kind": kind,
        "request": None if request is None else request.as_dict(),
        "checks": [[r.code, r.level.value] for r in checks],
        "order": state,
    }
    return hashlib.sha256(audit.canonical_json(content).encode("utf-8")).hexdigest()


def strip_secrets(text: str, settings: Settings) -> str:
    """A source's words with every configured source secret replaced, so they can be shown verbatim."""
    for source in ("shopify", "shipbob", "easypost"):
        _, secret = settings.source_credentials(source, required=False)
        if secret and len(secret) >= 4:
            text = text.replace(secret, "[secret]")
    return text


__all__ = [
    "ORDER_EXISTS",
    "Fix",
    "FixPlan",
    "FixRequest",
    "Sent",
    "applies",
    "fingerprint",
    "stamp",
    "strip_secrets",
]
