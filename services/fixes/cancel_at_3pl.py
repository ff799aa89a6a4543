"""Cancel at the 3PL (SPEC §8): the store cancelled or refunded the order, and the 3PL may still ship it.

Request: ShipBob `POST /2026-07/order/{id}:cancel`, sent once. Blocked when a shipment is already
`Completed` (then the order is `cancelled_but_shipped`, which no cancel can mend).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import httpx

from checks.results import CheckResult
from checks.validations import blocked, passed
from services.errors import SourceProtocolError
from services.fixes.base import ORDER_EXISTS, Fix, FixRequest, Sent, stamp
from services.lookup.detail import OrderDetail
from services.settings import Settings

CALL = "POST /2026-07/order/{id}:cancel"


def _target(request: FixRequest) -> tuple[int, str]:
    """(3PL order id, its reference) from the request's target `3pl-order:<id>@<reference>`."""
    order_id, reference = request.target.removeprefix("3pl-order:").split("@", 1)
    return int(order_id), reference


class CancelAt3pl(Fix):
    kind = "cancel-at-3pl"
    system = "shipbob"
    offered_for = "cancelled_not_stopped"
    title = "Cancel at the 3PL"
    spec_checks = (ORDER_EXISTS,)

    def own_checks(self, detail: OrderDetail, live: Mapping[str, Any]) -> list[CheckResult]:
        warehouse = detail.view.warehouse
        if warehouse is None:
            return [stamp("fix.shipped", blocked(f"{detail.name} has no 3PL order to cancel."))]
        done = warehouse.completed_shipments
        if done:
            ids = ", ".join(str(s.id) for s in done)
            return [
                stamp(
                    "fix.shipped",
                    blocked(
                        f"3PL order {warehouse.id} already shipped (shipment {ids}): it is cancelled_but_shipped, "
                        "which a cancel cannot undo."
                    ),
                )
            ]
        return [stamp("fix.shipped", passed(f"Nothing of 3PL order {warehouse.id} has shipped yet."))]

    def build_request(self, detail: OrderDetail, live: Mapping[str, Any]) -> FixRequest:
        warehouse = detail.view.warehouse
        assert warehouse is not None
        return FixRequest(
            "shipbob",
            "POST",
            f"/2026-07/order/{warehouse.id}:cancel",
            None,
            f"3pl-order:{warehouse.id}@{warehouse.reference_id}",
        )

    def send(self, settings: Settings, request: FixRequest, transport: httpx.BaseTransport | None) -> Sent:
        from services.sources.shipbob.client import ShipBobClient

        order_id, _ = _target(request)
        with ShipBobClient(settings, transport=transport) as client:
            result = client.cancel_order(order_id)
        reply = {"status": result.status, "shipments": [list(s) for s in result.shipments]}
        if result.status == "Success":
            return Sent("sent", reply)
        reasons = "; ".join(r for _, ok, r in result.shipments if not ok and r) or result.status
        if "already cancelled" in reasons.lower():
            return Sent("already_done", reply)
        raise SourceProtocolError(
            f"ShipBob did not cancel order {order_id}: {reasons}", source="shipbob", call=CALL
        )

    def landed(self, settings: Settings, request: FixRequest, transport: httpx.BaseTransport | None) -> bool:
        from services.sources.shipbob.client import ShipBobClient

        order_id, reference = _target(request)
        with ShipBobClient(settings, transport=transport) as client:
            found = [o for o in client.orders_by_reference([reference]) if o.id == order_id]
        return bool(found) and all(s.status == "Cancelled" for s in found[0].shipments)


FIX = CancelAt3pl()
