"""Mark fulfilled in the store with the 3PL's tracking (SPEC §8): the 3PL shipped it all (`sync_delay`).

Request: Shopify `fulfillmentCreate` on the open fulfillment order's own lines, with the tracking number
of the 3PL's completed shipment. Blocked when the fulfillment order is closed or on hold, or when the 3PL
gave no tracking number.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import httpx
from sqlalchemy.engine import Connection

from checks.results import CheckResult
from checks.validations import blocked, passed
from services.fixes import shopify_target
from services.fixes.base import ORDER_EXISTS, Fix, FixRequest, Sent, stamp
from services.lookup.detail import OrderDetail
from services.settings import Settings
from services.sources.shopify.mutations import (
    FULFILLMENT_CREATE_MUTATION,
    FulfillmentOrder,
    fulfillment_create_variables,
    mutation_body,
)

USABLE = ("OPEN", "IN_PROGRESS")


def _own_line_ids(detail: OrderDetail) -> set[int]:
    vendors = set(detail.policy.third_party_vendors)
    return {li.id for li in detail.view.store.line_items if li.vendor not in vendors}


def _chosen(detail: OrderDetail, live: Mapping[str, Any]) -> FulfillmentOrder | None:
    """The fulfillment order holding the own open lines."""
    own = _own_line_ids(detail)
    for fo in live.get("fulfillment_orders") or ():
        if any(line.line_item_id in own and line.remaining > 0 for line in fo.lines):
            return fo
    return None


def _tracking(detail: OrderDetail) -> tuple[str | None, str | None]:
    """The 3PL's tracking number and carrier: its completed shipments', lowest shipment id first."""
    warehouse = detail.view.warehouse
    shipped = sorted(warehouse.completed_shipments, key=lambda s: s.id) if warehouse else []
    for s in shipped:
        if s.tracking_number:
            return s.tracking_number, s.carrier
    return None, None


class FulfillInStore(Fix):
    kind = "fulfill-in-store"
    system = "shopify"
    offered_for = "sync_delay"
    title = "Mark fulfilled in the store"
    spec_checks = (ORDER_EXISTS, "order.cancelled", "order.refunded")

    def read_live(
        self, conn: Connection, settings: Settings, detail: OrderDetail, transport: httpx.BaseTransport | None
    ) -> dict[str, Any]:
        return {
            "fulfillment_orders": shopify_target.fulfillment_orders(settings, detail.view.store.id, transport)
        }

    def own_checks(self, detail: OrderDetail, live: Mapping[str, Any]) -> list[CheckResult]:
        found: list[CheckResult] = []
        orders = live.get("fulfillment_orders")
        fo = _chosen(detail, live)
        if orders is None:
            result = blocked(
                f"The store's fulfillment orders of {detail.name} could not be read (is Shopify set up?)."
            )
        elif fo is None:
            result = blocked(f"{detail.name} has no fulfillment order with own items left to fulfill.")
        elif fo.status not in USABLE:
            result = blocked(
                f"Fulfillment order {fo.id} is {fo.status.lower().replace('_', ' ')}: it cannot be fulfilled now."
            )
        else:
            result = passed(f"Fulfillment order {fo.id} is {fo.status.lower().replace('_', ' ')}.")
        found.append(stamp("fix.fulfillment_order", result))
        number, _ = _tracking(detail)
        found.append(
            stamp(
                "fix.tracking",
                passed(f"The 3PL shipped it with tracking {number}.")
                if number
                else blocked("The 3PL's completed shipment has no tracking number to give the store."),
            )
        )
        return found

    def build_request(self, detail: OrderDetail, live: Mapping[str, Any]) -> FixRequest:
        fo = _chosen(detail, live)
        number, carrier = _tracking(detail)
        assert fo is not None and number is not None
        own = _own_line_ids(detail)
        lines = [
            (line.id, line.remaining) for line in fo.lines if line.line_item_id in own and line.remaining > 0
        ]
        body = mutation_body(
            FULFILLMENT_CREATE_MUTATION, fulfillment_create_variables(fo.id, lines, number, carrier)
        )
        target = f"fulfillment-order:{fo.id}@order:{detail.view.store.id}"
        return FixRequest("shopify", "POST", "graphql.json (fulfillmentCreate)", body, target)

    def send(self, settings: Settings, request: FixRequest, transport: httpx.BaseTransport | None) -> Sent:
        assert request.body is not None
        return Sent("sent", shopify_target.send_mutation(settings, request.body, transport))

    def landed(self, settings: Settings, request: FixRequest, transport: httpx.BaseTransport | None) -> bool:
        assert request.body is not None
        number = request.body["variables"]["fulfillment"]["trackingInfo"]["number"]
        order = shopify_target.read_order(settings, shopify_target.order_id_of(request.target), transport)
        return order is not None and any(
            f.is_success and number in f.tracking_numbers for f in order.fulfillments
        )


FIX = FulfillInStore()
