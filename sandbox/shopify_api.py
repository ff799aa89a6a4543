"""Shopify Admin REST API 2024-10 (orders) served from the world, mounted under ``/shopify``.

What clients may rely on (base = ``SHOPIFY_SHOP_URL`` = ``http://127.0.0.1:<port>/shopify``):
- auth header ``X-Shopify-Access-Token``; a wrong/missing token -> 401
  ``{"errors": "[API] Invalid API key or access token (unrecognized login or wrong password)"}``;
- every response carries ``X-Shopify-Shop-Api-Call-Limit: n/40`` from a leaky bucket (capacity 40, leaks
  2/s, both configurable); a request that finds the bucket full gets 429 with ``Retry-After`` (seconds
  until there is room) and Shopify's throttling body;
- ``GET /admin/api/2024-10/orders.json``: ``status`` (open [default] | closed | cancelled | any), ``limit``
  (default 50, capped at 250), ``ids``, ``name``, ``since_id``, ``created_at_min/max``,
  ``updated_at_min/max``, ``financial_status``, ``fulfillment_status``; ``fields`` is accepted and ignored.
  Orders come sorted by id ascending. Cursor pagination: ``Link: <...page_info=X>; rel="next"`` (and
  ``rel="previous"`` from the second page on); a request with ``page_info`` may only add ``limit`` and
  ``fields`` (anything else -> 400 like Shopify). Invalid values -> 400 ``{"errors": {param: message}}``;
- ``GET /admin/api/2024-10/orders/count.json`` -> ``{"count": n}`` (same filters);
- ``GET /admin/api/2024-10/orders/{id}.json`` -> ``{"order": {...}}``; unknown/not yet placed -> 404
  ``{"errors": "Not Found"}``;
- ``GET /admin/api/2024-10/orders/{id}/fulfillment_orders.json`` -> ``{"fulfillment_orders": [...]}``;
- ``POST /admin/api/2024-10/graphql.json``: the GraphQL Admin API, for the one query order-recon sends
  (``nodes(ids: $ids) { ... on Order { legacyResourceId fulfillmentOrders(first: N) { nodes { status }
  pageInfo { hasNextPage } } } }``); anything else gets a GraphQL error naming what is served. Limited
  by calculated query cost as Shopify does: each order costs 1 + (2 + N) + 1 points requested, a query
  may request at most 1000, the bucket (2000 points restoring 100/s: the Standard plan) must hold the
  requested cost, and the difference to the actual cost is refunded. A query the bucket cannot take
  gets HTTP 200 with ``errors[0].extensions.code == "THROTTLED"``; every reply carries
  ``extensions.cost`` with the ``throttleStatus``.
"""

from __future__ import annotations

import base64
import binascii
import json
import math
import re
import threading
import time
from typing import TYPE_CHECKING, Any
from urllib.parse import urlencode

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from . import records
from .timefmt import parse_iso
from .world import index_of_order_id, order_id

if TYPE_CHECKING:
    from .server import Sim

API = "/admin/api/2024-10"
UNAUTHORIZED = {"errors": "[API] Invalid API key or access token (unrecognized login or wrong password)"}
NOT_FOUND = {"errors": "Not Found"}
THROTTLED = {
    "errors": "Exceeded 2 calls per second for api client. Reduce request rates to resume uninterrupted service."
}
FILTER_PARAMS = (
    "status",
    "ids",
    "name",
    "since_id",
    "created_at_min",
    "created_at_max",
    "updated_at_min",
    "updated_at_max",
    "financial_status",
    "fulfillment_status",
    "processed_at_min",
    "processed_at_max",
    "attribution_app_id",
)
STATUSES = ("open", "closed", "cancelled", "any")


