"""ShipBob API ``2026-07``: ``Order``s with ``shipments[]`` (store-linked, replacement and API-created).

Over 400 lines because the three kinds of order share one rendering of the ``2026-07`` shape.

The shape is the ``2026-07`` order view: shipments carry ``order_id`` and no ``store_order_id`` (removed in
``2026-01``). ``sb_record_bytes(world, sb_id, T)`` renders any one order, as a webhook payload needs it.
"""

from __future__ import annotations

from json.encoder import encode_basestring as js
from typing import Any

from .. import catalog
from ..catalog import SKU_BY_CODE
from ..rows import Row
from ..scenarios import BACKORDER, METHODS, NEVER, SB_ORDER_BASE, SB_SHIPMENT_BASE
from ..timefmt import fmt_utc
from ..world import CreatedOrder, World
from .common import SCAC, SERVICES, dumps
from .ids import code_for, shipment_carrier, tracking_url
from .static import Static, static_for

_OOS_DETAIL = (
    '[{{"id":3,"name":"OutOfStock","description":"One or more products are out of stock",'
    '"exception_fulfillment_center_id":{wid},"inventory_id":null}}]'
)


def _shipment_str(
    st: Static,
    *,
    sid: int,
    order_sb_id: int,
    ref: str,
    lines: list[int],
    wid: int,
    t_created: int,
    t_ship: int,
    t_cancel: int,
    t_uploaded: int,
    T: int,
    exception: bool,
    method: int,
    carrier: str,
    code: str,
) -> tuple[str, str]:
    wh = catalog.WAREHOUSE_BY_ID[wid]
    last = t_created
    tracking = "null"
    actual = "null"
    ltu = "null"
    efs = "AwaitingReset"
    if t_cancel <= T:
        status = "Cancelled"
        details = '[{"id":100,"name":"Merchant","description":"Cancelled by merchant request"}]'
        last = t_cancel
        efs = "Unavailable"
    elif t_ship <= T:
        status = "Completed"
        last = t_ship
        ts = fmt_utc(t_ship)
        actual = ltu = f'"{ts}"'
        details = '[{"id":201,"name":"InTransit","description":"In transit"}]'
        tracking = (
            f'{{"carrier":"{carrier}","tracking_number":"{code}","carrier_service":"{SERVICES[(carrier, method)]}",'
            f'"tracking_url":"{tracking_url(carrier, code)}","shipping_date":"{ts}","bol":null,'
            f'"pro_number":null,"scac":"{SCAC[carrier]}"}}'
        )
        efs = "Fulfilled"
    elif exception:
        status = "Exception"
        details = _OOS_DETAIL.format(wid=wid)
        efs = "AwaitingInventoryAllocation"
    else:
        status = "Processing"
        details = "[]"
    uploaded = t_uploaded <= T and status == "Completed"
    if uploaded:
        last = max(last, t_uploaded)
    grams = 0
    prods = []
    for j in lines:
        ln = st.lines[j]
        s = ln.sku
        grams += s.grams * ln.qty
        name = js(s.name)
        prods.append(
            f'{{"id":{catalog.SB_PRODUCT_ID[s.sku]},"reference_id":"{s.sku}","name":{name},"sku":"{s.sku}",'
            f'"inventory_items":[{{"id":{catalog.SB_INVENTORY_ID[s.sku]},"name":{name},"quantity":{ln.qty},'
            f'"quantity_committed":{ln.qty},"lot":null,"expiration_date":null,"serial_numbers":[],'
            f'"is_dangerous_goods":false}}]}}'
        )
    big = grams > 600
    return (
        f'{{"id":{sid},"order_id":{order_sb_id},"reference_id":"{ref}","recipient":{st.recipient()},'
        f'"created_date":"{fmt_utc(t_created)}","last_update_at":"{fmt_utc(last)}","last_tracking_update_at":{ltu},'
        f'"status":"{status}","status_details":{details},"location":{{"id":{wid},"name":"{wh[1]}"}},'
        f'"invoice_amount":0,"insurance_value":null,"ship_option":"{METHODS[method]}","tracking":{tracking},'
        f'"actual_fulfillment_date":{actual},"estimated_fulfillment_date":null,'
        f'"estimated_fulfillment_date_status":"{efs}","is_tracking_uploaded":{"true" if uploaded else "false"},'
        f'"delivery_date":null,"package_material_type":"{"Box" if big else "PolyMailer"}","require_signature":false,'
        f'"gift_message":null,"measurements":{{"depth_in":{4 if big else 1},"length_in":12,"width_in":9,'
        f'"total_weight_oz":{round(grams / 28.35 + 3.2, 1)!r}}},"products":[{",".join(prods)}]}}'
    ), status


def _order_status(statuses: list[str]) -> str:
    live = [s for s in statuses if s != "Cancelled"]
    if not live:
        return "Cancelled"
    if all(s == "Completed" for s in live):
        return "Fulfilled"
    if any(s == "Completed" for s in live):
        return "PartiallyFulfilled"
    if any(s == "Exception" for s in live):
        return "Exception"
    return "Processing"


