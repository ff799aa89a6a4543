"""Send a missing order to the 3PL (SPEC §8): the order is open and the 3PL never received it.

Request: ShipBob `POST /2026-07/order` with `reference_id` = the store order id, for the own open items.
Blocked when a 3PL order now exists, when the order is not `overdue`/`pending`, or when the 3PL's stock of
an own open item is short (read live, as SPEC §5 does). ShipBob refuses a second order with the same
reference (422), so a request that got through earlier is found, never duplicated.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import httpx
from sqlalchemy.engine import Connection

from checks.model import InventoryItem
from checks.results import CheckResult
from checks.validations import ResendItem, blocked, passed
from services.fixes.base import ORDER_EXISTS, Fix, FixRequest, Sent, stamp
from services.lookup.detail import OrderDetail
from services.replacements.plan import order_body, read_inventory
from services.settings import Settings

SENT_TAG = "sent_by_order_recon"


def open_items(detail: OrderDetail) -> tuple[ResendItem, ...]:
    """The own line items still open in the store, with their open quantities."""
    vendors = set(detail.policy.third_party_vendors)
    return tuple(
        ResendItem(li.id, li.sku, li.title, li.fulfillable_quantity or 0)
        for li in detail.view.store.line_items
        if li.vendor not in vendors and (li.fulfillable_quantity or 0) > 0
    )


class SendTo3pl(Fix):
    kind = "send-to-3pl"
    system = "shipbob"
    offered_for = "missing_at_3pl"
    title = "Send to the 3PL"
    spec_checks = (ORDER_EXISTS, "order.cancelled", "order.refunded")

    def read_live(
        self, conn: Connection, settings: Settings, detail: OrderDetail, transport: httpx.BaseTransport | None
    ) -> dict[str, Any]:
        """The 3PL's stock of the own open SKUs: live when ShipBob is configured, else the stored copy."""
        skus = [i.sku for i in open_items(detail) if i.sku]
        if not skus:
            return {"inventory": {}}
        inventory, source = read_inventory(conn, settings, skus, transport=transport)
        return {"inventory": inventory, "inventory_source": source}

    def own_checks(self, detail: OrderDetail, live: Mapping[str, Any]) -> list[CheckResult]:
        found: list[CheckResult] = []
        warehouse = detail.view.warehouse
        found.append(
            stamp(
                "fix.at_3pl",
                blocked(f"The 3PL has order {warehouse.id} for {detail.name} now: there is nothing to send.")
                if warehouse is not None
                else passed(f"The 3PL has no order for {detail.name}."),
            )
        )
        found.append(
            stamp(
                "fix.category",
                passed(f"{detail.name} is {detail.category}.")
                if detail.category in ("overdue", "pending")
                else blocked(
                    f"{detail.name} is {detail.category}, not overdue or pending: it is not the 3PL's to ship."
                ),
            )
        )
        items = open_items(detail)
        stock: Mapping[str, InventoryItem] = live.get("inventory", {})
        short = []
        for i in items:
            have = stock[i.sku].total_fulfillable_quantity if i.sku and i.sku in stock else 0
            if have < i.quantity:
                short.append(f"{i.sku or i.title} (needs {i.quantity}, has {have})")
        if not items:
            found.append(stamp("fix.inventory", blocked(f"{detail.name} has no own open item to send.")))
        elif short:
            found.append(stamp("fix.inventory", blocked(f"The 3PL's stock is short: {', '.join(short)}.")))
        else:
            found.append(stamp("fix.inventory", passed("The 3PL has stock for every own open item.")))
        return found

    def build_request(self, detail: OrderDetail, live: Mapping[str, Any]) -> FixRequest:
        order = detail.view.store
        body = order_body(
            detail.view,
            open_items(detail),
            reference_id=str(order.id),
            order_number=order.number,
            tags=[{"name": SENT_TAG, "value": order.name}],
        )
        return FixRequest("shipbob", "POST", "/2026-07/order", body, f"store-order:{order.id}")

    def send(self, settings: Settings, request: FixRequest, transport: httpx.BaseTransport | None) -> Sent:
        from services.sources.shipbob.client import DuplicateReference, ShipBobClient

        assert request.body is not None
        with ShipBobClient(settings, transport=transport) as client:
            try:
                created = client.create_order(request.body)
            except DuplicateReference:  # an earlier request got through: the order is there
                return Sent("already_done")
        return Sent("sent", {"id": created.get("id")})

    def landed(self, settings: Settings, request: FixRequest, transport: httpx.BaseTransport | None) -> bool:
        from services.sources.shipbob.client import ShipBobClient

        assert request.body is not None
        reference = str(request.body["reference_id"])
        with ShipBobClient(settings, transport=transport) as client:
            return any(o.reference_id == reference for o in client.orders_by_reference([reference]))


FIX = SendTo3pl()