class LeakyBucket:
    """Shopify's call-limit bucket: ``capacity`` requests, leaking ``leak_per_s`` per second (real time)."""

    def __init__(self, capacity: int = 40, leak_per_s: float = 2.0) -> None:
        self.capacity = capacity
        self.leak_per_s = leak_per_s
        self.level = 0.0
        self.last = time.monotonic()
        self._lock = threading.Lock()

    def take(self) -> tuple[bool, int, float]:
        """(allowed, level to report, seconds until one call fits)."""
        with self._lock:
            now = time.monotonic()
            if self.leak_per_s > 0:
                self.level = max(0.0, self.level - (now - self.last) * self.leak_per_s)
            self.last = now
            if self.leak_per_s <= 0 and self.capacity <= 0:
                return True, 1, 0.0
            if self.level + 1 > self.capacity:
                wait = (self.level + 1 - self.capacity) / self.leak_per_s if self.leak_per_s > 0 else 60.0
                return False, self.capacity, wait
            self.level += 1
            return True, max(1, math.ceil(self.level - 1e-9)), 0.0

    def configure(self, capacity: int | None = None, leak_per_s: float | None = None) -> None:
        with self._lock:
            if capacity is not None:
                self.capacity = int(capacity)
            if leak_per_s is not None:
                self.leak_per_s = float(leak_per_s)
            # A reconfigured bucket starts empty, as for a new app: what earlier calls filled under
            # the old size must not turn the first call under the new one into a 429.
            self.level = 0.0
            self.last = time.monotonic()
            self.level = min(self.level, float(self.capacity))


class CostBucket:
    """The GraphQL Admin API's calculated-cost bucket: ``capacity`` points, restoring ``restore_per_s``."""

    def __init__(self, capacity: float = 2000.0, restore_per_s: float = 100.0) -> None:
        self.capacity, self.restore_per_s = float(capacity), float(restore_per_s)
        self.available = self.capacity
        self.last = time.monotonic()
        self._lock = threading.Lock()

    def _restore(self) -> None:
        now = time.monotonic()
        self.available = min(self.capacity, self.available + (now - self.last) * self.restore_per_s)
        self.last = now

    def take(self, requested: float) -> bool:
        with self._lock:
            self._restore()
            if requested > self.available:
                return False
            self.available -= requested
            return True

    def refund(self, points: float) -> None:
        with self._lock:
            self.available = min(self.capacity, self.available + points)

    def status(self) -> dict[str, float]:
        with self._lock:
            self._restore()
            return {
                "maximumAvailable": self.capacity,
                "currentlyAvailable": round(self.available, 1),
                "restoreRate": self.restore_per_s,
            }

    def configure(self, capacity: float | None = None, restore_per_s: float | None = None) -> None:
        with self._lock:
            if capacity is not None:
                self.capacity = float(capacity)
            if restore_per_s is not None:
                self.restore_per_s = float(restore_per_s)
            self.available, self.last = self.capacity, time.monotonic()


def auth_check(sim: Sim):
    def check(headers: dict[str, str]) -> tuple[int, Any, dict[str, str]] | None:
        if headers.get("x-shopify-access-token") != sim.tokens["shopify"]:
            return 401, UNAUTHORIZED, {}
        return None

    return check


def _json(status: int, body: Any, headers: dict[str, str]) -> Response:
    return Response(
        json.dumps(body, separators=(",", ":")),
        status_code=status,
        media_type="application/json",
        headers=headers,
    )


def _throttle(request: Request) -> tuple[Response | None, dict[str, str]]:
    sim: Sim = request.app.state.sim
    ok, level, wait = sim.bucket.take()
    headers = {
        "X-Shopify-Shop-Api-Call-Limit": f"{level}/{sim.bucket.capacity}",
        "X-Shopify-API-Version": "2024-10",
    }
    if not ok:
        headers["Retry-After"] = f"{max(wait, 0.01):.2f}"
        return _json(429, THROTTLED, headers), headers
    return None, headers


class BadParam(Exception):
    def __init__(self, param: str, message: str) -> None:
        super().__init__(message)
        self.param = param
        self.message = message


def _time_param(q: dict[str, str], name: str) -> float | None:
    v = q.get(name)
    if v is None or v == "":
        return None
    try:
        return parse_iso(v)
    except ValueError:
        raise BadParam(name, f"{name} is not a valid ISO-8601 timestamp: {v!r}") from None


