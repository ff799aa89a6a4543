"""Shopify's REST ``Order`` JSON (what ``orders/*`` webhooks carry and snapshots hold) and its
``fulfillment_orders``; the GraphQL shapes are read off these (``sandbox.records.shopify_graphql``)."""

from __future__ import annotations

import json
from typing import Any

from .. import catalog
from ..rows import Row
from ..scenarios import (
    AWAITING_PAYMENT,
    CANCELLED,
    CANCELLED_SHIPPED,
    ON_HOLD,
    PARTIAL_REFUND,
    REFUNDED,
    REFUNDED_SHIPPED,
    TRACKING_MISMATCH,
)
from ..timefmt import fmt_local
from ..world import World
from .common import (
    ADJ_BASE,
    BAD_STATUSES,
    FO_BASE,
    FOLI_BASE,
    FUL_BASE,
    REFUND_BASE,
    TXN_BASE,
    dumps,
    jn,
    money,
)
from .ids import code_for, shipment_carrier, tracking_url
from .static import Static, static_for


def _removed_and_refund(r: Row, st: Static, T: int) -> tuple[list[int], dict[str, Any] | None]:
    """Quantities removed from fulfillment by a refund visible at T, and the refund spec."""
    n = len(st.lines)
    removed = [0] * n
    if r.t_refund > T or r.voided:
        return removed, None
    s = r.scen
    if s in (CANCELLED, CANCELLED_SHIPPED, REFUNDED_SHIPPED) or (s == REFUNDED and r.variant == 1):
        for j in range(n):
            removed[j] = st.lines[j].qty
        return removed, {
            "items": [(j, st.lines[j].qty, "cancel") for j in range(n)],
            "amount": st.total,
            "shipping": st.ship_price,
            "note": None,
        }
    if s == REFUNDED:
        return removed, {
            "items": [(j, st.lines[j].qty, "return") for j in range(n)],
            "amount": st.total,
            "shipping": st.ship_price,
            "note": "Returned - customer changed mind",
        }
    if s == PARTIAL_REFUND:
        if r.variant == 2:
            amt = st.ship_price or 1000
            return removed, {
                "items": [],
                "amount": amt,
                "shipping": amt,
                "note": "Shipping refund: package arrived late",
            }
        j = (st.own or [n - 1])[-1]
        ln = st.lines[j]
        if r.variant == 1:
            removed[j] = ln.qty
            return removed, {
                "items": [(j, ln.qty, "cancel")],
                "amount": ln.price * ln.qty - ln.disc + ln.tax,
                "shipping": 0,
                "note": "Customer removed item before shipping",
            }
        unit = ln.price - ln.disc // ln.qty + ln.tax // ln.qty
        return removed, {
            "items": [(j, 1, "return")],
            "amount": unit,
            "shipping": 0,
            "note": "Arrived damaged",
        }
    return removed, None


def _fulfillments(world: World, r: Row, st: Static, T: int, removed: list[int]) -> list[tuple]:
    """Store fulfillments visible at T: (t, id, status, k, {line j: qty}, is_vendor)."""
    out = []
    if r.t_bad <= T:
        out.append(
            (
                r.t_bad,
                FUL_BASE + r.i * 8 + 2,
                BAD_STATUSES[((st.h3 >> 16) & 0xFF) % 3],
                0,
                {j: st.lines[j].qty for j in st.group_a},
                False,
            )
        )
    if r.t_ful1 <= T:
        lines = {j: st.lines[j].qty - removed[j] for j in st.group_a if st.lines[j].qty - removed[j] > 0}
        out.append(
            (r.t_ful1, FUL_BASE + r.i * 8, "success", 2 if r.scen == TRACKING_MISMATCH else 0, lines, False)
        )
    if r.t_ful2 <= T:
        out.append(
            (r.t_ful2, FUL_BASE + r.i * 8 + 1, "success", 1, {j: st.lines[j].qty for j in st.group_b}, False)
        )
    if r.t_vendor <= T:
        out.append(
            (r.t_vendor, FUL_BASE + r.i * 8 + 3, "success", 3, {j: st.lines[j].qty for j in st.vendor}, True)
        )
    out.sort()
    return out


