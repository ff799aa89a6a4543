"""When and where an order shipped, from the systems' own words (SPEC §6 "shipped at", §9 stages)."""

from __future__ import annotations

from datetime import datetime

from checks.model import OrderView


def shipped_at(view: OrderView) -> datetime | None:
    """The 3PL's word first: the latest shipping date (else fulfillment date) of the matched 3PL
    order's Completed shipments; where it has none, the latest successful store fulfillment."""
    if view.warehouse is not None:
        moments = [s.shipped_at for s in view.warehouse.completed_shipments if s.shipped_at is not None]
        if moments:
            return max(moments)
    store = [f.created_at for f in view.store.fulfillments if f.is_success]
    return max(store) if store else None


def warehouse_name(view: OrderView) -> str | None:
    if view.warehouse is None:
        return None
    return next((s.location_name for s in view.warehouse.shipments if s.location_name), None)


def carrier_name(view: OrderView) -> str | None:
    for tracker in view.trackers:
        if tracker.carrier:
            return tracker.carrier
    if view.warehouse is not None:
        for shipment in view.warehouse.shipments:
            if shipment.carrier:
                return shipment.carrier
    return next((f.tracking_company for f in view.store.fulfillments if f.tracking_company), None)


def handed_over_at(view: OrderView) -> datetime | None:
    """SPEC §9 handoff's end: the matched 3PL order's `created_date` (replacements are not the hand-over)."""
    return view.warehouse.created_date if view.warehouse is not None else None


def first_scan_at(view: OrderView) -> datetime | None:
    """SPEC §9 first scan: the oldest carrier scan of the order's linked trackers, None before any."""
    return min((t for t in (k.first_scan_at for k in view.trackers) if t is not None), default=None)