def parse_filters(q: dict[str, str], n: int) -> dict[str, Any]:
    """Validated filter dict (JSON-serialisable) from query parameters."""
    f: dict[str, Any] = {}
    status = q.get("status", "open") or "open"
    if status not in STATUSES:
        raise BadParam("status", f"status must be one of {', '.join(STATUSES)}")
    f["status"] = status
    for name in ("created_at_min", "created_at_max", "updated_at_min", "updated_at_max"):
        t = _time_param(q, name)
        if t is not None:
            # updated_at_min is inclusive to the second
            f[name] = math.ceil(t) if name.endswith("_min") else math.floor(t)
    if q.get("since_id"):
        try:
            f["since_id"] = int(q["since_id"])
        except ValueError:
            raise BadParam("since_id", "since_id must be an integer") from None
    idx: set[int] | None = None
    if q.get("ids"):
        idx = set()
        for part in q["ids"].split(","):
            part = part.strip()
            if not part:
                continue
            try:
                i = index_of_order_id(int(part), n)
            except ValueError:
                raise BadParam("ids", "ids must be a comma-separated list of integers") from None
            if i is not None:
                idx.add(i)
    if q.get("name"):
        nm = q["name"].strip().lstrip("#")
        i = int(nm) - 2001 if nm.isdigit() else -1
        one = {i} if 0 <= i < n else set()
        idx = one if idx is None else idx & one
    if idx is not None:
        f["idx"] = sorted(idx)
    for name in ("financial_status", "fulfillment_status"):
        if q.get(name):
            f[name] = q[name]
    return f


def _encode_cursor(d: dict[str, Any]) -> str:
    return base64.urlsafe_b64encode(json.dumps(d, separators=(",", ":")).encode()).decode().rstrip("=")


def _decode_cursor(tok: str) -> dict[str, Any]:
    try:
        raw = base64.urlsafe_b64decode(tok + "=" * (-len(tok) % 4))
        d = json.loads(raw)
        if not isinstance(d, dict) or d.get("d") not in ("n", "p") or not isinstance(d.get("i"), int):
            raise ValueError
        return d
    except (ValueError, binascii.Error, UnicodeDecodeError):
        raise BadParam("page_info", "Invalid value.") from None


def _base(request: Request) -> str:
    path = request.url.path
    root = path[: path.index("/admin/api/")] if "/admin/api/" in path else ""
    return f"{request.url.scheme}://{request.url.netloc}{root}"


def _limit(q: dict[str, str]) -> int:
    v = q.get("limit")
    if v is None or v == "":
        return 50
    try:
        lim = int(v)
    except ValueError:
        raise BadParam("limit", "limit must be an integer") from None
    if lim < 1:
        raise BadParam("limit", "limit must be at least 1")
    return min(lim, 250)


def _mask_filters(f: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in f.items() if k != "idx"}


def _indices(sim: Sim, f: dict[str, Any], T: int, start: int, limit: int, backward: bool) -> list[int]:
    w = sim.world
    if "idx" in f:
        n_vis = w.shop_visible(T)
        cand = [i for i in f["idx"] if i < n_vis and ((i > start) if not backward else (i < start))]
        if not cand:
            return []
        out = []
        mf = _mask_filters(f)
        for i in cand:
            if w.shop_mask(i, i + 1, T, mf)[0]:
                out.append(i)
        return out[:limit] if not backward else out[-limit:]
    return w.shop_scan(start, limit, T, f, backward=backward)


