"""ShipBob API ``2026-07`` (orders, inventory levels, channels, webhooks) served from the world, under ``/shipbob``.

Over 400 lines because it is every ShipBob route the connectors call, with the vendor's paging,
headers and error bodies; the admin routes are shipbob_admin.py.

What clients may rely on (base = ``SHIPBOB_API_URL`` = ``http://127.0.0.1:<port>/shipbob``):
- auth ``Authorization: Bearer <token>``; wrong/missing -> 401
  ``{"message": "Authorization has been denied for this request."}``;
- ``GET /2026-07/order`` answers a JSON list with headers ``page-number``, ``total-pages``, ``total-count``
  and, unless on the last page, ``next-page``: the next page's path and query relative to the base URL
  (e.g. ``/2026-07/order?Page=2&Limit=250&SortOrder=Oldest``, so ``base + next-page`` is the next URL);
  ``Page`` starts at 1, ``Limit`` defaults to 50 and must be 1..250 (else 400 with a validation body);
  filters ``IDs``, ``ReferenceIds`` (comma-separated), ``StartDate``/``EndDate`` (created),
  ``LastUpdateStartDate``/``LastUpdateEndDate`` (latest change, inclusive), ``HasTracking``,
  ``SortOrder`` = ``Newest`` (default, id descending) | ``Oldest`` (id ascending);
- orders are the ``2026-07`` order view: shipments carry ``order_id`` and no ``store_order_id``;
- ``GET /2026-07/order/{id}`` (404 ``{"message": "Order not found"}``), ``GET /2026-07/order/{id}/shipment``;
- ``POST /2026-07/order`` (ShipBob's create-order body; header ``shipbob_channel_id`` of a channel with
  ``orders_write``, else 400 / 403) -> 201 with the created order (status ``Processing``, one shipment
  ``Processing``; ``Exception``/``OutOfStock`` if stock was short) and the products' quantities committed
  in inventory; a ``reference_id`` that already exists -> 422 (ShipBob uses 422 only for that)
  ``{"reference_id": ["Order with reference id <ref> already exists"]}``; a body that is not a valid
  order -> 400 ``{"<field path>": ["<message>"]}``, including a product the 3PL does not know:
  ``{"products[<n>].reference_id": ["No product found with reference id <ref>"]}``;
- ``POST /2026-07/order/{id}:cancel``, ``GET /2026-07/channel``, ``GET``/``POST /2026-07/webhook``,
  ``DELETE /2026-07/webhook/{id}``: see ``sandbox.shipbob_admin``;
- ``GET /2026-07/inventory-level`` and ``GET /2026-07/inventory-level/locations``: ``{"items", "first",
  "prev", "next", "last"}`` where ``next`` is the next page's path relative to the base URL (null on the
  last page); ``PageSize`` 1..250 (default 50), ``Cursor`` (opaque, from ``next``), ``InventoryIds``,
  ``SearchBy`` (id exact, name or SKU partial), ``IsActive``; ``GET /2026-07/inventory-level/{id}``;
- any ``/1.0/...`` path (the retired version) -> 404 ``{"message": "..."}`` naming the retirement.
"""

from __future__ import annotations

import json
import math
from typing import TYPE_CHECKING, Any
from urllib.parse import urlencode

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from . import catalog, records, shipbob_admin
from .timefmt import parse_iso
from .world import CreatedOrder

if TYPE_CHECKING:
    from .server import Sim

VERSION = "2026-07"
UNAUTHORIZED = {"message": "Authorization has been denied for this request."}
SKUS = [s.sku for s in catalog.STOCKED_SKUS]
INV_ID_TO_SKU = {catalog.SB_INVENTORY_ID[s]: s for s in SKUS}
PRODUCT_ID_TO_SKU = {catalog.SB_PRODUCT_ID[s]: s for s in SKUS}


def auth_check(sim: Sim):
    def check(headers: dict[str, str]) -> tuple[int, Any, dict[str, str]] | None:
        if headers.get("authorization") != f"Bearer {sim.tokens['shipbob']}":
            return 401, UNAUTHORIZED, {"WWW-Authenticate": "Bearer"}
        return None

    return check


def _json(status: int, body: Any, headers: dict[str, str] | None = None) -> Response:
    return Response(
        json.dumps(body, separators=(",", ":")),
        status_code=status,
        media_type="application/json",
        headers=headers,
    )


class Invalid(Exception):
    def __init__(self, errors: dict[str, list[str]], status: int = 400) -> None:
        super().__init__(str(errors))
        self.errors = errors
        self.status = status


