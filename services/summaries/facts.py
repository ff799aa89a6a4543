"""The facts a summary is written from: one JSON-able document per order, built from an OrderDetail.

The document says what each system reports, the timeline, the category with its reason and deadline,
the discrepancies and the check results. Keys come in a fixed order and lists in a fixed sort, so the
same data always gives the same text and the same fingerprint.

Structured facts only: statuses, dates, quantities, SKUs, carriers, city/state/country, codes and the
messages our own rules write. Item titles, shipping-line titles that are not a configured method,
scan messages and free-form cancel reasons stay out. Free text typed by people (the order note,
refund notes) is kept apart under ``notes``: it passes the redactor and the prompt hands it to the
model as untrusted data.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from checks.model import OrderView, StoreOrder, Tracker, WarehouseOrder
from checks.policy import SlaPolicy
from checks.quantities import open_quantity
from checks.results import Level
from services.lookup.detail import OrderDetail

# Bump when the document's shape or the prompt changes: old cached answers then stop matching.
FACTS_VERSION = 3
LATEST_SCANS_PER_TRACKER = 3
TIMELINE_SCANS_PER_TRACKER = 5
# Shopify's cancel reasons; anything else is reported as "other" (the field is free text in some APIs).
CANCEL_REASONS = frozenset({"customer", "declined", "fraud", "inventory", "staff", "other"})
# Excluded from the fingerprint: re-reading unchanged data must not cost a new model call.
VOLATILE_KEYS = ("as_of",)


@dataclass(frozen=True)
class OrderFacts:
    """The facts document of one order and the sha256 of its canonical JSON (the cache key)."""

    order: str
    document: dict[str, Any]
    fingerprint: str


def build_facts(detail: OrderDetail) -> OrderFacts:
    """The facts of `detail`; personal data is still in it (see :mod:`services.summaries.redact`)."""
    return facts_from_document(detail.name, facts_document(detail))


def facts_from_document(order: str, document: dict[str, Any]) -> OrderFacts:
    return OrderFacts(order=order, document=document, fingerprint=fingerprint(document))


def fingerprint(document: dict[str, Any]) -> str:
    stable = {k: v for k, v in document.items() if k not in VOLATILE_KEYS}
    return hashlib.sha256(canonical_json(stable).encode("utf-8")).hexdigest()


def canonical_json(value: Any) -> str:
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def facts_document(detail: OrderDetail) -> dict[str, Any]:
    view, policy = detail.view, detail.policy
    stamp = _Stamper(policy)
    blocked = [c for c in detail.checks if c.level is Level.BLOCKED]
    return {
        "facts_version": FACTS_VERSION,
        "order": detail.name,
        "store_timezone": policy.timezone,  # the times below are in it; people read its abbreviation
        "category": {
            "name": detail.category,
            "reason": detail.classification.reason,
            "due_at": stamp(detail.due_at),
            "own_open_units": detail.classification.own_open,
            "vendor_open_units": detail.classification.vendor_open,
            "informational": detail.informational,
            "vendor_late": detail.vendor_late,
        },
        "store": _store_section(view.store, policy, stamp),
        "3pl": _warehouse_section(view, stamp),
        "carrier": [_tracker_section(t, stamp) for t in sorted(view.trackers, key=lambda t: t.tracking_code)],
        # The same list as the lookup page's Differences box: the SPEC §4 discrepancies and then the
        # other differences between the systems (services.differences).
        "discrepancies": [d.as_dict() for d in detail.differences],
        "checks": [c.as_dict() for c in detail.checks],
        "replacement_blocked_by": [c.code for c in blocked],
        "timeline": _timeline(view, stamp),
        "notes": _notes(view.store),
        "as_of": {
            "evaluated_at": stamp(detail.as_of),
            **{source: stamp(detail.sources_as_of.get(source)) for source in ("store", "3pl", "carrier")},
        },
    }


class _Stamper:
    """ISO 8601 in the store's timezone, with the offset (what operators read next to due dates)."""

    def __init__(self, policy: SlaPolicy) -> None:
        self._policy = policy

    def __call__(self, moment: datetime | None) -> str | None:
        return None if moment is None else self._policy.local(moment).isoformat()


def _store_section(order: StoreOrder, policy: SlaPolicy, stamp: _Stamper) -> dict[str, Any]:
    address = order.shipping_address
    return {
        "created_at": stamp(order.created_at),
        "financial_status": order.financial_status,
        "fulfillment_status": order.fulfillment_status,
        "cancelled_at": stamp(order.cancelled_at),
        "cancel_reason": _known(order.cancel_reason, CANCEL_REASONS),
        "shipping_method": _known(order.shipping_method, set(policy.shipping_methods)),
        "on_hold": order.on_hold,
        # City, state and country only: the street, name and phone never enter the facts.
        "ship_to": None
        if address is None
        else {"city": address.city, "province": address.province_code, "country": address.country_code},
        "items": [
            {
                "sku": item.sku,
                "vendor": item.vendor,
                "third_party": policy.is_third_party(item.vendor),
                "quantity": item.quantity,
                "open_quantity": open_quantity(order, item),
            }
            for item in sorted(order.line_items, key=lambda i: i.id)
        ],
        "fulfillments": [
            {
                "id": f.id,
                "status": f.status,
                "created_at": stamp(f.created_at),
                "tracking_company": f.tracking_company,
                "tracking_numbers": list(f.tracking_numbers),
            }
            for f in sorted(order.fulfillments, key=lambda f: (f.created_at, f.id))
        ],
        "refunds": [
            {
                "id": r.id,
                "created_at": stamp(r.created_at),
                "units": sum(line.quantity for line in r.line_items),
            }
            for r in sorted(order.refunds, key=lambda r: (r.created_at, r.id))
        ],
    }


