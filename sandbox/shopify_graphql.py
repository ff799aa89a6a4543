"""The GraphQL Admin API 2026-10 endpoint of the simulated store (see ``sandbox.shopify_api``).

Operations are parsed and costed (``sandbox.graphql_doc``); each root field the connector uses has a
resolver. Selection sets are costed but not applied: an ``Order`` always comes whole, in the shape
``sandbox.records.shopify_graphql`` renders. Bulk operations move CREATED → RUNNING → COMPLETED one
status read at a time (or to FAILED with ``/_sim/faults {"shopify_bulk_fail": "INTERNAL_SERVER_ERROR"}``)
and their JSONL is rendered while it downloads, as of the clock when the operation was started.
"""

from __future__ import annotations

import base64
import binascii
import json
import re
import threading
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np
from starlette.requests import Request
from starlette.responses import Response, StreamingResponse

from .graphql_doc import Field, GraphQLSyntaxError, connections, parse, requested_cost
from .records.shopify_graphql import graphql_order, jsonl_lines
from .scenarios import index_of_order_id
from .shopify_api import API_VERSION, NOT_FOUND, _json
from .shopify_fulfillment import fulfillment_create, tracking_update, with_api_changes
from .timefmt import parse_iso

if TYPE_CHECKING:
    from .server import Sim

MAX_QUERY_COST = 1000
MAX_PAGE = 250
_VERSION = {"X-Shopify-API-Version": API_VERSION}
_UPDATED = re.compile(r"^updated_at:(>=|>)'?([^']+?)'?$")


class GraphQLError(Exception):
    def __init__(self, message: str, code: str = "BAD_REQUEST") -> None:
        super().__init__(message)
        self.message, self.code = message, code


@dataclass
class BulkRun:
    number: int
    T: int
    search: str | None
    fail: str | None
    reads: int = 0
    count: int = 0

    @property
    def gid(self) -> str:
        return f"gid://shopify/BulkOperation/{self.number}"

    def status(self) -> str:
        if self.reads == 0:
            return "CREATED"
        if self.reads == 1:
            return "RUNNING"
        return "FAILED" if self.fail else "COMPLETED"


@dataclass
class ShopState:
    """What the simulated store keeps besides the world: bulk operations and webhook subscriptions."""

    bulk: dict[int, BulkRun] = field(default_factory=dict)
    webhooks: list[dict[str, str]] = field(default_factory=list)
    fail_next_bulk: str | None = None
    gone: bool = False  # answer 410, as a retired API version does
    # tracking set through the API (fulfillment id -> trackingInfo), shown by every read afterwards
    tracking: dict[int, list[dict[str, Any]]] = field(default_factory=dict)
    mutations: Counter[str] = field(default_factory=Counter)  # fulfillment mutations received, by name
    lock: threading.Lock = field(default_factory=threading.Lock)


# ---------------------------------------------------------------- listing orders


def _search(query: Any) -> dict[str, Any]:
    out: dict[str, Any] = {}
    if query is None or query == "":
        return out
    if not isinstance(query, str):
        raise GraphQLError("query must be a string", "INVALID_VARIABLE")
    for term in query.split():
        if m := _UPDATED.match(term):
            try:
                t = parse_iso(m.group(2))
            except ValueError:
                raise GraphQLError(f"invalid date in search term {term!r}") from None
            out["updated_min"] = t if m.group(1) == ">=" else t + 1
        elif term.startswith("id:") and term[3:].isdigit():
            out.setdefault("ids", []).append(int(term[3:]))
        elif term == "OR":  # the simulator's terms are ids joined by OR, or one of each other kind
            continue
        elif term.startswith("name:"):
            out["name"] = term[5:].strip("'\"").lstrip("#")
        elif term not in ("status:any",):
            raise GraphQLError(f"the simulator does not serve the search term {term!r}")
    return out