def _int(q: dict[str, str], name: str, default: int, lo: int, hi: int) -> int:
    v = q.get(name)
    if v is None or v == "":
        return default
    try:
        x = int(v)
    except ValueError:
        raise Invalid({name: [f"The value '{v}' is not valid for {name}."]}) from None
    if not lo <= x <= hi:
        raise Invalid({name: [f"The field {name} must be between {lo} and {hi}."]})
    return x


def _time(q: dict[str, str], name: str) -> float | None:
    v = q.get(name)
    if not v:
        return None
    try:
        return parse_iso(v)
    except ValueError:
        raise Invalid({name: [f"The value '{v}' is not valid for {name}."]}) from None


def _bool(q: dict[str, str], name: str) -> bool | None:
    v = q.get(name)
    if v is None or v == "":
        return None
    if v.lower() in ("true", "1"):
        return True
    if v.lower() in ("false", "0"):
        return False
    raise Invalid({name: [f"The value '{v}' is not valid for {name}."]})


def _paged(
    request: Request,
    items: list[bytes] | list[Any],
    total: int,
    page: int,
    limit: int,
    path: str,
    q: dict[str, str],
) -> Response:
    pages = max(1, math.ceil(total / limit)) if total else 0
    headers = {"page-number": str(page), "total-pages": str(pages), "total-count": str(total)}
    if page < pages:
        nq = {k: v for k, v in q.items() if k not in ("Page", "Limit")}
        headers["next-page"] = f"{path}?{urlencode({'Page': page + 1, 'Limit': limit, **nq})}"
    if items and isinstance(items[0], bytes):
        body = b"[" + b",".join(items) + b"]"  # type: ignore[arg-type]
        return Response(body, media_type="application/json", headers=headers)
    return _json(200, items, headers)


async def list_orders(request: Request) -> Response:
    sim: Sim = request.app.state.sim
    w = sim.world
    q = dict(request.query_params)
    try:
        page = _int(q, "Page", 1, 1, 2_147_483_647)
        limit = _int(q, "Limit", 50, 1, 250)
        sort = q.get("SortOrder") or "Newest"
        if sort not in ("Newest", "Oldest"):
            raise Invalid({"SortOrder": [f"The value '{sort}' is not valid for SortOrder."]})
        f: dict[str, Any] = {}
        for name, key in (
            ("StartDate", "start"),
            ("EndDate", "end"),
            ("LastUpdateStartDate", "lu_start"),
            ("LastUpdateEndDate", "lu_end"),
        ):
            t = _time(q, name)
            if t is not None:
                f[key] = math.ceil(t) if key.endswith("start") else math.floor(t)
        ht = _bool(q, "HasTracking")
        if ht is not None:
            f["has_tracking"] = ht
        T = sim.now()
        ids: set[int] | None = None
        if q.get("IDs"):
            try:
                ids = {int(x) for x in q["IDs"].split(",") if x.strip()}
            except ValueError:
                raise Invalid({"IDs": [f"The value '{q['IDs']}' is not valid for IDs."]}) from None
        if q.get("ReferenceIds"):
            refs = {x.strip() for x in q["ReferenceIds"].split(",") if x.strip()}
            rid = {sid for sid in (w.sb_id_for_reference(r, T) for r in refs) if sid is not None}
            ids = rid if ids is None else ids & rid
        if ids is not None:
            f["ids"] = sorted(ids)
    except Invalid as e:
        return _json(e.status, e.errors)
    listing = w.sb_listing(T, f)
    total = len(listing)
    if sort == "Newest":
        hi = total - (page - 1) * limit
        sel = listing[max(0, hi - limit) : max(0, hi)][::-1]
    else:
        sel = listing[(page - 1) * limit : page * limit]
    items = records.sb_records_bytes(w, sel.tolist(), T)
    return _paged(request, items, total, page, limit, f"/{VERSION}/order", q)


def _sb_id(request: Request) -> int | None:
    raw = request.path_params["order_id"]
    return int(raw) if raw.isdigit() else None


async def get_order(request: Request) -> Response:
    sim: Sim = request.app.state.sim
    sid = _sb_id(request)
    b = records.sb_record_bytes(sim.world, sid, sim.now()) if sid is not None else None
    if b is None:
        return _json(404, {"message": "Order not found"})
    return Response(b, media_type="application/json")