async def list_orders(request: Request) -> Response:
    resp, headers = _throttle(request)
    if resp is not None:
        return resp
    sim: Sim = request.app.state.sim
    w = sim.world
    q = dict(request.query_params)
    try:
        limit = _limit(q)
        if "page_info" in q:
            extra = [k for k in q if k not in ("page_info", "limit", "fields")]
            if extra:
                k = extra[0]
                return _json(
                    400,
                    {
                        "errors": {
                            k: f"{k} cannot be passed when page_info is present. See "
                            "https://shopify.dev/api/usage/pagination-rest for more information."
                        }
                    },
                    headers,
                )
            cur = _decode_cursor(q["page_info"])
            f = cur.get("f") or {}
            if not isinstance(f, dict):
                raise BadParam("page_info", "Invalid value.")
            backward = cur["d"] == "p"
            start = cur["i"]
            paged = True
        else:
            f = parse_filters(q, w.n)
            backward = False
            start = -1
            paged = False
    except BadParam as e:
        return _json(400, {"errors": {e.param: e.message}}, headers)
    T = sim.now()
    idx = _indices(sim, f, T, start, limit + 1, backward)
    if backward:
        has_more_before = len(idx) > limit
        page = idx[-limit:] if has_more_before else idx
        has_prev, has_next = has_more_before, True
    else:
        has_more_after = len(idx) > limit
        page = idx[:limit]
        has_prev, has_next = paged, has_more_after
    rows = w.rows(page) if page else []
    body = b'{"orders":[' + b",".join(records.shop_order_bytes(w, r, T) for r in rows) + b"]}"
    links = []
    base = _base(request) + API + "/orders.json?"
    fields = {"fields": q["fields"]} if q.get("fields") else {}
    if page and has_prev:
        tok = _encode_cursor({"d": "p", "i": page[0], "f": f})
        links.append(f'<{base}{urlencode({"limit": limit, **fields, "page_info": tok})}>; rel="previous"')
    if page and has_next:
        tok = _encode_cursor({"d": "n", "i": page[-1], "f": f})
        links.append(f'<{base}{urlencode({"limit": limit, **fields, "page_info": tok})}>; rel="next"')
    if links:
        headers["Link"] = ", ".join(links)
    return Response(body, media_type="application/json", headers=headers)


async def count_orders(request: Request) -> Response:
    resp, headers = _throttle(request)
    if resp is not None:
        return resp
    sim: Sim = request.app.state.sim
    w = sim.world
    try:
        f = parse_filters(dict(request.query_params), w.n)
    except BadParam as e:
        return _json(400, {"errors": {e.param: e.message}}, headers)
    T = sim.now()
    n_vis = w.shop_visible(T)
    if "idx" in f:
        count = len(_indices(sim, f, T, -1, n_vis + 1, False))
    else:
        count = 0
        for lo in range(0, n_vis, 262_144):
            count += int(w.shop_mask(lo, min(n_vis, lo + 262_144), T, f).sum())
    return _json(200, {"count": count}, headers)


def _visible_index(sim: Sim, raw: str, T: int) -> int | None:
    """The world index of the store order with id `raw` (digits), when the store shows it at `T`."""
    if not raw.isdigit():
        return None
    i = index_of_order_id(int(raw), sim.world.n)
    if i is None or i >= sim.world.shop_visible(T):
        return None
    return i


def _order_index(request: Request) -> int | None:
    sim: Sim = request.app.state.sim
    return _visible_index(sim, request.path_params["order_id"], sim.now())


async def get_order(request: Request) -> Response:
    resp, headers = _throttle(request)
    if resp is not None:
        return resp
    sim: Sim = request.app.state.sim
    i = _order_index(request)
    if i is None:
        return _json(404, NOT_FOUND, headers)
    T = sim.now()
    b = records.shop_order_bytes(sim.world, sim.world.row(i), T)
    return Response(b'{"order":' + b + b"}", media_type="application/json", headers=headers)


async def get_fulfillment_orders(request: Request) -> Response:
    resp, headers = _throttle(request)
    if resp is not None:
        return resp
    sim: Sim = request.app.state.sim
    i = _order_index(request)
    if i is None:
        return _json(404, NOT_FOUND, headers)
    body = records.fulfillment_orders_bytes(sim.world, sim.world.row(i), sim.now())
    return Response(body, media_type="application/json", headers=headers)


MAX_QUERY_COST = 1000
_HOLDS_SHAPE = re.compile(
    r"nodes\(\s*ids:\s*\$(\w+)\s*\)\s*\{\s*\.\.\.\s*on\s+Order\s*\{\s*legacyResourceId\s+"
    r"fulfillmentOrders\(\s*first:\s*(\d+)\s*\)\s*\{\s*nodes\s*\{\s*status\s*\}\s*"
    r"pageInfo\s*\{\s*hasNextPage\s*\}\s*\}\s*\}\s*\}"
)
_ORDER_GID = "gid://shopify/Order/"