def _sb_order_str(
    *,
    sb_id: int,
    created: int,
    purchase: int,
    ref: str,
    order_number: str,
    statuses: list[str],
    channel: str,
    method: str,
    st: Static,
    tags: str,
    shipments: list[str],
    total: float,
) -> str:
    return (
        f'{{"id":{sb_id},"created_date":"{fmt_utc(created)}","purchase_date":"{fmt_utc(purchase)}",'
        f'"reference_id":"{ref}","order_number":"{order_number}","status":"{_order_status(statuses)}","type":"DTC",'
        f'"channel":{channel},"shipping_method":"{method}","recipient":{st.recipient()},'
        f'"products":{st.sb_products()},"tags":{tags},"shipments":[{",".join(shipments)}],"gift_message":null,'
        f'"shipping_terms":{{"carrier_type":"Parcel","payment_term":"Prepaid"}},'
        f'"financials":{{"total_price":{total!r}}},"retailer_program_data":null}}'
    )


_CHANNEL_STORE = '{"id":301,"name":"Harbor Goods Shopify"}'
_CHANNEL_API = '{"id":100102,"name":"Harbor Goods Ops API"}'


def sb_order_bytes(world: World, r: Row, T: int) -> bytes:
    state = r.sb_state(T)
    hit = world.cache_sb.get(r.i)
    if hit is not None and hit[0] == state:
        return hit[1]
    st = static_for(world, r)
    sb_id = SB_ORDER_BASE + 2 * r.i
    ref = str(st.oid)
    carrier = shipment_carrier(r, 0)
    s1, a = _shipment_str(
        st,
        sid=SB_SHIPMENT_BASE + 4 * r.i,
        order_sb_id=sb_id,
        ref=ref,
        lines=st.group_a,
        wid=catalog.WAREHOUSES[r.fc][0],
        t_created=r.t_3pl,
        t_ship=r.t_ship1,
        t_cancel=r.t_3pl_cancel,
        t_uploaded=r.t_ful1,
        T=T,
        exception=(r.scen == BACKORDER and r.variant == 0),
        method=r.method,
        carrier=carrier,
        code=code_for(world, r, 0),
    )
    shipments, statuses = [s1], [a]
    if st.group_b:
        s2, b2 = _shipment_str(
            st,
            sid=SB_SHIPMENT_BASE + 4 * r.i + 1,
            order_sb_id=sb_id,
            ref=ref,
            lines=st.group_b,
            wid=catalog.WAREHOUSES[(r.fc + 1) % 3][0],
            t_created=r.t_3pl,
            t_ship=r.t_ship2,
            t_cancel=r.t_3pl_cancel,
            t_uploaded=r.t_ful2,
            T=T,
            exception=r.t_ship2 >= NEVER,
            method=r.method,
            carrier=carrier,
            code=code_for(world, r, 1),
        )
        shipments.append(s2)
        statuses.append(b2)
    b = _sb_order_str(
        sb_id=sb_id,
        created=r.t_3pl,
        purchase=r.t0,
        ref=ref,
        order_number=str(st.number + 1000),
        statuses=statuses,
        channel=_CHANNEL_STORE,
        method=st.ship_title,
        st=st,
        tags="[]",
        shipments=shipments,
        total=st.total / 100,
    ).encode()
    world.cache_sb.put(r.i, (state, b), len(b))
    return b


def sb_replacement_bytes(world: World, r: Row, T: int) -> bytes:
    st = static_for(world, r)
    sb_id = SB_ORDER_BASE + 2 * r.i + 1
    ref = f"{st.oid}-R1"
    s, a = _shipment_str(
        st,
        sid=SB_SHIPMENT_BASE + 4 * r.i + 2,
        order_sb_id=sb_id,
        ref=ref,
        lines=st.own,
        wid=catalog.WAREHOUSES[r.fc][0],
        t_created=r.t_repl,
        t_ship=r.t_repl_ship,
        t_cancel=NEVER,
        t_uploaded=NEVER,
        T=T,
        exception=False,
        method=r.method,
        carrier=shipment_carrier(r, 4),
        code=code_for(world, r, 4),
    )
    return _sb_order_str(
        sb_id=sb_id,
        created=r.t_repl,
        purchase=r.t_repl,
        ref=ref,
        order_number=f"{st.number + 1000}-R1",
        statuses=[a],
        channel=_CHANNEL_API,
        method=st.ship_title,
        st=st,
        tags='[{"name":"replacement","value":"carrier_exception"}]',
        shipments=[s],
        total=0.0,
    ).encode()


