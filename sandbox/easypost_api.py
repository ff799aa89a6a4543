"""EasyPost API v2 (trackers) served from the world, mounted under ``/easypost``.

What clients may rely on (base = ``EASYPOST_API_URL`` = ``http://127.0.0.1:<port>/easypost``):
- HTTP Basic auth with the API key as user name and an empty password; missing -> 401
  ``{"error": {"code": "APIKEY.REQUIRED", ...}}``, wrong -> 401 ``{"error": {"code": "APIKEY.INACTIVE", ...}}``;
- ``GET /v2/trackers``: newest first (``created_at`` then id); ``page_size`` (default 20, capped at 100),
  ``before_id`` (older than that tracker), ``after_id`` (newer than it: the ones closest to it, still
  newest first), ``tracking_code``, ``carrier``, ``start_datetime``/``end_datetime`` (inclusive bounds on
  ``created_at``) -> ``{"trackers": [...], "has_more": bool}`` (``has_more``: more in the direction of
  travel - older ones, or newer ones with ``after_id``);
- ``GET /v2/trackers/{id}``; unknown -> 404 ``{"error": {"code": "NOT_FOUND", ...}}``;
- ``GET /v2/webhooks`` -> ``{"webhooks": [Webhook, ...]}``; ``POST /v2/webhooks`` with
  ``{"webhook": {"url", "webhook_secret"}}`` -> 201 ``Webhook`` (``id`` ``hook_…``, ``url``, ``mode``,
  ``created_at``, ``disabled_at``; the secret is never echoed); a ``url`` that is not http(s) -> 422;
- a tracker exists for every 3PL shipment (and vendor/replacement shipment) once its label is registered,
  shortly after the shipment ships; its ``tracking_details`` are the scans up to the world clock.
"""

from __future__ import annotations

import base64
import binascii
import json
import math
from typing import TYPE_CHECKING, Any

import numpy as np
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from . import records
from .timefmt import fmt_z, parse_iso

if TYPE_CHECKING:
    from .server import Sim

REQUIRED = {
    "error": {
        "code": "APIKEY.REQUIRED",
        "message": "No API Key provided. Please visit "
        "https://www.easypost.com/account/api-keys to get your API keys.",
        "errors": [],
    }
}
INACTIVE = {
    "error": {
        "code": "APIKEY.INACTIVE",
        "message": "This api key is no longer active. Please use a different api key or reactivate this key.",
        "errors": [],
    }
}
NOT_FOUND = {
    "error": {"code": "NOT_FOUND", "message": "The requested resource could not be found.", "errors": []}
}


def auth_check(sim: Sim):
    def check(headers: dict[str, str]) -> tuple[int, Any, dict[str, str]] | None:
        auth = headers.get("authorization", "")
        if not auth.lower().startswith("basic "):
            return 401, REQUIRED, {"WWW-Authenticate": 'Basic realm="EasyPost"'}
        try:
            user = base64.b64decode(auth[6:].strip()).decode().split(":", 1)[0]
        except (binascii.Error, UnicodeDecodeError, ValueError):
            return 401, REQUIRED, {}
        if user != sim.tokens["easypost"]:
            return 401, INACTIVE, {}
        return None

    return check


def _json(status: int, body: Any) -> Response:
    return Response(
        json.dumps(body, separators=(",", ":")), status_code=status, media_type="application/json"
    )


def _bad(param: str, msg: str) -> Response:
    return _json(
        422,
        {
            "error": {
                "code": "PARAMETER.INVALID",
                "message": msg,
                "errors": [{"field": param, "message": msg}],
            }
        },
    )


