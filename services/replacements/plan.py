"""Preflight and dry run: the SPEC §5 checks on live inventory, the exact 3PL request, its fingerprint.

Over 400 lines as one module because the plan, its request and its fingerprint must be built from the
same reading of the order; `execute` rebuilds it with the same code to compare.

Nothing here writes to the database except the dry run's audit entry. `assess` is shared with
`execute`, which recomputes the plan after refreshing the order and compares fingerprints.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal

import httpx
from sqlalchemy.engine import Connection
from sqlmodel import Session

from checks.join import parse_reference, replacement_reference
from checks.model import InventoryItem, OrderView
from checks.policy import SlaPolicy
from checks.results import CheckResult, Level, is_actionable
from checks.validations import CheckContext, ResendItem, default_resend_items, run_checks, validate_items
from services import audit, store
from services.errors import InputError, NotFoundError
from services.lookup.orders import find_order_id, normalize_name
from services.permissions import Actor, Permission, require
from services.replacements import records
from services.settings import Settings

InventorySource = Literal["live", "stored"]
DRY_RUN = "replacement.dry_run"
PREFLIGHT = "replacement.preflight"
REPLACEMENT_TAG = "replacement_of"
DEFAULT_SHIPPING_METHOD = "Standard"


@dataclass(frozen=True)
class Preflight:
    """The SPEC §5 checks for one order and the items to resend, and the inventory they were checked on."""

    order: str  # "#1002"
    order_id: int | None  # None: the order is not in the store data (order.exists is blocked)
    items: tuple[ResendItem, ...]  # the operator's pick, else the default (shipped own items)
    checks: tuple[CheckResult, ...]
    inventory: tuple[InventoryItem, ...]  # the stock seen for the items' SKUs, by SKU
    inventory_source: InventorySource  # "live": read from the 3PL now; "stored": no 3PL is configured
    as_of: datetime

    @property
    def actionable(self) -> bool:
        return is_actionable(self.checks)

    @property
    def blocked(self) -> tuple[CheckResult, ...]:
        return tuple(r for r in self.checks if r.level is Level.BLOCKED)


@dataclass(frozen=True)
class ReplacementPlan(Preflight):
    """A dry run: the exact ShipBob `POST /2026-07/order` body and the fingerprint `execute` must be given."""

    seq: int
    reference_id: str  # "<store order id>-R<seq>"
    payload_json: str  # canonical JSON of the request body (the plan stays immutable)
    fingerprint: str  # sha256 over the payload, the check levels and the order's relevant state

    @property
    def payload(self) -> dict[str, Any]:
        """The request body, a fresh copy on each access."""
        return dict(json.loads(self.payload_json))


@dataclass(frozen=True)
class Assessment:
    """What preflight, dry run and execute read about an order in one pass (internal)."""

    preflight: Preflight
    view: OrderView | None
    console_replacements: int
    next_seq: int


# ---------------------------------------------------------------- reading


def read_inventory(
    conn: Connection, settings: Settings, skus: Sequence[str], *, transport: httpx.BaseTransport | None = None
) -> tuple[dict[str, InventoryItem], InventorySource]:
    """Live from the 3PL when ShipBob is configured (a failure raises), else the stored copy."""
    wanted = sorted(set(skus))
    if settings.source_configured("shipbob"):
        from services.sources.shipbob.client import fetch_inventory_for_skus

        return fetch_inventory_for_skus(settings, wanted, transport=transport), "live"
    return store.load_inventory(conn, wanted), "stored"


def next_seq(conn: Connection, view: OrderView) -> int:
    """1 + the highest replacement number among the console's live records and the 3PL's `-R<n>` orders.

    `failed` records are not counted, so a retry after a failure gets the same number (and reference).
    """
    numbers = [records.highest_live_seq(conn, view.store.id)]
    numbers += [
        seq for _, seq in (parse_reference(r.reference_id) for r in view.replacements) if seq is not None
    ]
    return max(numbers) + 1


def assess(
    conn: Connection,
    settings: Settings,
    policy: SlaPolicy,
    *,
    order: str,
    items: Sequence[ResendItem] | None,
    now: datetime,
    transport: httpx.BaseTransport | None = None,
) -> Assessment:
    """Run the checks for `order` and `items` (None: the default items) on the inventory read now."""
    name = normalize_name(order)
    order_id = find_order_id(conn, name)
    views = store.load_views(conn, [order_id]) if order_id is not None else []
    view = views[0] if views else None
    picked = tuple(items) if items is not None else None
    if view is None:
        checks = run_checks(CheckContext(order_name=name, view=None, policy=policy, inventory={}))
        preflight = Preflight(name, None, picked or (), checks, (), _source(settings), now)
        return Assessment(preflight, None, 0, 1)
    resend = picked if picked is not None else default_resend_items(view, policy)
    inventory, source = read_inventory(conn, settings, [i.sku for i in resend if i.sku], transport=transport)
    # The console's records after the live stock: a replacement another operator creates meanwhile moves
    # the stock only after its reservation is recorded, so it is seen here as `replacement.exists`.
    console = records.recorded_replacements(conn, view.store.id)
    seq = next_seq(conn, view)
    checks = run_checks(
        CheckContext(
            order_name=name,
            view=view,
            policy=policy,
            inventory=inventory,
            items=picked,
            console_replacements=console,
        )
    )
    seen = tuple(inventory[sku] for sku in sorted(inventory))
    preflight = Preflight(view.store.name, view.store.id, resend, checks, seen, source, now)
    return Assessment(preflight, view, console, seq)


def _source(settings: Settings) -> InventorySource:
    return "live" if settings.source_configured("shipbob") else "stored"


# ---------------------------------------------------------------- the request and its fingerprint


def _present(values: Mapping[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in values.items() if v not in (None, "")}


def build_payload(view: OrderView, items: Sequence[ResendItem], seq: int) -> dict[str, Any]:
    """The ShipBob `2026-07` create-order body for replacement `seq` of the order (SPEC §1 reference).

    Products are summed by SKU in line order, named by their first line's title (`2026-07` requires a
    product's `name` with its `reference_id`); the order `type` is `DTC` (required); the recipient is the
    store order's shipping address; the shipping method is the store's, else the 3PL order's, else Standard.
    """
    order = view.store
    return order_body(
        view,
        items,
        reference_id=replacement_reference(order.id, seq),
        order_number=f"{order.number}-R{seq}",
        tags=[{"name": REPLACEMENT_TAG, "value": order.name}],
    )


def order_body(
    view: OrderView,
    items: Sequence[ResendItem],
    *,
    reference_id: str,
    order_number: str,
    tags: list[dict[str, str]],
) -> dict[str, Any]:
    """A ShipBob `2026-07` create-order body for `items` of the order, addressed as the store order is."""
    order = view.store
    address = order.shipping_address
    if address is None or not address.address1:
        raise InputError(f"{order.name} has no shipping address, so the 3PL order cannot be addressed.")
    quantities: dict[str, int] = {}
    names: dict[str, str] = {}
    for item in items:
        if not item.sku:
            raise InputError(
                f"{item.title} (line {item.line_item_id}) has no SKU, so the 3PL cannot pick it."
            )
        quantities[item.sku] = quantities.get(item.sku, 0) + item.quantity
        names.setdefault(item.sku, item.title or item.sku)
    method = order.shipping_method or (view.warehouse.shipping_method if view.warehouse else None)
    return {
        "reference_id": reference_id,
        "order_number": order_number,
        "shipping_method": method or DEFAULT_SHIPPING_METHOD,
        "type": "DTC",
        "recipient": _present(
            {
                "name": address.name or order.customer_name,
                "address": _present(
                    {
                        "address1": address.address1,
                        "address2": address.address2,
                        "city": address.city,
                        "state": address.province_code,
                        "country": address.country_code,
                        "zip_code": address.zip,
                    }
                ),
                "email": order.email,
                "phone_number": address.phone or order.phone,
            }
        ),
        "products": [
            {"reference_id": sku, "sku": sku, "name": names[sku], "quantity": quantity}
            for sku, quantity in quantities.items()
        ],
        "tags": tags,
    }


def order_state(view: OrderView, console_replacements: int) -> dict[str, Any]:
    """The facts the checks and the payload read; a change to any of them makes a plan stale.

    Stock counts are left out on purpose: stock moving elsewhere in the warehouse does not stale a
    plan unless it flips `inventory.available`, whose level is fingerprinted.
    """
    order, warehouse = view.store, view.warehouse
    return {
        "store": {
            "id": order.id,
            "name": order.name,
            "cancelled_at": order.cancelled_at,
            "financial_status": order.financial_status,
            "lines": [
                [li.id, li.sku, li.vendor, li.quantity, li.fulfillable_quantity] for li in order.line_items
            ],
            "fulfillments": [
                [f.id, f.status, [[q.line_item_id, q.quantity] for q in f.line_items]]
                for f in order.fulfillments
            ],
            "refunds": [[r.id, [[q.line_item_id, q.quantity] for q in r.line_items]] for r in order.refunds],
        },
        "warehouse": None
        if warehouse is None
        else {
            "id": warehouse.id,
            "status": warehouse.status,
            "shipments": [[s.id, s.status] for s in warehouse.shipments],
            "products": [[p.sku, p.quantity] for p in warehouse.products],
        },
        "replacements": sorted(r.reference_id for r in view.replacements),
        "console_replacements": console_replacements,
    }


def plan_fingerprint(
    payload: Mapping[str, Any], checks: Sequence[CheckResult], state: Mapping[str, Any]
) -> str:
    """sha256 of the canonical JSON of the payload, each check's (code, level) and the order state."""
    content = {"payload": payload, "checks": [[r.code, r.level.value] for r in checks], "order": state}
    return hashlib.sha256(audit.canonical_json(content).encode("utf-8")).hexdigest()


