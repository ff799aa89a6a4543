"""The store's fulfillment mutations (GraphQL Admin ``2026-10``), as the guided fixes call them.

- ``fulfillmentCreate(fulfillment: FulfillmentInput!)`` on one fulfillment order's lines with
  ``trackingInfo``: the world's own store fulfillment happens now (its planned time is moved to the clock),
  carrying the given tracking. ``userErrors`` when the fulfillment order is unknown, closed or on hold, or a
  line is not its own or asks for more than remains.
- ``fulfillmentTrackingInfoUpdate(fulfillmentId, trackingInfoInput, notifyCustomer)``: the fulfillment's
  tracking becomes the given one. ``userErrors`` when the fulfillment is unknown or not ``success``.

Tracking given here is kept on ``ShopState.tracking`` (fulfillment id → trackingInfo) and shown by every
GraphQL read afterwards (``with_api_changes``). Fulfillment orders are read with their ``lineItems``.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

from starlette.requests import Request

from .graphql_doc import Field
from .records.common import FO_BASE, FUL_BASE
from .records.shopify import fulfillment_orders, shop_order_bytes
from .rows import Row

if TYPE_CHECKING:
    from .server import Sim


def _number(gid: Any, kind: str) -> int | None:
    prefix = f"gid://shopify/{kind}/"
    if isinstance(gid, str) and gid.startswith(prefix) and gid[len(prefix) :].isdigit():
        return int(gid[len(prefix) :])
    return None


def _refused(field: list[str], message: str) -> dict[str, Any]:
    return {"fulfillment": None, "userErrors": [{"field": field, "message": message}]}


def _tracking(raw: Any) -> list[dict[str, Any]] | None:
    if not isinstance(raw, dict):
        return None
    numbers = raw.get("numbers") or ([raw["number"]] if raw.get("number") else [])
    if not numbers or not all(isinstance(n, str) and n.strip() for n in numbers):
        return None
    return [{"number": n, "company": raw.get("company")} for n in numbers]


def _visible_row(sim: Sim, i: int, T: int) -> Row | None:
    w = sim.world
    return w.row(i) if 0 <= i < w.shop_visible(T) else None


def fulfillment_create(sim: Sim, f: Field, T: int, request: Request) -> Any:
    with sim.shop_state.lock:
        sim.shop_state.mutations["fulfillmentCreate"] += 1
    given = f.args.get("fulfillment")
    if not isinstance(given, dict):
        return _refused(["fulfillment"], "Fulfillment is required.")
    groups = given.get("lineItemsByFulfillmentOrder")
    if not isinstance(groups, list) or len(groups) != 1 or not isinstance(groups[0], dict):
        return _refused(["fulfillment", "lineItemsByFulfillmentOrder"], "Give exactly one fulfillment order.")
    tracking = _tracking(given.get("trackingInfo"))
    if tracking is None:
        return _refused(["fulfillment", "trackingInfo"], "Tracking number can't be blank.")
    fo_id = _number(groups[0].get("fulfillmentOrderId"), "FulfillmentOrder")
    if fo_id is None or fo_id < FO_BASE:
        return _refused(
            ["fulfillment", "lineItemsByFulfillmentOrder", "0"], "Fulfillment order does not exist."
        )
    i, group = divmod(fo_id - FO_BASE, 2)
    w = sim.world
    with w.lock:
        r = _visible_row(sim, i, T)
        fo = next((o for o in fulfillment_orders(w, r, T) if o["id"] == fo_id), None) if r else None
        if r is None or fo is None or group != 0:
            return _refused(
                ["fulfillment", "lineItemsByFulfillmentOrder", "0"], "Fulfillment order does not exist."
            )
        if fo["status"] in ("closed", "on_hold"):
            return _refused(
                ["fulfillment"],
                f"Fulfillment order {fo_id} has an unfulfillable status= {fo['status']}.",
            )
        remaining = {li["id"]: li["fulfillable_quantity"] for li in fo["line_items"]}
        for n, line in enumerate(groups[0].get("fulfillmentOrderLineItems") or []):
            line_id = _number(line.get("id"), "FulfillmentOrderLineItem") if isinstance(line, dict) else None
            quantity = line.get("quantity") if isinstance(line, dict) else None
            if line_id not in remaining:
                return _refused(
                    ["fulfillment", "lineItemsByFulfillmentOrder", "0", "fulfillmentOrderLineItems", str(n)],
                    "Fulfillment order line item does not belong to the fulfillment order.",
                )
            if not isinstance(quantity, int) or not 0 < quantity <= remaining[line_id]:
                return _refused(
                    ["fulfillment", "lineItemsByFulfillmentOrder", "0", "fulfillmentOrderLineItems", str(n)],
                    "Invalid quantity: more than the fulfillment order line item has left to fulfill.",
                )
        # The world's own store fulfillment happens now; a later read shows it with the given tracking.
        plan = w.plan
        if plan["t_ful1"][i] > T:
            plan["t_ful1"][i] = T
        fid = FUL_BASE + i * 8
        sim.shop_state.tracking[fid] = tracking
        w.query_cache.clear()
    return {
        "fulfillment": {
            "id": f"gid://shopify/Fulfillment/{fid}",
            "status": "SUCCESS",
            "trackingInfo": tracking,
        },
        "userErrors": [],
    }


def tracking_update(sim: Sim, f: Field, T: int, request: Request) -> Any:
    with sim.shop_state.lock:
        sim.shop_state.mutations["fulfillmentTrackingInfoUpdate"] += 1
    fid = _number(f.args.get("fulfillmentId"), "Fulfillment")
    tracking = _tracking(f.args.get("trackingInfoInput"))
    if tracking is None:
        return _refused(["trackingInfoInput", "number"], "Tracking number can't be blank.")
    if fid is None or fid < FUL_BASE:
        return _refused(["fulfillmentId"], "Fulfillment does not exist.")
    i = (fid - FUL_BASE) // 8
    w = sim.world
    with w.lock:
        r = _visible_row(sim, i, T)
        order = json.loads(shop_order_bytes(w, r, T)) if r is not None else None
        found = next((x for x in (order or {}).get("fulfillments", []) if x["id"] == fid), None)
        if found is None:
            return _refused(["fulfillmentId"], "Fulfillment does not exist.")
        if found["status"] != "success":
            return _refused(
                ["fulfillmentId"], f"Fulfillment is {found['status']}; only a successful one can be updated."
            )
        sim.shop_state.tracking[fid] = tracking
    return {
        "fulfillment": {
            "id": f"gid://shopify/Fulfillment/{fid}",
            "status": "SUCCESS",
            "trackingInfo": tracking,
        },
        "userErrors": [],
    }


def with_api_changes(sim: Sim, order: dict[str, Any], r: Row, T: int, *, lines: bool) -> dict[str, Any]:
    """A GraphQL order with what the API changed (tracking), and (`lines`: one order read by id) its
    fulfillment orders' lines; listings leave those out, as they cost a render per order."""
    changed = sim.shop_state.tracking
    for ful in order.get("fulfillments") or []:
        fid = _number(ful.get("id"), "Fulfillment")
        if fid in changed:
            ful["trackingInfo"] = [dict(t) for t in changed[fid]]
    if not lines:
        return order
    by_order = {o["id"]: o["line_items"] for o in fulfillment_orders(sim.world, r, T)}
    for node in order.get("fulfillmentOrders", {}).get("nodes", []):
        fo_id = _number(node.get("id"), "FulfillmentOrder")
        node["lineItems"] = {
            "nodes": [
                {
                    "id": f"gid://shopify/FulfillmentOrderLineItem/{li['id']}",
                    "totalQuantity": li["quantity"],
                    "remainingQuantity": li["fulfillable_quantity"],
                    "lineItem": {"id": f"gid://shopify/LineItem/{li['line_item_id']}"},
                }
                for li in by_order.get(fo_id or 0, [])
            ]
        }
    return order


__all__ = ["fulfillment_create", "tracking_update", "with_api_changes"]