def listing(sim: Sim, T: int, query: Any, by_update: bool) -> tuple[np.ndarray, np.ndarray]:
    """Indices of the orders matching ``query`` at ``T`` and their update times, in listing order."""
    w = sim.world
    terms = _search(query)
    n_vis = w.shop_visible(T)
    if "name" in terms:
        nm = terms["name"]
        i = int(nm) - 2001 if nm.isdigit() else -1
        idx = np.array([i] if 0 <= i < n_vis else [], dtype=np.int64)
        up = np.array([w.shop_updated_at(i, i + 1, T)[0]] if len(idx) else [], dtype=np.int64)
    elif "ids" in terms:
        found = [index_of_order_id(oid, w.n) for oid in terms["ids"]]
        idx = np.array(sorted({i for i in found if i is not None and i < n_vis}), dtype=np.int64)
        up = np.array([w.shop_updated_at(int(i), int(i) + 1, T)[0] for i in idx], dtype=np.int64)
    else:
        parts_i, parts_u = [], []
        for lo in range(0, n_vis, 262_144):
            hi = min(n_vis, lo + 262_144)
            up = w.shop_updated_at(lo, hi, T)
            mask = np.ones(hi - lo, dtype=bool)
            if "updated_min" in terms:
                mask &= up >= terms["updated_min"]
            parts_i.append(np.nonzero(mask)[0] + lo)
            parts_u.append(up[mask])
        idx = np.concatenate(parts_i) if parts_i else np.zeros(0, dtype=np.int64)
        up = np.concatenate(parts_u) if parts_u else np.zeros(0, dtype=np.int64)
    order = np.lexsort((idx, up)) if by_update else np.argsort(idx, kind="stable")
    return idx[order], up[order]


def _cursor(up: int, i: int) -> str:
    return base64.urlsafe_b64encode(json.dumps([up, i]).encode()).decode()


def _after(cursor: Any) -> tuple[int, int] | None:
    if cursor is None:
        return None
    try:
        up, i = json.loads(base64.urlsafe_b64decode(str(cursor)))
        return int(up), int(i)
    except (ValueError, TypeError, binascii.Error):
        raise GraphQLError(f"Invalid cursor {cursor!r}", "INVALID_CURSOR") from None


def _order_index(sim: Sim, gid: Any, T: int) -> int | None:
    prefix = "gid://shopify/Order/"
    if not isinstance(gid, str) or not gid.startswith(prefix) or not gid[len(prefix) :].isdigit():
        return None
    i = index_of_order_id(int(gid[len(prefix) :]), sim.world.n)
    return i if i is not None and i < sim.world.shop_visible(T) else None


# ---------------------------------------------------------------- resolvers


def _orders(sim: Sim, f: Field, T: int, request: Request) -> Any:
    first = f.args.get("first")
    if not isinstance(first, int) or not 1 <= first <= MAX_PAGE:
        raise GraphQLError(f"first must be between 1 and {MAX_PAGE}", "INVALID_VARIABLE")
    sort = f.args.get("sortKey") or "ID"
    if sort not in ("UPDATED_AT", "ID"):
        raise GraphQLError(f"the simulator sorts by UPDATED_AT or ID, not {sort}")
    idx, up = listing(sim, T, f.args.get("query"), sort == "UPDATED_AT")
    after = _after(f.args.get("after"))
    if after is not None:
        key_up = up if sort == "UPDATED_AT" else np.zeros_like(up)
        a_up = after[0] if sort == "UPDATED_AT" else 0
        keep = (key_up > a_up) | ((key_up == a_up) & (idx > after[1]))
        idx, up = idx[keep], up[keep]
    page = idx[:first].tolist()
    w = sim.world
    nodes = [_render(sim, r, T, lines=False) for r in w.rows(page)] if page else []
    last = len(page) - 1
    return {
        "nodes": nodes,
        "pageInfo": {
            "hasNextPage": len(idx) > first,
            "endCursor": _cursor(int(up[last]), page[last]) if page else None,
        },
    }


def _render(sim: Sim, r: Any, T: int, *, lines: bool = True) -> dict[str, Any]:
    return with_api_changes(sim, graphql_order(sim.world, r, T), r, T, lines=lines)


def _order(sim: Sim, f: Field, T: int, request: Request) -> Any:
    i = _order_index(sim, f.args.get("id"), T)
    return None if i is None else _render(sim, sim.world.row(i), T)