def make_plan(assessment: Assessment) -> ReplacementPlan:
    """The plan for an assessed order that exists and has items to resend; InputError otherwise."""
    pre, view = assessment.preflight, assessment.view
    if view is None:
        raise NotFoundError(f"No order {pre.order} in the store data.")
    if not pre.items:
        raise InputError(f"Nothing to resend for {pre.order}: choose at least one shipped item of ours.")
    payload = build_payload(view, pre.items, assessment.next_seq)
    fingerprint = plan_fingerprint(payload, pre.checks, order_state(view, assessment.console_replacements))
    return ReplacementPlan(
        order=pre.order,
        order_id=pre.order_id,
        items=pre.items,
        checks=pre.checks,
        inventory=pre.inventory,
        inventory_source=pre.inventory_source,
        as_of=pre.as_of,
        seq=assessment.next_seq,
        reference_id=str(payload["reference_id"]),
        payload_json=audit.canonical_json(payload),
        fingerprint=fingerprint,
    )


def items_param(items: Sequence[ResendItem] | None) -> list[list[Any]] | None:
    """Items as compact audit parameters: [[line id, sku, quantity], ...]."""
    return None if items is None else [[i.line_item_id, i.sku, i.quantity] for i in items]


# ---------------------------------------------------------------- the public steps