def shop_order_bytes(world: World, r: Row, T: int) -> bytes:
    state = r.shop_state(T)
    hit = world.cache_shop.get(r.i)
    if hit is not None and hit[0] == state:
        return hit[1]
    b = shop_order_str(world, r, T).encode()
    world.cache_shop.put(r.i, (state, b), len(b))
    return b


def shop_status_filter(world: World, r: Row, T: int, f: dict[str, Any]) -> bool:
    """The ``financial_status`` / ``fulfillment_status`` query filters of the orders endpoint."""
    obj = json.loads(shop_order_bytes(world, r, T))
    fs = f.get("financial_status")
    if fs and fs != "any" and obj["financial_status"] != fs:
        return False
    ff = f.get("fulfillment_status")
    if ff and ff != "any":
        want = {
            "shipped": ("fulfilled",),
            "partial": ("partial",),
            "unshipped": (None,),
            "unfulfilled": (None, "partial"),
            "fulfilled": ("fulfilled",),
        }.get(ff, (ff,))
        if obj["fulfillment_status"] not in want:
            return False
    return True


def shop_order_str(world: World, r: Row, T: int) -> str:
    st = static_for(world, r)
    oid = st.oid
    lines = st.lines
    n = len(lines)
    removed, refund = _removed_and_refund(r, st, T)
    fuls = _fulfillments(world, r, st, T, removed)
    fulfilled = [0] * n
    for f in fuls:
        if f[2] == "success":
            for j, q in f[4].items():
                fulfilled[j] += q
    lstat = []
    for j in range(n):
        want = lines[j].qty - removed[j]
        lstat.append(
            '"fulfilled"'
            if fulfilled[j] and fulfilled[j] >= want
            else ('"partial"' if fulfilled[j] else "null")
        )
    old = r.old

    def li(j: int, qty: int) -> str:
        ln = lines[j]
        if old:
            return f'{{"quantity":{qty},"fulfillment_status":{lstat[j]},{ln.json}}}'
        fq = ln.qty - fulfilled[j] - removed[j]
        return f'{{"quantity":{qty},"fulfillable_quantity":{fq if fq > 0 else 0},"fulfillment_status":{lstat[j]},{ln.json}}}'

    void_t = r.t_cancel if r.scen == CANCELLED else r.t_refund
    refunded_amt = refund["amount"] if refund else 0
    if r.scen == AWAITING_PAYMENT and r.t_paid > T:
        fin = "pending"
    elif r.voided and void_t <= T:
        fin = "voided"
    elif refund:
        fin = "refunded" if refunded_amt >= st.total else "partially_refunded"
    else:
        fin = "paid"
    total_ful = sum(fulfilled)
    want_all = sum(lines[j].qty - removed[j] for j in range(n))
    ostatus = "null" if total_ful == 0 else ('"fulfilled"' if total_ful >= want_all else '"partial"')
    onum = st.number + 1000
    ful_parts = []
    for seq, (t, fid, status, k, flines, is_vendor) in enumerate(fuls, 1):
        carrier = shipment_carrier(r, k)
        code = code_for(world, r, k)
        url = tracking_url(carrier, code)
        tl = fmt_local(t)
        lis = ",".join(li(j, q) for j, q in sorted(flines.items()))
        ful_parts.append(
            f'{{"id":{fid},"admin_graphql_api_id":"gid://shopify/Fulfillment/{fid}","order_id":{oid},'
            f'"status":"{status}","service":"{"manual" if is_vendor else "shipbob"}","created_at":"{tl}",'
            f'"updated_at":"{tl}","tracking_company":"{carrier}","tracking_number":"{code}",'
            f'"tracking_numbers":["{code}"],"tracking_url":"{url}","tracking_urls":["{url}"],"shipment_status":null,'
            f'"location_id":{catalog.VENDOR_LOCATION_ID if is_vendor else catalog.SHIPBOB_LOCATION_ID},'
            f'"origin_address":{{}},"receipt":{{}},"name":"#{onum}.{seq}","line_items":[{lis}]}}'
        )
    ref_part = ""
    if refund:
        rid = REFUND_BASE + r.i * 2
        t = fmt_local(r.t_refund)
        rlis = []
        for n_, (j, q, rt) in enumerate(refund["items"]):
            ln = lines[j]
            loc = "null" if ln.is_vendor else catalog.SHIPBOB_LOCATION_ID
            rlis.append(
                f'{{"id":{rid * 10 + n_},"quantity":{q},"line_item_id":{ln.id},"location_id":{loc},'
                f'"restock_type":"{rt}","subtotal":"{money((ln.price * ln.qty - ln.disc) * q // ln.qty)}",'
                f'"total_tax":"{money(ln.tax * q // ln.qty)}","line_item":{li(j, ln.qty)}}}'
            )
        adj = "[]"
        if refund["shipping"] and not refund["items"]:
            adj = (
                f'[{{"id":{ADJ_BASE + r.i},"order_id":{oid},"refund_id":{rid},'
                f'"amount":"{money(-refund["shipping"])}","tax_amount":"0.00","kind":"shipping_refund",'
                f'"reason":"Shipping refund"}}]'
            )
        restock = "true" if refund["items"] else "false"
        ref_part = (
            f'{{"id":{rid},"admin_graphql_api_id":"gid://shopify/Refund/{rid}","order_id":{oid},'
            f'"created_at":"{t}","processed_at":"{t}","note":{jn(refund["note"])},"restock":{restock},'
            f'"user_id":80512000001,"order_adjustments":{adj},"transactions":[{{"id":{TXN_BASE + r.i * 4 + 1},'
            f'"order_id":{oid},"kind":"refund","gateway":"shopify_payments","status":"success",'
            f'"message":"Refund processed","created_at":"{t}","test":false,"authorization":null,'
            f'"parent_id":{TXN_BASE + r.i * 4},"processed_at":"{t}","source_name":"web",'
            f'"amount":"{money(refund["amount"])}","currency":"USD"}}],"refund_line_items":[{",".join(rlis)}]}}'
        )
    cancelled = r.t_cancel <= T
    if cancelled:
        reason = catalog.CANCEL_REASONS[((st.h3 >> 8) & 0xFF) % len(catalog.CANCEL_REASONS)]
        canc = f'"cancelled_at":"{fmt_local(r.t_cancel)}","cancel_reason":"{reason}"'
    else:
        canc = '"cancelled_at":null,"cancel_reason":null'
    closed = f'"{fmt_local(r.t_closed)}"' if r.t_closed <= T else "null"
    ship_ref = refund["shipping"] if refund else 0
    cur_sub = st.subtotal - (refunded_amt - ship_ref)
    cur_tax = st.tax if not refund or refunded_amt < st.total else 0
    lines_json = ",".join([li(j, lines[j].qty) for j in range(n)])
    return (
        f'{{"updated_at":"{fmt_local(r.shop_updated_at(T))}","closed_at":{closed},{canc},'
        f'"financial_status":"{fin}","fulfillment_status":{ostatus},'
        f'"current_total_price":"{money(max(0, st.total - refunded_amt))}",'
        f'"current_subtotal_price":"{money(max(0, cur_sub))}","current_total_tax":"{money(cur_tax)}",'
        f'"total_outstanding":"{money(st.total if fin == "pending" else 0)}",'
        f'"line_items":[{lines_json}],"fulfillments":[{",".join(ful_parts)}],"refunds":[{ref_part}],'
        f"{st.shop_static()}}}"
    )


