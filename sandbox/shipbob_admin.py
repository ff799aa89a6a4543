"""ShipBob API ``2026-07`` beyond reading and creating orders: order cancellation, channels, webhook
subscriptions (kept in memory on the ``Sim``), and the body-linked paging those listings share.

What clients may rely on (paths below ``SHIPBOB_API_URL``):
- ``POST /2026-07/order/{id}:cancel`` -> 200 ``{"order_id", "status", "canceled_shipment_results": [{
  "shipment_id", "action", "is_success", "reason"}], "order"}``: ``Success`` when no shipment had shipped
  (then every shipment is ``Cancelled`` from this clock on, and the store order never gets the fulfillment
  the world had planned); ``Failure`` when a shipment is already ``Completed`` or the order is already
  cancelled (nothing changes); 404 ``{"message": "Order not found"}``; 422 for a replacement order of the
  seeded world (those cannot be cancelled here);
- ``GET /2026-07/channel`` -> ``{"items": [{id, name, application_name, scopes}], "next", "prev"}``;
  orders are created on channel ``100102`` (scope ``orders_write``); ``301`` is read-only;
- ``GET /2026-07/webhook`` (``RecordsPerPage``, ``Cursor``) -> ``{"items", "next", "prev", ...}``;
  ``POST /2026-07/webhook`` ``{"url", "topics", "description"?, "secret"?}`` -> 200 with the subscription
  (``id`` a string); an unknown topic or a URL that is not https (plain http is allowed for loopback
  hosts, so local receivers work) -> 422; ``DELETE /2026-07/webhook/{id}`` -> 204 or 404;
- ``Sim.shipbob_webhooks`` holds the subscriptions (dicts as listed) for whatever sends webhooks.
"""

from __future__ import annotations

import base64
import json
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any
from urllib.parse import urlencode, urlsplit

from starlette.requests import Request
from starlette.responses import Response

from . import records
from .scenarios import NEVER, SB_ORDER_BASE

if TYPE_CHECKING:
    from .server import Sim

CHANNELS: list[dict[str, Any]] = [
    {"id": 301, "name": "Harbor Goods Shopify", "application_name": "Shopify", "scopes": ["orders_read"]},
    {
        "id": 100102,
        "name": "Harbor Goods Ops API",
        "application_name": "API",
        "scopes": ["orders_read", "orders_write", "inventory_read", "products_read", "webhooks_write"],
    },
]
TOPICS = (
    "order.shipped",
    "order.delivered",
    "order.shipment.delivered",
    "order.shipment.exception",
    "order.shipment.on_hold",
    "order.shipment.cancelled",
    "order.shipment.tracking.updated",
    "return.created",
    "return.updated",
    "return.completed",
)
# plan columns of events that follow shipping: a cancelled order never reaches them
_AFTER_SHIPPING = ("t_ship1", "t_ship2", "t_ful1", "t_ful2", "t_exc", "t_repl", "t_repl_ship")


def _json(status: int, body: Any) -> Response:
    return Response(
        json.dumps(body, separators=(",", ":")), status_code=status, media_type="application/json"
    )