def sb_created(world: World, c: CreatedOrder, T: int) -> dict[str, Any]:
    b = c.body
    rec = b.get("recipient") or {}
    addr = rec.get("address") or {}
    wh = catalog.WAREHOUSE_BY_ID[c.location_id]
    cancelled_at: int = c.record.get("cancelled_at") or NEVER  # set by sandbox.shipbob_admin.cancel
    cancelled = cancelled_at <= T
    status = "Cancelled" if cancelled else ("Exception" if c.short else "Processing")
    products = [
        {
            "id": catalog.SB_PRODUCT_ID[sku],
            "reference_id": sku,
            "sku": sku,
            "quantity": q,
            "external_line_id": None,
            "unit_price": None,
            "gtin": None,
            "upc": None,
            "quantity_unit_of_measure_code": None,
        }
        for sku, q, _w in c.products
    ]
    recipient = {
        "name": rec.get("name"),
        "address": {
            "address1": addr.get("address1"),
            "address2": addr.get("address2"),
            "company_name": addr.get("company_name"),
            "city": addr.get("city"),
            "state": addr.get("state"),
            "country": addr.get("country"),
            "zip_code": addr.get("zip_code"),
        },
        "email": rec.get("email"),
        "phone_number": rec.get("phone_number"),
    }
    shipment = {
        "id": SB_SHIPMENT_BASE + 4 * world.n + (c.id - SB_ORDER_BASE - 2 * world.n) // 2,
        "order_id": c.id,
        "reference_id": c.reference_id,
        "recipient": recipient,
        "created_date": fmt_utc(c.created_at),
        "last_update_at": fmt_utc(cancelled_at if cancelled else c.created_at),
        "last_tracking_update_at": None,
        "status": status,
        "status_details": (
            [{"id": 100, "name": "Merchant", "description": "Cancelled by merchant request"}]
            if cancelled
            else [
                {
                    "id": 3,
                    "name": "OutOfStock",
                    "description": "One or more products are out of stock",
                    "exception_fulfillment_center_id": c.location_id,
                    "inventory_id": None,
                }
            ]
            if c.short
            else []
        ),
        "location": {"id": wh[0], "name": wh[1]},
        "invoice_amount": 0,
        "insurance_value": None,
        "ship_option": b.get("shipping_method"),
        "tracking": None,
        "actual_fulfillment_date": None,
        "estimated_fulfillment_date": None,
        "estimated_fulfillment_date_status": "AwaitingInventoryAllocation" if c.short else "AwaitingReset",
        "is_tracking_uploaded": False,
        "delivery_date": None,
        "package_material_type": None,
        "require_signature": False,
        "gift_message": b.get("gift_message"),
        "measurements": None,
        "products": [
            {
                "id": catalog.SB_PRODUCT_ID[sku],
                "reference_id": sku,
                "name": SKU_BY_CODE[sku].name,
                "sku": sku,
                "inventory_items": [
                    {
                        "id": catalog.SB_INVENTORY_ID[sku],
                        "name": SKU_BY_CODE[sku].name,
                        "quantity": q,
                        "quantity_committed": q,
                        "lot": None,
                        "expiration_date": None,
                        "serial_numbers": [],
                        "is_dangerous_goods": False,
                    }
                ],
            }
            for sku, q, _w in c.products
        ],
    }
    return {
        "id": c.id,
        "created_date": fmt_utc(c.created_at),
        "purchase_date": b.get("purchase_date") or fmt_utc(c.created_at),
        "reference_id": c.reference_id,
        "order_number": b.get("order_number") or c.reference_id,
        "status": status,
        "type": b.get("type") or "DTC",
        "channel": {"id": 100102, "name": "Harbor Goods Ops API"},
        "shipping_method": b.get("shipping_method"),
        "recipient": recipient,
        "products": products,
        "tags": b.get("tags") or [],
        "shipments": [shipment],
        "gift_message": b.get("gift_message"),
        "shipping_terms": {"carrier_type": "Parcel", "payment_term": "Prepaid"},
        "financials": {"total_price": 0.0},
        "retailer_program_data": None,
    }


def sb_record_bytes(world: World, sid: int, T: int) -> bytes | None:
    """Any 3PL order by id (store-linked, replacement or API-created), if visible at T."""
    k = sid - SB_ORDER_BASE
    if k < 0:
        return None
    if k < 2 * world.n:
        i, rep = divmod(k, 2)
        r = world.row(i)
        if rep == 0:
            return sb_order_bytes(world, r, T) if r.t_3pl <= T else None
        return sb_replacement_bytes(world, r, T) if r.t_repl <= T else None
    c = world.created_by_id(sid)
    if c is None or c.created_at > T:
        return None
    return dumps(sb_created(world, c, T)).encode()


def sb_records_bytes(world: World, ids: list[int], T: int) -> list[bytes]:
    """Batch version of ``sb_record_bytes`` for ids known to be visible at T."""
    prim = sorted({(sid - SB_ORDER_BASE) // 2 for sid in ids if 0 <= sid - SB_ORDER_BASE < 2 * world.n})
    rows = {r.i: r for r in world.rows(prim)} if prim else {}
    out = []
    for sid in ids:
        k = sid - SB_ORDER_BASE
        if 0 <= k < 2 * world.n:
            i, rep = divmod(k, 2)
            r = rows[i]
            out.append(sb_order_bytes(world, r, T) if rep == 0 else sb_replacement_bytes(world, r, T))
        else:
            c = world.created_by_id(sid)
            if c is not None:
                out.append(dumps(sb_created(world, c, T)).encode())
    return out