def _nodes(sim: Sim, f: Field, T: int, request: Request) -> Any:
    ids = f.args.get("ids")
    if not isinstance(ids, list) or len(ids) > MAX_PAGE:
        raise GraphQLError(f"ids must be a list of at most {MAX_PAGE} ids", "INVALID_VARIABLE")
    return [_node_of(sim, gid, T, request) for gid in ids]


def _node_of(sim: Sim, gid: Any, T: int, request: Request) -> Any:
    if isinstance(gid, str) and gid.startswith("gid://shopify/BulkOperation/"):
        number = gid.rsplit("/", 1)[-1]
        run = sim.shop_state.bulk.get(int(number)) if number.isdigit() else None
        return None if run is None else _bulk_view(sim, run, request)
    i = _order_index(sim, gid, T)
    return None if i is None else _render(sim, sim.world.row(i), T)


def _node(sim: Sim, f: Field, T: int, request: Request) -> Any:
    return _node_of(sim, f.args.get("id"), T, request)


def _bulk_view(sim: Sim, run: BulkRun, request: Request) -> dict[str, Any]:
    with sim.shop_state.lock:
        status = run.status()
        run.reads += 1
    done = status == "COMPLETED"
    if done and not run.count:
        run.count = len(listing(sim, run.T, run.search, False)[0])
    base = f"{request.url.scheme}://{request.url.netloc}{request.scope.get('root_path', '')}"
    return {
        "id": run.gid,
        "status": status,
        "errorCode": run.fail if status == "FAILED" else None,
        "objectCount": str(run.count) if done else "0",
        "url": f"{base}-files/bulk/{run.number}.jsonl" if done and run.count else None,
        "partialDataUrl": None,
    }


def _current_bulk(sim: Sim, f: Field, T: int, request: Request) -> Any:
    runs = sim.shop_state.bulk
    return _bulk_view(sim, runs[max(runs)], request) if runs else None


def _bulk_run(sim: Sim, f: Field, T: int, request: Request) -> Any:
    text = f.args.get("query")
    errors: list[dict[str, Any]] = []
    search = None
    try:
        inner = parse(text if isinstance(text, str) else "")
        count, depth = connections(inner.fields)
        root = inner.fields[0] if len(inner.fields) == 1 else None
        if root is None or root.name != "orders":
            errors.append({"field": ["query"], "message": "The simulator runs bulk queries of orders only."})
        elif count > 5 or depth > 2:
            errors.append(
                {
                    "field": ["query"],
                    "message": f"Bulk queries allow 5 connections nested 2 deep; got {count}, {depth} deep.",
                }
            )
        else:
            search = root.args.get("query")
            _search(search)
    except (GraphQLSyntaxError, GraphQLError) as exc:
        errors.append({"field": ["query"], "message": f"Invalid bulk query: {exc}", "code": "INVALID"})
    if errors:
        return {"bulkOperation": None, "userErrors": errors}
    state = sim.shop_state
    with state.lock:
        run = BulkRun(len(state.bulk) + 1, T, search, state.fail_next_bulk)
        state.fail_next_bulk = None
        state.bulk[run.number] = run
    return {"bulkOperation": {"id": run.gid, "status": "CREATED"}, "userErrors": []}


def _webhooks(sim: Sim, f: Field, T: int, request: Request) -> Any:
    return {"nodes": list(sim.shop_state.webhooks), "pageInfo": {"hasNextPage": False, "endCursor": None}}


def _webhook_create(sim: Sim, f: Field, T: int, request: Request) -> Any:
    topic = f.args.get("topic")
    sub = f.args.get("webhookSubscription") or {}
    uri = sub.get("uri") if isinstance(sub, dict) else None
    if not isinstance(uri, str) or not re.match(r"^https?://\S+$", uri):
        return {
            "webhookSubscription": None,
            "userErrors": [{"field": ["webhookSubscription", "uri"], "message": "Address is invalid"}],
        }
    state = sim.shop_state
    with state.lock:
        if any(w["topic"] == topic and w["uri"] == uri for w in state.webhooks):
            return {
                "webhookSubscription": None,
                "userErrors": [
                    {
                        "field": ["webhookSubscription", "uri"],
                        "message": "Address for this topic has already been taken",
                    }
                ],
            }
        created = {
            "id": f"gid://shopify/WebhookSubscription/{len(state.webhooks) + 1}",
            "topic": str(topic),
            "uri": uri,
        }
        state.webhooks.append(created)
    return {"webhookSubscription": created, "userErrors": []}