async def get_order_shipments(request: Request) -> Response:
    sim: Sim = request.app.state.sim
    sid = _sb_id(request)
    b = records.sb_record_bytes(sim.world, sid, sim.now()) if sid is not None else None
    if b is None:
        return _json(404, {"message": "Order not found"})
    return _json(200, json.loads(b)["shipments"])


def validate_create(body: Any) -> dict[str, Any]:
    """Checks a create-order body; raises ``Invalid`` (400) with ShipBob-style field errors."""
    if not isinstance(body, dict):
        raise Invalid({"$": ["The JSON value could not be converted to an order. Path: $"]})
    errs: dict[str, list[str]] = {}
    ref = body.get("reference_id")
    if not isinstance(ref, str) or not ref.strip():
        errs["reference_id"] = ["The ReferenceId field is required."]
    elif len(ref) > 300:
        errs["reference_id"] = ["The field ReferenceId must be a string with a maximum length of 300."]
    sm = body.get("shipping_method")
    if not isinstance(sm, str) or not sm.strip():
        errs["shipping_method"] = ["The ShippingMethod field is required."]
    if body.get("type") not in ("DTC", "DropShip", "B2B"):
        errs["type"] = ["The Type field is required (DTC, DropShip or B2B)."]
    rec = body.get("recipient")
    if not isinstance(rec, dict):
        errs["recipient"] = ["The Recipient field is required."]
    else:
        if not isinstance(rec.get("name"), str) or not rec["name"].strip():
            errs["recipient.name"] = ["The Name field is required."]
        addr = rec.get("address")
        if not isinstance(addr, dict):
            errs["recipient.address"] = ["The Address field is required."]
        else:
            for k, label in (("address1", "Address1"), ("city", "City"), ("country", "Country")):
                if not isinstance(addr.get(k), str) or not addr[k].strip():
                    errs[f"recipient.address.{k}"] = [f"The {label} field is required."]
    prods = body.get("products")
    if not isinstance(prods, list) or not prods:
        errs["products"] = ["The Products field is required."]
    else:
        for n, p in enumerate(prods):
            if not isinstance(p, dict):
                errs[f"products[{n}]"] = ["The product is invalid."]
                continue
            if not any(
                isinstance(p.get(k), str | int) and str(p.get(k)).strip()
                for k in ("reference_id", "sku", "id")
            ):
                errs[f"products[{n}].reference_id"] = ["Either Id, ReferenceId or Sku is required."]
            qv = p.get("quantity")
            if not isinstance(qv, int) or isinstance(qv, bool) or qv < 1:
                errs[f"products[{n}].quantity"] = ["The field Quantity must be between 1 and 2147483647."]
    tags = body.get("tags")
    if tags is not None and (
        not isinstance(tags, list)
        or not all(isinstance(t, dict) and isinstance(t.get("name"), str) for t in tags)
    ):
        errs["tags"] = ["Tags must be a list of {name, value}."]
    if errs:
        raise Invalid(errs)
    return body


async def create_order(request: Request) -> Response:
    sim: Sim = request.app.state.sim
    w = sim.world
    raw = await request.body()
    try:
        body = json.loads(raw) if raw.strip() else None
    except UnicodeDecodeError:
        return _json(400, {"$": ["The request body is not valid UTF-8. Path: $"]})
    except json.JSONDecodeError as e:
        return _json(
            400,
            {
                "$": [
                    f"The request body is not valid JSON: {e.msg}. Path: $ | "
                    f"LineNumber: {e.lineno - 1} | BytePositionInLine: {e.colno - 1}."
                ]
            },
        )
    if body is None:
        return _json(400, {"": ["A non-empty request body is required."]})
    try:
        validate_create(body)
    except Invalid as e:
        return _json(e.status, e.errors)
    refused = shipbob_admin.channel_refusal(request.headers.get("shipbob_channel_id"))
    if refused is not None:
        return _json(*refused)
    T = sim.now()
    with w.lock:
        ref = body["reference_id"].strip()
        if w.sb_id_for_reference(ref, T) is not None or ref in w.created_by_ref:
            return _json(422, {"reference_id": [f"Order with reference id {ref} already exists"]})
        lines: list[tuple[str, int]] = []
        for n, p in enumerate(body["products"]):
            sku = None
            if p.get("id") is not None:
                sku = PRODUCT_ID_TO_SKU.get(int(p["id"])) if str(p["id"]).isdigit() else None
            else:
                key = str(p.get("reference_id") or p.get("sku")).strip()
                sku = key if key in w.stock else None
            if sku is None:
                label = p.get("reference_id") or p.get("sku") or p.get("id")
                field = (
                    "id" if p.get("id") is not None else ("reference_id" if p.get("reference_id") else "sku")
                )
                return _json(
                    400,
                    {f"products[{n}].{field}": [f"No product found with {field.replace('_', ' ')} {label}"]},
                )
            lines.append((sku, int(p["quantity"])))
        products = []
        short = False
        for sku, qty in lines:
            wid, s = w.reserve(sku, qty)
            short |= s
            products.append((sku, qty, wid))
        c = CreatedOrder(
            id=w.next_created_id(),
            reference_id=ref,
            created_at=T,
            body=body,
            products=products,
            location_id=products[0][2],
            short=short,
        )
        w.created.append(c)
        w.created_by_ref[ref] = c
        w.query_cache.clear()
        rec = records.sb_created(w, c, T)
    return _json(201, rec)


