"""Turn the `small-store` sample (SPEC §1 snapshot layout) into domain records, for the rule tests.

A deliberately small loader, independent of the connectors, so the rules are checked against the
sample's expected answers on their own. It joins orders by SPEC §1.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

from checks.categories import Classification, classify
from checks.metrics import MetricRow
from checks.model import (
    Address,
    Fulfillment,
    InventoryItem,
    LineItem,
    LineQuantity,
    OrderView,
    Refund,
    Shipment,
    StoreOrder,
    Tracker,
    TrackingEvent,
    WarehouseOrder,
    WarehouseProduct,
)
from checks.policy import SlaPolicy, load_policy

_HERE = Path(__file__).resolve()
_CANDIDATES = (
    _HERE.parents[3] / "shared" / "samples" / "small-store",  # CI lays shared/ beside the clone
    _HERE.parents[1] / "fixtures" / "samples" / "small-store",
)
SMALL_STORE = next((p for p in _CANDIDATES if p.is_dir()), _CANDIDATES[-1])


def _ts(value: str | None) -> datetime | None:
    return None if value is None else datetime.fromisoformat(value).astimezone(UTC)


def _required_ts(value: str) -> datetime:
    moment = _ts(value)
    assert moment is not None
    return moment


def _lines(raw: list[dict[str, Any]]) -> tuple[LineQuantity, ...]:
    return tuple(LineQuantity(int(li["id"]), int(li["quantity"])) for li in raw)


def parse_store_order(raw: dict[str, Any]) -> StoreOrder:
    fulfillments = tuple(
        Fulfillment(
            id=int(f["id"]),
            status=f["status"],
            created_at=_required_ts(f["created_at"]),
            tracking_numbers=tuple(
                f.get("tracking_numbers") or ([f["tracking_number"]] if f.get("tracking_number") else [])
            ),
            tracking_company=f.get("tracking_company"),
            line_items=_lines(f.get("line_items", [])),
        )
        for f in raw.get("fulfillments", [])
    )
    refunds = tuple(
        Refund(
            id=int(r["id"]),
            created_at=_required_ts(r["created_at"]),
            line_items=tuple(
                LineQuantity(int(rli["line_item_id"]), int(rli["quantity"]))
                for rli in r.get("refund_line_items", [])
            ),
            note=r.get("note"),
        )
        for r in raw.get("refunds", [])
    )
    address = raw.get("shipping_address") or {}
    shipping_lines = raw.get("shipping_lines") or []
    return StoreOrder(
        id=int(raw["id"]),
        name=raw["name"],
        created_at=_required_ts(raw["created_at"]),
        updated_at=_required_ts(raw["updated_at"]),
        financial_status=raw.get("financial_status"),
        fulfillment_status=raw.get("fulfillment_status"),
        line_items=tuple(
            LineItem(
                id=int(li["id"]),
                sku=li.get("sku") or None,
                title=li["title"],
                vendor=li.get("vendor"),
                quantity=int(li["quantity"]),
                fulfillable_quantity=li.get("fulfillable_quantity"),
                price=li.get("price"),
            )
            for li in raw["line_items"]
        ),
        cancelled_at=_ts(raw.get("cancelled_at")),
        cancel_reason=raw.get("cancel_reason"),
        shipping_method=shipping_lines[0]["title"] if shipping_lines else None,
        fulfillments=fulfillments,
        refunds=refunds,
        email=raw.get("email"),
        shipping_address=Address(
            name=address.get("name"), city=address.get("city"), country_code=address.get("country_code")
        ),
    )


def parse_warehouse_order(raw: dict[str, Any]) -> WarehouseOrder:
    shipments = []
    for s in raw.get("shipments", []):
        tracking = s.get("tracking") or {}
        shipments.append(
            Shipment(
                id=int(s["id"]),
                status=s["status"],
                location_name=(s.get("location") or {}).get("name"),
                tracking_number=tracking.get("tracking_number"),
                carrier=tracking.get("carrier"),
                shipping_date=_ts(tracking.get("shipping_date")),
                actual_fulfillment_date=_ts(s.get("actual_fulfillment_date")),
                created_date=_ts(s.get("created_date")),
                last_update_at=_ts(s.get("last_update_at")),
                ship_option=s.get("ship_option"),
            )
        )
    return WarehouseOrder(
        id=int(raw["id"]),
        reference_id=str(raw["reference_id"]),
        order_number=raw.get("order_number"),
        status=raw.get("status"),
        created_date=_ts(raw.get("created_date")),
        shipping_method=raw.get("shipping_method"),
        products=tuple(
            WarehouseProduct(p.get("sku"), int(p["quantity"]), p.get("reference_id"))
            for p in raw.get("products", [])
        ),
        shipments=tuple(shipments),
    )


def parse_tracker(raw: dict[str, Any]) -> Tracker:
    return Tracker(
        id=raw["id"],
        tracking_code=raw["tracking_code"],
        status=raw["status"],
        status_detail=raw.get("status_detail"),
        carrier=raw.get("carrier"),
        created_at=_ts(raw.get("created_at")),
        updated_at=_ts(raw.get("updated_at")),
        events=tuple(
            TrackingEvent(
                _required_ts(e["datetime"]), e.get("status"), e.get("message"), e.get("status_detail")
            )
            for e in raw.get("tracking_details", [])
        ),
    )


def parse_inventory_item(raw: dict[str, Any]) -> InventoryItem:
    return InventoryItem(
        sku=raw["sku"],
        total_fulfillable_quantity=int(raw["total_fulfillable_quantity"]),
        by_fulfillment_center=tuple(
            (fc["name"], int(fc["fulfillable_quantity"]))
            for fc in raw.get("fulfillable_quantity_by_fulfillment_center", [])
        ),
        name=raw.get("name"),
        inventory_id=raw.get("id"),
    )


def join(
    orders: list[StoreOrder], warehouse: list[WarehouseOrder], trackers: list[Tracker]
) -> dict[str, OrderView]:
    """SPEC §1: reference_id == str(order.id), else order_number == name without '#'; `<id>-R<n>` replaces."""
    replacement = re.compile(r"^(\d+)-R\d+$")
    views: dict[str, OrderView] = {}
    for order in orders:
        matched = next((w for w in warehouse if w.reference_id == str(order.id)), None)
        if matched is None:
            matched = next(
                (
                    w
                    for w in warehouse
                    if not replacement.match(w.reference_id) and w.order_number == order.number
                ),
                None,
            )
        replacements = tuple(
            w for w in warehouse if (m := replacement.match(w.reference_id)) and m.group(1) == str(order.id)
        )
        codes = {n for f in order.fulfillments for n in f.tracking_numbers}
        if matched is not None:
            codes |= matched.tracking_numbers
        linked = tuple(t for t in trackers if t.tracking_code in codes)
        views[order.name] = OrderView(order, matched, replacements, linked)
    return views


def shipped_at(view: OrderView) -> datetime | None:
    """SPEC §6 shipped at: latest Completed 3PL shipment date, else latest successful store fulfillment."""
    if view.warehouse is not None:
        dates = [s.shipped_at for s in view.warehouse.completed_shipments if s.shipped_at is not None]
        if dates:
            return max(dates)
    store = [f.created_at for f in view.store.fulfillments if f.is_success]
    return max(store) if store else None


def metric_row(view: OrderView, classification: Classification, policy: SlaPolicy) -> MetricRow:
    completed = view.warehouse.completed_shipments if view.warehouse is not None else ()
    return MetricRow(
        order_name=view.store.name,
        due_day=classification.due_day,
        due_at=policy.due_at(classification.due_day),
        base_category=classification.base_category,
        shipped_at=shipped_at(view),
        warehouse=completed[0].location_name if completed else None,
        shipping_method=view.store.shipping_method,
        carrier=completed[0].carrier if completed else None,
        created_at=view.store.created_at,
    )


@dataclass(frozen=True)
class Sample:
    policy: SlaPolicy
    views: dict[str, OrderView]
    inventory: dict[str, InventoryItem]
    expected: dict[str, Any]

    @property
    def as_of(self) -> datetime:
        return _required_ts(self.expected["as_of"])

    @property
    def period(self) -> tuple[date, date]:
        start, end = self.expected["metrics_period"]
        return date.fromisoformat(start), date.fromisoformat(end)

    def classification(self, name: str) -> Classification:
        return classify(self.views[name], self.policy)


def load_sample(directory: Path = SMALL_STORE) -> Sample:
    def read(relative: str) -> Any:
        with (directory / relative).open(encoding="utf-8") as handle:
            return json.load(handle)

    orders = [parse_store_order(o) for o in read("shopify/orders.json")["orders"]]
    warehouse = [parse_warehouse_order(o) for o in read("shipbob/orders.json")]
    trackers = [parse_tracker(t) for t in read("easypost/trackers.json")["trackers"]]
    inventory = {i.sku: i for i in (parse_inventory_item(raw) for raw in read("shipbob/inventory.json"))}
    return Sample(
        policy=load_policy(directory / "sla.toml"),
        views=join(orders, warehouse, trackers),
        inventory=inventory,
        expected=read("expected.json"),
    )
