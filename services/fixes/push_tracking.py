"""Give the store the 3PL's tracking (SPEC §8): the store and the 3PL disagree (`tracking_mismatch`).

Request: Shopify `fulfillmentTrackingInfoUpdate` on the store fulfillment whose tracking the 3PL does not
know, with the 3PL's tracking number. Blocked when that fulfillment is not `success`.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import httpx

from checks.model import Fulfillment, Shipment
from checks.results import CheckResult
from checks.validations import blocked, passed
from services.fixes import shopify_target
from services.fixes.base import ORDER_EXISTS, Fix, FixRequest, Sent, stamp
from services.lookup.detail import OrderDetail
from services.settings import Settings
from services.sources.shopify.mutations import (
    TRACKING_UPDATE_MUTATION,
    mutation_body,
    tracking_update_variables,
)


def _pair(detail: OrderDetail) -> tuple[Fulfillment | None, Shipment | None]:
    """The store fulfillment with a number the 3PL does not know, and the 3PL shipment the store lacks."""
    store = detail.view.store
    warehouse = detail.view.warehouse
    theirs = warehouse.tracking_numbers if warehouse else frozenset()
    ours = store.tracking_numbers
    fulfillment = next(
        (f for f in store.fulfillments if f.tracking_numbers and not set(f.tracking_numbers) & theirs), None
    )
    shipments = sorted(warehouse.shipments, key=lambda s: s.id) if warehouse else []
    shipment = next((s for s in shipments if s.tracking_number and s.tracking_number not in ours), None)
    return fulfillment, shipment


class PushTracking(Fix):
    kind = "push-tracking"
    system = "shopify"
    offered_for = "tracking_mismatch"
    title = "Give the store the 3PL's tracking"
    spec_checks = (ORDER_EXISTS, "order.cancelled")

    def own_checks(self, detail: OrderDetail, live: Mapping[str, Any]) -> list[CheckResult]:
        fulfillment, shipment = _pair(detail)
        if fulfillment is None:
            result = blocked(f"{detail.name} has no store fulfillment whose tracking differs from the 3PL's.")
        elif fulfillment.status != "success":
            result = blocked(
                f"Store fulfillment {fulfillment.id} is {fulfillment.status}, not success: it cannot be updated."
            )
        else:
            result = passed(f"Store fulfillment {fulfillment.id} is success.")
        tracking = (
            passed(f"The 3PL's tracking is {shipment.tracking_number}.")
            if shipment is not None
            else blocked("The 3PL has no tracking number the store lacks.")
        )
        return [stamp("fix.fulfillment", result), stamp("fix.tracking", tracking)]

    def build_request(self, detail: OrderDetail, live: Mapping[str, Any]) -> FixRequest:
        fulfillment, shipment = _pair(detail)
        assert fulfillment is not None and shipment is not None and shipment.tracking_number
        variables = tracking_update_variables(fulfillment.id, shipment.tracking_number, shipment.carrier)
        body = mutation_body(TRACKING_UPDATE_MUTATION, variables)
        target = f"fulfillment:{fulfillment.id}:{shipment.tracking_number}@order:{detail.view.store.id}"
        return FixRequest("shopify", "POST", "graphql.json (fulfillmentTrackingInfoUpdate)", body, target)

    def send(self, settings: Settings, request: FixRequest, transport: httpx.BaseTransport | None) -> Sent:
        assert request.body is not None
        return Sent("sent", shopify_target.send_mutation(settings, request.body, transport))

    def landed(self, settings: Settings, request: FixRequest, transport: httpx.BaseTransport | None) -> bool:
        assert request.body is not None
        variables = request.body["variables"]
        number = variables["trackingInfoInput"]["number"]
        fulfillment_id = int(str(variables["fulfillmentId"]).rsplit("/", 1)[1])
        order = shopify_target.read_order(settings, shopify_target.order_id_of(request.target), transport)
        return order is not None and any(
            f.id == fulfillment_id and number in f.tracking_numbers for f in order.fulfillments
        )


FIX = PushTracking()