def _warehouse_order(order: WarehouseOrder, stamp: _Stamper) -> dict[str, Any]:
    return {
        "order_id": order.id,
        "reference_id": order.reference_id,
        "status": order.status,
        "shipping_method": order.shipping_method,
        "created_at": stamp(order.created_date),
        "last_update_at": stamp(order.last_update_at),
        "warehouses": sorted({s.location_name for s in order.shipments if s.location_name}),
        "shipments": [
            {
                "id": s.id,
                "status": s.status,
                "warehouse": s.location_name,
                "carrier": s.carrier,
                "tracking_number": s.tracking_number,
                "shipped_at": stamp(s.shipped_at),
            }
            for s in sorted(order.shipments, key=lambda s: s.id)
        ],
    }


def _warehouse_section(view: OrderView, stamp: _Stamper) -> dict[str, Any]:
    return {
        "order": None if view.warehouse is None else _warehouse_order(view.warehouse, stamp),
        "replacements": [
            {"order_id": r.id, "reference_id": r.reference_id, "status": r.status}
            for r in sorted(view.replacements, key=lambda r: r.id)
        ],
    }


def _tracker_section(tracker: Tracker, stamp: _Stamper) -> dict[str, Any]:
    newest = sorted(tracker.events, key=lambda e: e.datetime, reverse=True)[:LATEST_SCANS_PER_TRACKER]
    return {
        "tracking_code": tracker.tracking_code,
        "carrier": tracker.carrier,
        "status": tracker.status,
        "status_detail": tracker.status_detail,
        "last_scan_at": stamp(tracker.last_scan_at),
        "latest_scans": [
            {"at": stamp(e.datetime), "status": e.status, "location": e.location} for e in newest
        ],
    }


_SYSTEM_ORDER = {"store": 0, "3pl": 1, "carrier": 2}


def _timeline(view: OrderView, stamp: _Stamper) -> list[dict[str, Any]]:
    events: list[tuple[datetime, str, str]] = []
    order = view.store
    events.append((order.created_at, "store", "order placed"))
    if order.cancelled_at is not None:
        reason = _known(order.cancel_reason, CANCEL_REASONS)
        why = f" ({reason})" if reason else ""
        events.append((order.cancelled_at, "store", f"order cancelled{why}"))
    for f in order.fulfillments:
        tracking = f" tracking {', '.join(f.tracking_numbers)}" if f.tracking_numbers else ""
        events.append((f.created_at, "store", f"fulfillment {f.id} {f.status}{tracking}"))
    for r in order.refunds:
        events.append(
            (r.created_at, "store", f"refund {r.id} ({sum(x.quantity for x in r.line_items)} unit(s))")
        )
    for warehouse, label in [
        (view.warehouse, "3PL order"),
        *((r, "replacement 3PL order") for r in view.replacements),
    ]:
        if warehouse is None:
            continue
        if warehouse.created_date is not None:
            events.append((warehouse.created_date, "3pl", f"{label} {warehouse.id} created"))
        for s in warehouse.shipments:
            if s.shipped_at is not None:
                tracking = f" tracking {s.tracking_number}" if s.tracking_number else ""
                events.append((s.shipped_at, "3pl", f"shipment {s.id} shipped{tracking}"))
    for tracker in view.trackers:
        scans = sorted(tracker.events, key=lambda e: e.datetime)[-TIMELINE_SCANS_PER_TRACKER:]
        for e in scans:
            words = e.status or "scan"  # the location is free text: it goes only under latest_scans
            events.append((e.datetime, "carrier", f"{tracker.tracking_code}: {words}"))
    events.sort(key=lambda e: (e[0], _SYSTEM_ORDER[e[1]], e[2]))
    return [{"at": stamp(at), "system": system, "event": text} for at, system, text in events]


def _known(value: str | None, vocabulary: set[str] | frozenset[str]) -> str | None:
    """`value` when it is one of a fixed vocabulary, else "other": free text never enters the facts."""
    if value is None or not value.strip():
        return None
    return value if value in vocabulary else "other"


def _notes(order: StoreOrder) -> list[dict[str, str]]:
    notes = [{"source": "order note", "text": order.note}] if order.note and order.note.strip() else []
    for r in sorted(order.refunds, key=lambda r: (r.created_at, r.id)):
        if r.note and r.note.strip():
            notes.append({"source": f"refund {r.id} note", "text": r.note})
    return notes