async def list_trackers(request: Request) -> Response:
    sim: Sim = request.app.state.sim
    w = sim.world
    q = dict(request.query_params)
    T = sim.now()
    try:
        size = int(q.get("page_size") or 20)
    except ValueError:
        return _bad("page_size", "page_size must be an integer")
    size = max(1, min(size, 100))
    created, keys = w.tracker_table()
    lo, hi = 0, w.tracker_visible(T)  # ascending positions [lo, hi)
    for name in ("start_datetime", "end_datetime"):
        if q.get(name):
            try:
                t = parse_iso(q[name])
            except ValueError:
                return _bad(name, f"{name} must be an ISO-8601 timestamp")
            if name == "start_datetime":
                lo = max(lo, int(np.searchsorted(created, math.ceil(t), side="left")))
            else:
                hi = min(hi, int(np.searchsorted(created, math.floor(t), side="right")))
    code = q.get("tracking_code")
    carrier = q.get("carrier")
    if code:
        key = records.key_from_tracking_code(w.seed, code.strip())
        found = w.tracker_position(key) if key is not None else None
        sel = [found] if found is not None and lo <= found < hi else []
        items = [int(keys[p]) for p in sel]
        items = [k for k in items if records.code_for(w, w.row(k // 8), k % 8) == code.strip()]
        if carrier:
            items = [
                k for k in items if records.shipment_carrier(w.row(k // 8), k % 8).lower() == carrier.lower()
            ]
        return _render(sim, items, False, T)
    after = q.get("after_id")
    before = q.get("before_id")
    if before:
        kb = records.tracker_key_from_id(w.seed, before)
        pb = w.tracker_position(kb) if kb is not None else None
        if pb is None:
            return _json(404, NOT_FOUND)
        hi = min(hi, pb)
    if after:
        ka = records.tracker_key_from_id(w.seed, after)
        pa = w.tracker_position(ka) if ka is not None else None
        if pa is None:
            return _json(404, NOT_FOUND)
        lo = max(lo, pa + 1)
    if carrier:
        # carrier filter: select in Python over the candidate window (rarely used)
        pos = list(range(hi - 1, lo - 1, -1)) if not after or before else list(range(lo, hi))
        picked = []
        for p in pos:
            k = int(keys[p])
            if records.shipment_carrier(w.row(k // 8), k % 8).lower() == carrier.lower():
                picked.append(p)
                if len(picked) > size:
                    break
        more = len(picked) > size
        picked = sorted(picked[:size], reverse=True)
        return _render(sim, [int(keys[p]) for p in picked], more, T)
    if after and not before:
        # the page just newer than after_id, newest first
        sel_pos = list(range(min(hi, lo + size) - 1, lo - 1, -1))
        more = lo + size < hi
    else:
        sel_pos = list(range(hi - 1, max(lo, hi - size) - 1, -1))
        more = hi - size > lo
    return _render(sim, [int(keys[p]) for p in sel_pos], more, T)


def _render(sim: Sim, keys: list[int], more: bool, T: int) -> Response:
    w = sim.world
    rows = {r.i: r for r in w.rows(sorted({k // 8 for k in keys}))} if keys else {}
    body = (
        b'{"trackers":['
        + b",".join(records.tracker_bytes(w, k, T, rows[k // 8]) for k in keys)
        + b'],"has_more":'
        + (b"true" if more else b"false")
        + b"}"
    )
    return Response(body, media_type="application/json")


async def get_tracker(request: Request) -> Response:
    sim: Sim = request.app.state.sim
    w = sim.world
    key = records.tracker_key_from_id(w.seed, request.path_params["tracker_id"])
    T = sim.now()
    created = w.tracker_created(key) if key is not None else None
    if key is None or created is None or created > T:
        return _json(404, NOT_FOUND)
    return Response(records.tracker_bytes(w, key, T), media_type="application/json")


async def list_webhooks(request: Request) -> Response:
    sim: Sim = request.app.state.sim
    with sim.world.lock:
        hooks = [{k: v for k, v in h.items() if k != "webhook_secret"} for h in sim.easypost_webhooks]
    return _json(200, {"webhooks": hooks})


async def create_webhook(request: Request) -> Response:
    sim: Sim = request.app.state.sim
    try:
        body = json.loads(await request.body())
    except ValueError:
        return _bad("webhook", "The request body is not JSON.")
    hook = body.get("webhook") if isinstance(body, dict) else None
    url = hook.get("url") if isinstance(hook, dict) else None
    if not isinstance(url, str) or not url.startswith(("http://", "https://")):
        return _bad("webhook.url", "url must be an http(s) URL.")
    secret = hook.get("webhook_secret") if isinstance(hook, dict) else None
    with sim.world.lock:
        record = {
            "id": f"hook_{len(sim.easypost_webhooks) + 1:032x}",
            "object": "Webhook",
            "mode": "production",
            "url": url,
            "created_at": fmt_z(sim.now()),
            "disabled_at": None,
            "webhook_secret": secret if isinstance(secret, str) else None,
        }
        sim.easypost_webhooks.append(record)
    return _json(201, {k: v for k, v in record.items() if k != "webhook_secret"})


async def not_found(request: Request) -> Response:
    return _json(404, NOT_FOUND)


ROUTES = [
    Route("/v2/trackers", list_trackers, methods=["GET"]),
    Route("/v2/trackers/{tracker_id}", get_tracker, methods=["GET"]),
    Route("/v2/webhooks", list_webhooks, methods=["GET"]),
    Route("/v2/webhooks", create_webhook, methods=["POST"]),
    Route("/{rest:path}", not_found, methods=["GET", "POST", "PUT", "PATCH", "DELETE"]),
]
