"""When and where an order shipped, from the systems' own words (SPEC §6 "shipped at")."""

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