def linked_page(path: str, items: list[Any], q: dict[str, str], size_param: str) -> Response:
    """A body-linked page: ``items`` and ``first``/``prev``/``next``/``last`` paths (null where there is
    none) carrying an opaque ``Cursor``, as ``2026-07`` inventory, channel and webhook listings answer."""
    raw_size, raw_cursor = q.get(size_param) or "50", q.get("Cursor") or ""
    try:
        size = int(raw_size)
        at = (
            int(base64.urlsafe_b64decode(raw_cursor.encode()).decode().removeprefix("offset:"))
            if raw_cursor
            else 0
        )
    except ValueError:
        return _json(
            400, {"title": "Bad Request", "status": 400, "detail": "PageSize or Cursor is not valid."}
        )
    if not 1 <= size <= 250 or at < 0:
        return _json(400, {"title": "Bad Request", "status": 400, "detail": f"{size_param} must be 1..250."})

    def link(offset: int) -> str:
        token = base64.urlsafe_b64encode(f"offset:{offset}".encode()).decode()
        rest = {k: v for k, v in q.items() if k != "Cursor"}
        return f"{path}?{urlencode({**rest, 'Cursor': token})}"

    last_at = max(0, (len(items) - 1) // size * size)
    return _json(
        200,
        {
            "items": items[at : at + size],
            "first": None if at == 0 else link(0),
            "prev": None if at == 0 else link(max(0, at - size)),
            "next": link(at + size) if at + size < len(items) else None,
            "last": None if at >= last_at else link(last_at),
        },
    )


def channel_refusal(header: str | None) -> tuple[int, Any] | None:
    """Why a create-order request's ``shipbob_channel_id`` header is refused, or None."""
    if not header:
        return 400, {"shipbob_channel_id": ["The shipbob_channel_id header is required."]}
    channel = next((c for c in CHANNELS if str(c["id"]) == header.strip()), None)
    if channel is None:
        return 400, {"shipbob_channel_id": [f"Channel {header} was not found."]}
    if "orders_write" not in channel["scopes"]:
        return 403, {"message": f"Channel {header} has no orders_write scope."}
    return None


async def list_channels(request: Request) -> Response:
    return linked_page("/2026-07/channel", CHANNELS, dict(request.query_params), "RecordsPerPage")


# ---------------------------------------------------------------- cancellation


def _result(order: dict[str, Any], status: str, reason: str | None) -> dict[str, Any]:
    ok = status == "Success"
    return {
        "order_id": order["id"],
        "status": status,
        "canceled_shipment_results": [
            {"shipment_id": s["id"], "action": "Cancel", "is_success": ok, "reason": reason}
            for s in order["shipments"]
        ],
        "order": order,
    }


def cancel(sim: Sim, sb_id: int, T: int) -> tuple[int, dict[str, Any]]:
    """Cancel a 3PL order at clock ``T`` (see the module docstring for the answers)."""
    w = sim.world
    with w.lock:
        raw = records.sb_record_bytes(w, sb_id, T)
        if raw is None:
            return 404, {"message": "Order not found"}
        order = json.loads(raw)
        statuses = [s["status"] for s in order["shipments"]]
        if any(s == "Completed" for s in statuses):
            return 200, _result(order, "Failure", "Shipment has already been shipped")
        if all(s == "Cancelled" for s in statuses):
            return 200, _result(order, "Failure", "Order is already cancelled")
        k = sb_id - SB_ORDER_BASE
        if 0 <= k < 2 * w.n:
            i, replacement = divmod(k, 2)
            if replacement:
                return 422, {
                    "order": [f"Order {sb_id} cannot be cancelled in this simulator (a replacement)."]
                }
            plan = w.plan
            plan["t_3pl_cancel"][i] = T
            for col in _AFTER_SHIPPING:
                if plan[col][i] > T:
                    plan[col][i] = NEVER
            w._trackers = None  # rebuilt from the plan: no tracker for a shipment that will not ship
        else:
            created = w.created_by_id(sb_id)
            assert created is not None
            created.record["cancelled_at"] = T
            for sku, quantity, wid in created.products:  # the committed stock is free again
                w.stock[sku][wid][1] = max(0, w.stock[sku][wid][1] - quantity)
        w.query_cache.clear()
        after = records.sb_record_bytes(w, sb_id, T)
        assert after is not None
        return 200, _result(json.loads(after), "Success", None)


async def cancel_order(request: Request) -> Response:
    sim: Sim = request.app.state.sim
    return _json(*cancel(sim, int(request.path_params["order_id"]), sim.now()))


# ---------------------------------------------------------------- webhook subscriptions


async def list_webhooks(request: Request) -> Response:
    sim: Sim = request.app.state.sim
    listed = [{k: v for k, v in h.items() if k != "secret"} for h in sim.shipbob_webhooks]
    return linked_page("/2026-07/webhook", listed, dict(request.query_params), "RecordsPerPage")


def _subscription_errors(body: Any) -> dict[str, list[str]]:
    if not isinstance(body, dict):
        return {"$": ["The request body must be an object."]}
    errors: dict[str, list[str]] = {}
    url = body.get("url")
    parts = urlsplit(url) if isinstance(url, str) else None
    loopback = parts is not None and parts.hostname in ("127.0.0.1", "localhost", "::1")
    if (
        parts is None
        or not parts.netloc
        or not (parts.scheme == "https" or (parts.scheme == "http" and loopback))
    ):
        errors["url"] = ["The URL must use HTTPS."]
    topics = body.get("topics")
    if not isinstance(topics, list) or not topics:
        errors["topics"] = ["At least one topic is required."]
    else:
        unknown = [t for t in topics if t not in TOPICS]
        if unknown:
            errors["topics"] = [f"Unknown topic {t!r}." for t in unknown]
    return errors


async def create_webhook(request: Request) -> Response:
    sim: Sim = request.app.state.sim
    try:
        body = json.loads(await request.body() or b"null")
    except (ValueError, UnicodeDecodeError):
        return _json(400, {"$": ["The request body is not valid JSON."]})
    errors = _subscription_errors(body)
    if errors:
        return _json(422, errors)
    hook = {
        "id": str(max((int(h["id"]) for h in sim.shipbob_webhooks), default=9000) + 1),
        "url": body["url"],
        "topics": list(dict.fromkeys(body["topics"])),
        "description": body.get("description"),
        "enabled": True,
        "created_at": datetime.fromtimestamp(sim.now(), UTC).isoformat(timespec="seconds"),
        "secret": body.get("secret"),
    }
    sim.shipbob_webhooks.append(hook)
    return _json(200, hook)


async def delete_webhook(request: Request) -> Response:
    sim: Sim = request.app.state.sim
    hook_id = request.path_params["hook_id"]
    kept = [h for h in sim.shipbob_webhooks if h["id"] != hook_id]
    if len(kept) == len(sim.shipbob_webhooks):
        return _json(404, {"message": "Webhook subscription not found"})
    sim.shipbob_webhooks[:] = kept
    return Response(status_code=204)