def _inventory_skus(q: dict[str, str]) -> list[str]:
    skus = SKUS
    if q.get("InventoryIds"):
        want = {x.strip() for x in q["InventoryIds"].split(",")}
        skus = [s for s in skus if str(catalog.SB_INVENTORY_ID[s]) in want]
    if q.get("SearchBy"):
        term = q["SearchBy"].strip().lower()
        skus = [
            s
            for s in skus
            if term == str(catalog.SB_INVENTORY_ID[s])
            or term in s.lower()
            or term in catalog.SKU_BY_CODE[s].name.lower()
        ]
    if q.get("IsActive", "").lower() == "false":
        skus = []
    return skus


async def list_inventory_levels(request: Request) -> Response:
    sim: Sim = request.app.state.sim
    q = dict(request.query_params)
    levels = [records.inventory_level(sim.world, s) for s in _inventory_skus(q)]
    return shipbob_admin.linked_page(f"/{VERSION}/inventory-level", levels, q, "PageSize")


async def list_inventory_locations(request: Request) -> Response:
    sim: Sim = request.app.state.sim
    q = dict(request.query_params)
    located = [records.inventory_level_locations(sim.world, s) for s in _inventory_skus(q)]
    return shipbob_admin.linked_page(f"/{VERSION}/inventory-level/locations", located, q, "PageSize")


async def get_inventory_level(request: Request) -> Response:
    sim: Sim = request.app.state.sim
    raw = request.path_params["item_id"]
    sku = INV_ID_TO_SKU.get(int(raw)) if raw.isdigit() else None
    if sku is None:
        return _json(404, {"title": "Not Found", "status": 404, "detail": "Inventory item not found"})
    return _json(200, records.inventory_level(sim.world, sku))


async def retired(request: Request) -> Response:
    return _json(
        404,
        {
            "message": "API version 1.0 reached its end of support on Jul 31, 2026 and is no longer "
            f"available; use {VERSION}."
        },
    )


async def not_found(request: Request) -> Response:
    return _json(404, {"message": "No HTTP resource was found that matches the request URI."})


ROUTES = [
    Route(f"/{VERSION}/order", list_orders, methods=["GET"]),
    Route(f"/{VERSION}/order", create_order, methods=["POST"]),
    Route(f"/{VERSION}/order/{{order_id:int}}:cancel", shipbob_admin.cancel_order, methods=["POST"]),
    Route(f"/{VERSION}/order/{{order_id}}", get_order, methods=["GET"]),
    Route(f"/{VERSION}/order/{{order_id}}/shipment", get_order_shipments, methods=["GET"]),
    Route(f"/{VERSION}/inventory-level", list_inventory_levels, methods=["GET"]),
    Route(f"/{VERSION}/inventory-level/locations", list_inventory_locations, methods=["GET"]),
    Route(f"/{VERSION}/inventory-level/{{item_id}}", get_inventory_level, methods=["GET"]),
    Route(f"/{VERSION}/channel", shipbob_admin.list_channels, methods=["GET"]),
    Route(f"/{VERSION}/webhook", shipbob_admin.list_webhooks, methods=["GET"]),
    Route(f"/{VERSION}/webhook", shipbob_admin.create_webhook, methods=["POST"]),
    Route(f"/{VERSION}/webhook/{{hook_id}}", shipbob_admin.delete_webhook, methods=["DELETE"]),
    Route("/1.0/{rest:path}", retired, methods=["GET", "POST", "PUT", "PATCH", "DELETE"]),
    Route("/{rest:path}", not_found, methods=["GET", "POST", "PUT", "PATCH", "DELETE"]),
]