def preflight(
    session: Session,
    settings: Settings,
    policy: SlaPolicy,
    *,
    order: str,
    actor: Actor | None,
    now: datetime,
    items: Sequence[ResendItem] | None = None,
    transport: httpx.BaseTransport | None = None,
) -> Preflight:
    """The SPEC §5 checks for `order` and `items` (None: the shipped own items), on inventory read now.

    Needs the replacement dry-run permission (agent, ops, admin); a refusal raises PermissionDenied and is
    audited. Reads the 3PL's inventory live when ShipBob is configured; `inventory_source` says which.
    Writes nothing.
    """
    name = normalize_name(order)
    require(
        session,
        actor,
        Permission.REPLACEMENT_DRY_RUN,
        action=PREFLIGHT,
        order=name,
        params={"items": items_param(items)},
        clock=lambda: now,
    )
    return assess(
        session.connection(), settings, policy, order=name, items=items, now=now, transport=transport
    ).preflight


def dry_run(
    session: Session,
    settings: Settings,
    policy: SlaPolicy,
    *,
    order: str,
    actor: Actor | None,
    now: datetime,
    items: Sequence[ResendItem] | None = None,
    transport: httpx.BaseTransport | None = None,
) -> ReplacementPlan:
    """Build the exact 3PL request for a replacement of `order` without sending it.

    Same permission as `preflight`. Raises InputError for an empty item list or items that may not be
    resent (`validate_items`), NotFoundError for an unknown order. A plan whose checks block is still
    returned (`actionable` False) so the operator sees why. The only write is a `replacement.dry_run`
    audit entry in `session` (the caller commits).
    """
    name = normalize_name(order)
    params: dict[str, Any] = {"items": items_param(items)}
    require(
        session,
        actor,
        Permission.REPLACEMENT_DRY_RUN,
        action=DRY_RUN,
        order=name,
        params=params,
        clock=lambda: now,
    )
    assert actor is not None
    if items is not None and not tuple(items):
        raise InputError(f"Choose at least one item of {name} to resend.")
    assessment = assess(
        session.connection(), settings, policy, order=name, items=items, now=now, transport=transport
    )
    if assessment.view is not None and items is not None:
        try:
            validate_items(assessment.view, policy, items)
        except ValueError as exc:
            raise InputError(str(exc)) from None
    plan = make_plan(assessment)
    audit.append(
        session,
        actor=actor.username,
        role=actor.role,
        action=DRY_RUN,
        outcome=audit.Outcome.OK,
        order=plan.order,
        at=now,
        params={
            "reference_id": plan.reference_id,
            "items": items_param(plan.items),
            "fingerprint": plan.fingerprint,
            "actionable": plan.actionable,
            "blocked": [r.code for r in plan.blocked],
            "inventory_source": plan.inventory_source,
        },
    )
    return plan


__all__ = [
    "DRY_RUN",
    "PREFLIGHT",
    "Assessment",
    "InventorySource",
    "Preflight",
    "ReplacementPlan",
    "assess",
    "build_payload",
    "dry_run",
    "items_param",
    "make_plan",
    "next_seq",
    "order_body",
    "order_state",
    "plan_fingerprint",
    "preflight",
    "read_inventory",
]