RESOLVERS: dict[str, Callable[[Sim, Field, int, Request], Any]] = {
    "orders": _orders,
    "order": _order,
    "nodes": _nodes,
    "node": _node,
    "currentBulkOperation": _current_bulk,
    "bulkOperationRunQuery": _bulk_run,
    "webhookSubscriptions": _webhooks,
    "webhookSubscriptionCreate": _webhook_create,
    "fulfillmentCreate": fulfillment_create,
    "fulfillmentTrackingInfoUpdate": tracking_update,
}


def _objects(value: Any) -> int:
    if isinstance(value, dict):
        return 1 + sum(_objects(v) for v in value.values())
    if isinstance(value, list):
        return sum(_objects(v) for v in value)
    return 0


def _error(message: str, code: str, cost: dict[str, Any] | None = None, status: int = 200) -> Response:
    body: dict[str, Any] = {"errors": [{"message": message, "extensions": {"code": code}}]}
    if cost is not None:
        body["extensions"] = {"cost": cost}
    return _json(status, body, _VERSION)


async def graphql(request: Request) -> Response:
    sim: Sim = request.app.state.sim
    if sim.shop_state.gone:
        return _json(410, {"errors": f"API version {API_VERSION} is no longer supported"}, {})
    try:
        body = json.loads(await request.body())
    except ValueError:
        return _json(400, {"errors": "Bad Request"}, {})
    query = body.get("query") if isinstance(body, dict) else None
    variables = body.get("variables") if isinstance(body, dict) else None
    if not isinstance(query, str):
        return _json(400, {"errors": {"query": "Required parameter missing or invalid"}}, {})
    try:
        op = parse(query, variables if isinstance(variables, dict) else {})
    except GraphQLSyntaxError as exc:
        return _error(f"Parse error: {exc}", "PARSE_ERROR")
    unknown = [f.name for f in op.fields if f.name not in RESOLVERS]
    if unknown:
        return _error(f"Field '{unknown[0]}' is not served by the simulator", "UNDEFINED_FIELD")
    requested = requested_cost(op)
    if requested > MAX_QUERY_COST:
        return _error(
            f"Query cost is {requested}, which exceeds the single query max cost limit ({MAX_QUERY_COST}).",
            "MAX_COST_EXCEEDED",
        )
    bucket = sim.graphql_bucket
    if not bucket.take(requested):
        cost = {"requestedQueryCost": requested, "actualQueryCost": None, "throttleStatus": bucket.status()}
        return _error("Throttled", "THROTTLED", cost)
    T = sim.now()
    try:
        data = {f.key: RESOLVERS[f.name](sim, f, T, request) for f in op.fields}
    except GraphQLError as exc:
        bucket.refund(requested)
        return _error(exc.message, exc.code)
    actual = requested if op.kind == "mutation" else min(requested, _objects(data))
    bucket.refund(requested - actual)
    cost = {"requestedQueryCost": requested, "actualQueryCost": actual, "throttleStatus": bucket.status()}
    return _json(200, {"data": data, "extensions": {"cost": cost}}, _VERSION)


async def bulk_file(request: Request) -> Response:
    """A finished bulk operation's JSONL, rendered as it is sent."""
    sim: Sim = request.app.state.sim
    raw = request.path_params["number"]
    run = sim.shop_state.bulk.get(int(raw)) if raw.isdigit() else None
    if run is None or run.status() != "COMPLETED":
        return _json(404, NOT_FOUND, {})

    def lines() -> Iterator[bytes]:
        idx, _ = listing(sim, run.T, run.search, False)
        w = sim.world
        for lo in range(0, len(idx), 50):  # small chunks: the first bytes leave at once
            chunk: list[str] = []
            for r in w.rows(idx[lo : lo + 50].tolist()):
                chunk.extend(jsonl_lines(_render(sim, r, run.T, lines=False)))
            yield ("\n".join(chunk) + "\n").encode()

    return StreamingResponse(lines(), media_type="application/jsonl")


__all__ = ["RESOLVERS", "BulkRun", "ShopState", "bulk_file", "graphql", "listing"]