def _graphql_error(
    message: str, code: str, query_cost: dict[str, Any] | None = None, **more: Any
) -> Response:
    body: dict[str, Any] = {"errors": [{"message": message, "extensions": {"code": code, **more}}]}
    if query_cost is not None:
        body["extensions"] = {"cost": query_cost}
    return _json(200, body, {"X-Shopify-API-Version": "2024-10"})


async def graphql(request: Request) -> Response:
    sim: Sim = request.app.state.sim
    try:
        body = json.loads(await request.body())
    except ValueError:
        return _json(400, {"errors": "Bad Request"}, {})
    query = body.get("query") if isinstance(body, dict) else None
    if not isinstance(query, str):
        return _json(400, {"errors": {"query": "Required parameter missing or invalid"}}, {})
    shape = _HOLDS_SHAPE.search(query)
    if shape is None:
        return _graphql_error(
            "The simulator serves one query: nodes(ids: $ids) { ... on Order { legacyResourceId "
            "fulfillmentOrders(first: N) { nodes { status } pageInfo { hasNextPage } } } }",
            "UNSUPPORTED_QUERY",
        )
    variables = body.get("variables") or {}
    gids = variables.get(shape.group(1)) if isinstance(variables, dict) else None
    if not isinstance(gids, list) or not all(isinstance(g, str) for g in gids):
        return _graphql_error(
            f"Variable ${shape.group(1)} of type [ID!]! was provided invalid value", "INVALID_VARIABLE"
        )
    first = int(shape.group(2))
    per_order = 1 + (2 + first) + 1  # the order, its connection sized by `first`, pageInfo
    requested = len(gids) * per_order
    if requested > MAX_QUERY_COST:
        return _graphql_error(
            f"Query cost is {requested}, which exceeds the single query max cost limit ({MAX_QUERY_COST}).",
            "MAX_COST_EXCEEDED",
            cost=requested,
            maxCost=MAX_QUERY_COST,
        )
    bucket = sim.graphql_bucket
    if not bucket.take(requested):
        cost = {"requestedQueryCost": requested, "actualQueryCost": None, "throttleStatus": bucket.status()}
        return _graphql_error("Throttled", "THROTTLED", query_cost=cost)
    T = sim.now()
    nodes: list[dict[str, Any] | None] = []
    actual = 0
    for gid in gids:
        raw = gid.removeprefix(_ORDER_GID) if gid.startswith(_ORDER_GID) else ""
        i = _visible_index(sim, raw, T)
        if i is None:
            nodes.append(None)
            continue
        statuses = [fo["status"].upper() for fo in records.fulfillment_orders(sim.world, sim.world.row(i), T)]
        shown = statuses[:first]
        actual += 1 + 2 + len(shown) + 1
        nodes.append(
            {
                "legacyResourceId": raw,
                "fulfillmentOrders": {
                    "nodes": [{"status": st} for st in shown],
                    "pageInfo": {"hasNextPage": len(statuses) > first},
                },
            }
        )
    bucket.refund(requested - actual)
    cost = {"requestedQueryCost": requested, "actualQueryCost": actual, "throttleStatus": bucket.status()}
    return _json(
        200, {"data": {"nodes": nodes}, "extensions": {"cost": cost}}, {"X-Shopify-API-Version": "2024-10"}
    )


async def not_found(request: Request) -> Response:
    resp, headers = _throttle(request)
    if resp is not None:
        return resp
    return _json(404, NOT_FOUND, headers)


ROUTES = [
    Route(API + "/orders.json", list_orders, methods=["GET"]),
    Route(API + "/orders/count.json", count_orders, methods=["GET"]),
    Route(API + "/orders/{order_id}.json", get_order, methods=["GET"]),
    Route(API + "/orders/{order_id}/fulfillment_orders.json", get_fulfillment_orders, methods=["GET"]),
    Route(API + "/graphql.json", graphql, methods=["POST"]),
    Route("/{rest:path}", not_found, methods=["GET", "POST", "PUT", "DELETE"]),
]

__all__ = ["API", "ROUTES", "CostBucket", "LeakyBucket", "auth_check", "order_id"]
