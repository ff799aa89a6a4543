"""ShipBob API 1.0 (orders, inventory, products) served from the world, mounted under ``/shipbob``.

What clients may rely on (base = ``SHIPBOB_API_URL`` = ``http://127.0.0.1:<port>/shipbob``):
- auth ``Authorization: Bearer <token>``; wrong/missing -> 401
  ``{"message": "Authorization has been denied for this request."}``;
- list endpoints answer a JSON list with headers ``page-number``, ``total-pages``, ``total-count`` and,
  unless on the last page, ``next-page``: the next page's path and query relative to the base URL
  (e.g. ``/1.0/order?Page=2&Limit=250&SortOrder=Oldest``, so ``base + next-page`` is the next URL);
  ``Page`` starts at 1, ``Limit`` defaults to 50 and must be 1..250 (else 400 with a validation body);
- ``GET /1.0/order``: ``IDs``, ``ReferenceIds`` (comma-separated), ``StartDate``/``EndDate`` (created),
  ``LastUpdateStartDate``/``LastUpdateEndDate`` (latest shipment change, inclusive), ``HasTracking``,
  ``SortOrder`` = ``Newest`` (default, id descending) | ``Oldest`` (id ascending);
- ``GET /1.0/order/{id}`` (404 ``{"message": "Order not found"}``), ``GET /1.0/order/{id}/shipment``;
- ``POST /1.0/order`` (ShipBob's create-order body) -> 201 with the created order (status ``Processing``,
  one shipment ``Processing``; ``Exception``/``OutOfStock`` if stock was short) and the products' quantities
  committed in inventory; a ``reference_id`` that already exists -> 422 (ShipBob uses 422 only for
  that) ``{"reference_id": ["Order with reference id <ref> already exists"]}``; a body that is not a valid
  order -> 400 ``{"<field path>": ["<message>"]}``, including a product the 3PL does not know:
  ``{"products[<n>].reference_id": ["No product found with reference id <ref>"]}``;
- ``GET /1.0/inventory`` (``Page``, ``Limit``, ``IDs``, ``IsActive``), ``GET /1.0/inventory/{id}``;
- ``GET /1.0/product`` (``Page``, ``Limit``, ``IDs``, ``ReferenceIds``, ``SKU``, ``Search``),
  ``GET /1.0/product/{id}``: products carry ``fulfillable_inventory_items[{id, name, quantity}]`` joining
  them to inventory items;
- ``GET /1.0/channel``.
"""

from __future__ import annotations

import json
import math
from typing import TYPE_CHECKING, Any
from urllib.parse import urlencode

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from . import catalog, records
from .timefmt import parse_iso
from .world import CreatedOrder

if TYPE_CHECKING:
    from .server import Sim

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
    return _paged(request, items, total, page, limit, "/1.0/order", q)


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


def _page_list(request: Request, items: list[Any], path: str) -> Response:
    q = dict(request.query_params)
    try:
        page = _int(q, "Page", 1, 1, 2_147_483_647)
        limit = _int(q, "Limit", 50, 1, 250)
    except Invalid as e:
        return _json(e.status, e.errors)
    total = len(items)
    return _paged(request, items[(page - 1) * limit : page * limit], total, page, limit, path, q)


async def list_inventory(request: Request) -> Response:
    sim: Sim = request.app.state.sim
    q = dict(request.query_params)
    skus = SKUS
    if q.get("IDs"):
        want = {x.strip() for x in q["IDs"].split(",")}
        skus = [s for s in skus if str(catalog.SB_INVENTORY_ID[s]) in want]
    if q.get("IsActive", "").lower() == "false":
        skus = []
    return _page_list(request, [records.inventory_item(sim.world, s) for s in skus], "/1.0/inventory")


async def get_inventory(request: Request) -> Response:
    sim: Sim = request.app.state.sim
    raw = request.path_params["item_id"]
    sku = INV_ID_TO_SKU.get(int(raw)) if raw.isdigit() else None
    if sku is None:
        return _json(404, {"message": "Inventory item not found"})
    return _json(200, records.inventory_item(sim.world, sku))


async def list_products(request: Request) -> Response:
    sim: Sim = request.app.state.sim
    q = dict(request.query_params)
    skus = SKUS
    if q.get("ReferenceIds"):
        want = {x.strip() for x in q["ReferenceIds"].split(",")}
        skus = [s for s in skus if s in want]
    if q.get("SKU"):
        want = {x.strip() for x in q["SKU"].split(",")}
        skus = [s for s in skus if s in want]
    if q.get("IDs"):
        want = {x.strip() for x in q["IDs"].split(",")}
        skus = [s for s in skus if str(catalog.SB_PRODUCT_ID[s]) in want]
    if q.get("Search"):
        term = q["Search"].lower()
        skus = [s for s in skus if term in s.lower() or term in catalog.SKU_BY_CODE[s].name.lower()]
    return _page_list(request, [records.product_record(sim.world, s) for s in skus], "/1.0/product")


async def get_product(request: Request) -> Response:
    sim: Sim = request.app.state.sim
    raw = request.path_params["product_id"]
    sku = PRODUCT_ID_TO_SKU.get(int(raw)) if raw.isdigit() else None
    if sku is None:
        return _json(404, {"message": "Product not found"})
    return _json(200, records.product_record(sim.world, sku))


async def list_channels(request: Request) -> Response:
    return _json(
        200,
        [
            {
                "id": 301,
                "name": "Harbor Goods Shopify",
                "application_name": "Shopify",
                "scopes": ["orders_read"],
            },
            {
                "id": 100102,
                "name": "Harbor Goods Ops API",
                "application_name": "API",
                "scopes": ["orders_read", "orders_write", "inventory_read", "products_read"],
            },
        ],
    )


async def not_found(request: Request) -> Response:
    return _json(404, {"message": "No HTTP resource was found that matches the request URI."})


ROUTES = [
    Route("/1.0/order", list_orders, methods=["GET"]),
    Route("/1.0/order", create_order, methods=["POST"]),
    Route("/1.0/order/{order_id}", get_order, methods=["GET"]),
    Route("/1.0/order/{order_id}/shipment", get_order_shipments, methods=["GET"]),
    Route("/1.0/inventory", list_inventory, methods=["GET"]),
    Route("/1.0/inventory/{item_id}", get_inventory, methods=["GET"]),
    Route("/1.0/product", list_products, methods=["GET"]),
    Route("/1.0/product/{product_id}", get_product, methods=["GET"]),
    Route("/1.0/channel", list_channels, methods=["GET"]),
    Route("/{rest:path}", not_found, methods=["GET", "POST", "PUT", "PATCH", "DELETE"]),
]