def fulfillment_orders_bytes(world: World, r: Row, T: int) -> bytes:
    """``{"fulfillment_orders": [...]}`` as bytes, cached per order per visible state."""
    state = r.shop_state(T) * 4 + (r.t_3pl <= T) * 2 + (r.t_3pl_cancel <= T)
    hit = world.cache_fo.get(r.i)
    if hit is not None and hit[0] == state:
        return hit[1]
    b = dumps({"fulfillment_orders": fulfillment_orders(world, r, T)}).encode()
    world.cache_fo.put(r.i, (state, b), len(b))
    return b


def fulfillment_orders(world: World, r: Row, T: int) -> list[dict[str, Any]]:
    st = static_for(world, r)
    removed, _ = _removed_and_refund(r, st, T)
    fuls = _fulfillments(world, r, st, T, removed)
    done = [0] * len(st.lines)
    for f in fuls:
        if f[2] == "success":
            for j, q in f[4].items():
                done[j] += q
    cancelled = r.t_cancel <= T
    out = []
    groups = []
    if st.own:
        groups.append(
            (0, st.own, catalog.SHIPBOB_LOCATION_ID, "ShipBob", ("5900 W Ogden Ave", "Cicero", "IL", "60804"))
        )
    if st.vendor:
        groups.append(
            (
                1,
                st.vendor,
                catalog.VENDOR_LOCATION_ID,
                "Nordic Knitworks (drop-ship)",
                ("221 W Superior St", "Duluth", "MN", "55802"),
            )
        )
    for g, glines, loc, lname, (a1, city, prov, zp) in groups:
        foid = FO_BASE + r.i * 2 + g
        remaining = {j: max(0, st.lines[j].qty - done[j] - removed[j]) for j in glines}
        open_q = sum(remaining.values())
        holds = []
        if cancelled or open_q == 0:
            status = "closed"
        elif g == 0 and r.scen == ON_HOLD and r.t_release > T:
            status = "on_hold"
            reason, notes = catalog.HOLD_REASONS[((st.h3 >> 24) & 0xFF) % len(catalog.HOLD_REASONS)]
            holds = [{"reason": reason, "reason_notes": notes}]
        elif (g == 0 and r.t_3pl <= T and r.t_3pl_cancel > T) or any(done[j] for j in glines):
            status = "in_progress"
        else:
            status = "open"
        if status == "closed":
            request_status = "cancellation_accepted" if cancelled and g == 0 and r.t_3pl <= T else "closed"
        elif g == 0 and r.t_3pl <= T:
            request_status = "accepted"
        else:
            request_status = "unsubmitted"
        upd = max(
            [r.t0] + [t for t in (r.t_release, r.t_3pl, r.t_cancel, r.t_ful1, r.t_ful2, r.t_vendor) if t <= T]
        )
        out.append(
            {
                "id": foid,
                "shop_id": catalog.SHOP_ID,
                "order_id": st.oid,
                "assigned_location_id": loc,
                "request_status": request_status,
                "status": status,
                "supported_actions": (
                    []
                    if status == "closed"
                    else (["release_hold"] if status == "on_hold" else ["create_fulfillment", "hold"])
                ),
                "destination": {
                    "id": foid + 17,
                    "address1": st.a1,
                    "address2": st.apt,
                    "city": st.city[0],
                    "company": st.company,
                    "country": "United States",
                    "email": st.email,
                    "first_name": st.first,
                    "last_name": st.last,
                    "phone": st.phone,
                    "province": st.city[1],
                    "zip": st.city[3],
                },
                "line_items": [
                    {
                        "id": FOLI_BASE + r.i * 8 + j,
                        "shop_id": catalog.SHOP_ID,
                        "fulfillment_order_id": foid,
                        "quantity": st.lines[j].qty - removed[j],
                        "line_item_id": st.lines[j].id,
                        "inventory_item_id": st.lines[j].sku.inventory_item_id,
                        "fulfillable_quantity": remaining[j],
                        "variant_id": st.lines[j].sku.variant_id,
                    }
                    for j in glines
                ],
                "international_duties": None,
                "fulfill_at": fmt_local(r.t0),
                "fulfill_by": None,
                "fulfillment_holds": holds,
                "created_at": fmt_local(r.t0),
                "updated_at": fmt_local(upd),
                "delivery_method": {
                    "id": foid + 29,
                    "method_type": "shipping",
                    "min_delivery_date_time": None,
                    "max_delivery_date_time": None,
                },
                "assigned_location": {
                    "address1": a1,
                    "address2": None,
                    "city": city,
                    "country_code": "US",
                    "location_id": loc,
                    "name": lname,
                    "phone": None,
                    "province": prov,
                    "zip": zp,
                },
                "merchant_requests": [],
            }
        )
    return out
