"""Renders the world's records in the exact shapes of the three APIs, as of a world clock ``T``.

Callers may rely on:
- ``shop_order_bytes(world, row, T)`` -> the Shopify Admin REST 2024-10 ``Order`` JSON (bytes, compact);
- ``fulfillment_orders(world, row, T)`` -> the list for ``orders/{id}/fulfillment_orders.json``
  (``fulfillment_orders_bytes`` -> the whole response body, cached);
- ``sb_record_bytes(world, sb_id, T)`` / ``sb_records_bytes(world, ids, T)`` -> ShipBob 1.0 ``Order``s (with
  ``shipments[]``) for store-linked, replacement (``<id>-R1``) and API-created orders;
  ``sb_created(world, c, T)`` -> the dict of an API-created order;
- ``tracker_bytes(world, key, T)`` -> an EasyPost ``Tracker``; ``tracker_id(seed, key)``,
  ``tracker_key_from_id``, ``tracking_code``, ``key_from_tracking_code`` convert identifiers;
- ``inventory_item(world, sku)`` / ``product_record(world, sku)`` -> ShipBob inventory item / product;
- rendering is a pure function of ``(seed, index, T)`` (plus, for inventory and created orders, the 3PL's
  mutable state): the same seed and clock give byte-identical output. Hot paths are string templates
  (not ``json.dumps`` of dicts) and results are cached per order per visible state in the world's LRUs.
"""

from __future__ import annotations

import base64
import json
from bisect import bisect_right
from json.encoder import encode_basestring as js
from typing import Any

from . import catalog
from .catalog import SKU_BY_CODE, Sku
from .rng import h64
from .timefmt import add_business_days, fmt_date_z, fmt_local, fmt_utc, fmt_z, local_day, local_midnight
from .world import (
    AWAITING_PAYMENT,
    BACKORDER,
    CANCELLED,
    CANCELLED_SHIPPED,
    CARRIER_EXCEPTION,
    CARRIERS,
    HOUR,
    METHODS,
    MIXED_VENDOR,
    NEVER,
    NORMAL,
    ON_HOLD,
    OUT_DELIVERED,
    OUT_FAILURE,
    OUT_PRE_STALL,
    OUT_RETURN,
    OUT_STALL,
    OUT_STALL_RESUME,
    PARTIAL_REFUND,
    REFUNDED,
    REFUNDED_SHIPPED,
    SB_ORDER_BASE,
    SB_SHIPMENT_BASE,
    SPLIT,
    STALLED,
    TRACKING_MISMATCH,
    VENDOR_ONLY,
    CreatedOrder,
    Row,
    World,
    order_id,
    tracker_created_delay,
)

_dumps = json.JSONEncoder(ensure_ascii=False, separators=(",", ":")).encode

LINE_BASE = 13_900_000_000_000
FUL_BASE = 5_120_000_000_000
REFUND_BASE = 987_000_000_000
TXN_BASE = 6_610_000_000_000
FO_BASE = 6_540_000_000_000
FOLI_BASE = 14_200_000_000_000
CUSTOMER_BASE = 7_200_000_000_000
SHIPLINE_BASE = 4_400_000_000_000
ADJ_BASE = 2_150_000_000_000

# hash streams (one 64-bit draw gives several small values)
C_CUST1, C_CUST2, O_1, O_2, O_3, O_TOK1, O_TOK2 = 700, 701, 720, 721, 722, 723, 724
K_1, K_2 = 800, 801

TAX_RATES = {
    "ME": 0.055,
    "MA": 0.0625,
    "RI": 0.07,
    "NY": 0.08875,
    "NJ": 0.06625,
    "PA": 0.06,
    "MD": 0.06,
    "VA": 0.053,
    "NC": 0.0475,
    "SC": 0.06,
    "GA": 0.089,
    "FL": 0.07,
    "TN": 0.0925,
    "KY": 0.06,
    "OH": 0.0575,
    "MI": 0.06,
    "IL": 0.1025,
    "WI": 0.055,
    "MN": 0.0788,
    "MO": 0.0917,
    "NE": 0.07,
    "TX": 0.0825,
    "LA": 0.0945,
    "CO": 0.0481,
    "UT": 0.0775,
    "AZ": 0.086,
    "NM": 0.0819,
    "NV": 0.0838,
    "CA": 0.0775,
    "OR": 0.0,
    "WA": 0.1025,
    "ID": 0.06,
    "AK": 0.0,
    "HI": 0.045,
    "VT": 0.06,
    "NH": 0.0,
}
SHIP_PRICE = {"Standard": 695, "Express": 1895, "Ground": 595}
SERVICES = {
    ("UPS", 0): "Ground",
    ("UPS", 1): "2nd Day Air",
    ("UPS", 2): "Ground",
    ("USPS", 0): "Priority Mail",
    ("USPS", 1): "Priority Mail Express",
    ("USPS", 2): "Ground Advantage",
    ("FedEx", 0): "FedEx Ground",
    ("FedEx", 1): "FedEx 2Day",
    ("FedEx", 2): "FedEx Ground",
}
SCAC = {"UPS": "UPSN", "USPS": "USPS", "FedEx": "FDEG"}
UPS_SHIPPER = {0: "HG4F29", 1: "HG7R12", 2: "HG2B55", 9: "NK8830"}
GATEWAYS = ("Bank Deposit", "Cash on Delivery (COD)", "Money Order")
BAD_STATUSES = ("cancelled", "failure", "error")


def money(cents: int) -> str:
    if cents < 0:
        a, b = divmod(-cents, 100)
        return f"-{a}.{b:02d}"
    a, b = divmod(cents, 100)
    return f"{a}.{b:02d}"


def jn(s: str | None) -> str:
    return "null" if s is None else js(s)


def _sku_fragment(s: Sku) -> str:
    return (
        f'"variant_id":{s.variant_id},"product_id":{s.product_id},"title":{js(s.title)},'
        f'"variant_title":{jn(s.variant_title)},"name":{js(s.name)},"sku":{js(s.sku)},"vendor":{js(s.vendor)},'
        f'"fulfillment_service":"manual","requires_shipping":true,"taxable":true,"gift_card":false,'
        f'"grams":{s.grams},"price":"{money(s.price_cents)}","total_discount":"0.00","properties":[],'
        f'"product_exists":true,"variant_inventory_management":"shopify"'
    )


SKU_FRAG = {s.sku: _sku_fragment(s) for s in catalog.SKUS}
_CUM_IN = catalog.IN_STOCK_CUM
_CUM_V = catalog.VENDOR_CUM


def _pick(cum: list[float], x: float) -> int:
    return min(bisect_right(cum, x), len(cum) - 1)


# ================================================================================ static order details
class Line:
    __slots__ = ("disc", "id", "is_vendor", "json", "price", "qty", "sku", "tax")

    def __init__(self, lid: int, sku: Sku, qty: int, disc: int, tax: int, state: str, rate: float) -> None:
        self.id = lid
        self.sku = sku
        self.qty = qty
        self.price = sku.price_cents
        self.disc = disc
        self.tax = tax
        self.is_vendor = sku.vendor == catalog.THIRD_PARTY_VENDOR
        da = f'[{{"amount":"{money(disc)}","discount_application_index":0}}]' if disc else "[]"
        tl = f'[{{"title":"{state} State Tax","price":"{money(tax)}","rate":{rate!r}}}]' if tax else "[]"
        self.json = (
            f'"id":{lid},"admin_graphql_api_id":"gid://shopify/LineItem/{lid}",{SKU_FRAG[sku.sku]},'
            f'"discount_allocations":{da},"tax_lines":{tl}'
        )


class Static:
    """Everything about an order that never changes (computed once, cached per index)."""

    __slots__ = (
        "_r",
        "_seed",
        "a1",
        "addr_json",
        "apt",
        "city",
        "company",
        "cust_created",
        "cust_id",
        "email",
        "first",
        "group_a",
        "group_b",
        "h3",
        "i",
        "last",
        "lines",
        "note",
        "number",
        "oid",
        "own",
        "phone",
        "recipient_json",
        "sb_products_json",
        "ship_price",
        "ship_title",
        "shop_json",
        "subtotal",
        "tax",
        "total",
        "total_disc",
        "total_lines",
        "vendor",
        "weight_g",
    )

    def __init__(self, world: World, r: Row) -> None:
        seed, i = world.seed, r.i
        self._seed = seed
        self._r = r
        self.i = i
        self.oid = order_id(i)
        self.number = 1001 + i
        c1 = h64(seed, C_CUST1, r.cust)
        c2 = h64(seed, C_CUST2, r.cust)
        self.first = catalog.FIRST_NAMES[(c1 & 0xFFFF) % len(catalog.FIRST_NAMES)]
        self.last = catalog.LAST_NAMES[((c1 >> 16) & 0xFFFF) % len(catalog.LAST_NAMES)]
        self.city = catalog.CITIES[r.city]
        dom = catalog.EMAIL_DOMAINS[((c1 >> 32) & 0xFF) % len(catalog.EMAIL_DOMAINS)]
        base = (self.first + "." + self.last).lower().replace("'", "").replace("á", "a")
        style = (c1 >> 40) & 3
        local = (
            base,
            f"{base}{1 + ((c1 >> 42) & 0x7F) % 99}",
            self.first[0].lower() + self.last.lower().replace("'", ""),
            base.replace(".", "_"),
        )[style]
        self.email = f"{local}@{dom}"
        self.phone = f"+1{self.city[4]}555{100 + ((c1 >> 49) & 0xFF) % 100:04d}"
        self.cust_id = CUSTOMER_BASE + r.cust * 13
        self.cust_created = world.anchor - 200 * 86400 + int(((c2 >> 52) & 0xFFF) / 4096 * 190 * 86400)
        num = 2 + (c2 & 0xFFFF) % 9898
        self.a1 = f"{num} {catalog.STREETS[((c2 >> 16) & 0xFF) % len(catalog.STREETS)]}"
        self.apt = (
            f"Apt {1 + ((c2 >> 32) & 0x3F) % 40}{'ABCD'[(c2 >> 38) & 3]}"
            if ((c2 >> 24) & 0xFF) < 46
            else None
        )
        self.company = (
            catalog.COMPANIES[((c2 >> 48) & 0xF) % len(catalog.COMPANIES)]
            if ((c2 >> 40) & 0xFF) < 13
            else None
        )
        city = self.city
        self.addr_json = (
            f'"first_name":{js(self.first)},"last_name":{js(self.last)},"address1":{js(self.a1)},'
            f'"address2":{jn(self.apt)},"city":{js(city[0])},"province":{js(city[1])},"province_code":"{city[2]}",'
            f'"country":"United States","country_code":"US","zip":"{city[3]}","phone":"{self.phone}",'
            f'"company":{jn(self.company)},"name":{js(self.first + " " + self.last)},"latitude":null,"longitude":null'
        )
        # ---- line items
        h1 = h64(seed, O_1, i)
        h2 = h64(seed, O_2, i)
        self.h3 = h64(seed, O_3, i)
        n = r.n_lines
        kinds = [False] * n
        if r.scen == VENDOR_ONLY:
            kinds = [True] * n
        elif r.scen == MIXED_VENDOR:
            kinds[-1] = True
            if n >= 3 and ((h1 >> 56) & 0xFF) < 77:
                kinds[-2] = True
        chosen: list[Sku] = []
        for j in range(n):
            pool, cum = (catalog.VENDOR_SKUS, _CUM_V) if kinds[j] else (catalog.IN_STOCK_OWN, _CUM_IN)
            k = _pick(cum, ((h1 >> (12 * j)) & 0xFFF) / 4096)
            for _ in range(len(pool)):
                if pool[k] not in chosen:
                    break
                k = (k + 1) % len(pool)
            chosen.append(pool[k])
        if r.scen == BACKORDER and r.variant == 0:
            chosen[0] = catalog.OOS_OWN[((h2 >> 42) & 0x3F) % len(catalog.OOS_OWN)]
        elif r.scen == NORMAL and ((h2 >> 32) & 0xFF) < 8:
            chosen[0] = SKU_BY_CODE[catalog.UNKNOWN_TO_3PL[(h2 >> 40) & 1]]
        rate = TAX_RATES.get(city[2], 0.06)
        has_disc = ((h1 >> 48) & 0xFF) < 31
        lines = []
        for j, s in enumerate(chosen):
            uq = (h2 >> (8 * j)) & 0xFF
            qty = 1 if uq < 210 else (2 if uq < 246 else 3)
            gross = s.price_cents * qty
            disc = round(gross * 0.10) if has_disc else 0
            lines.append(
                Line(LINE_BASE + i * 8 + j, s, qty, disc, round((gross - disc) * rate), city[2], rate)
            )
        self.lines = lines
        self.own = [j for j, ln in enumerate(lines) if not ln.is_vendor]
        self.vendor = [j for j, ln in enumerate(lines) if ln.is_vendor]
        if r.scen == SPLIT and len(self.own) >= 2:
            half = (len(self.own) + 1) // 2
            self.group_a, self.group_b = self.own[:half], self.own[half:]
        else:
            self.group_a, self.group_b = self.own, []
        self.total_lines = sum(ln.price * ln.qty for ln in lines)
        self.total_disc = sum(ln.disc for ln in lines)
        self.subtotal = self.total_lines - self.total_disc
        self.tax = sum(ln.tax for ln in lines)
        self.ship_title = METHODS[r.method]
        sp = SHIP_PRICE[self.ship_title]
        if self.ship_title == "Standard" and self.subtotal >= 7500:
            sp = 0
        self.ship_price = sp
        self.total = self.subtotal + self.tax + sp
        self.weight_g = sum(ln.sku.grams * ln.qty for ln in lines)
        self.note: str | None
        if r.note == 2:
            self.note = catalog.INJECTION_NOTES[(i // 997) % 2]
        elif r.note == 1:
            self.note = catalog.CUSTOMER_NOTES[((h2 >> 48) & 0xFF) % len(catalog.CUSTOMER_NOTES)]
        else:
            self.note = None
        self.shop_json: str | None = None
        self.recipient_json: str | None = None
        self.sb_products_json: str | None = None

    # -------------------------------------------------------------- Shopify static part
    def shop_static(self) -> str:
        if self.shop_json is not None:
            return self.shop_json
        r, seed, h3, oid = self._r, self._seed, self.h3, self.oid
        src_b = (h64(seed, O_2, r.i) >> 56) & 0xFF
        src = "web" if src_b < 225 else ("shopify_draft_order" if src_b < 240 else "iphone")
        gateway = GATEWAYS[(h3 & 0xFF) % 3] if r.scen == AWAITING_PAYMENT else "shopify_payments"
        t1, t2 = h64(seed, O_TOK1, r.i), h64(seed, O_TOK2, r.i)
        tok = f"{t1:016x}{t2:016x}"
        conf = f"{t2 % 36**9:X}"[-9:].rjust(9, "Q")
        created = fmt_local(r.t0)
        onum = self.number + 1000
        ip = f"73.{1 + ((h3 >> 32) & 0xFF) % 254}.{1 + ((h3 >> 40) & 0xFF) % 254}.{1 + ((h3 >> 48) & 0xFF) % 254}"
        bam = "true" if ((h3 >> 56) & 0xFF) < 100 else "false"
        dc = (
            f'[{{"code":"WELCOME10","amount":"{money(self.total_disc)}","type":"percentage"}}]'
            if self.total_disc
            else "[]"
        )
        tags = "VIP" if r.note == 2 else ("repeat-customer" if ((t1 >> 60) & 0xF) == 0 else "")
        na = '[{"name":"gift_message","value":"Happy birthday!"}]' if r.note == 1 and (t2 >> 60) < 3 else "[]"
        email = js(self.email)
        ship = money(self.ship_price)
        addr = "{" + self.addr_json + "}"
        cid = self.cust_id
        cc = fmt_local(self.cust_created)
        gw = js(gateway)
        self.shop_json = (
            f'"id":{oid},"admin_graphql_api_id":"gid://shopify/Order/{oid}","app_id":580111,'
            f'"browser_ip":"{ip}","buyer_accepts_marketing":{bam},"cart_token":null,'
            f'"checkout_id":{3_590_000_000_000 + r.i * 3},"checkout_token":"{tok}","confirmation_number":"{conf}",'
            f'"confirmed":true,"contact_email":{email},"created_at":"{created}","currency":"USD",'
            f'"customer_locale":"en-US","discount_codes":{dc},"email":{email},"estimated_taxes":false,'
            f'"gateway":{gw},"landing_site":"/","location_id":null,"name":"#{onum}","note":{jn(self.note)},'
            f'"note_attributes":{na},"number":{self.number},"order_number":{onum},'
            f'"order_status_url":"https://{catalog.SHOP_DOMAIN}/{catalog.SHOP_ID}/orders/{tok}/authenticate?key={tok[:16]}",'
            f'"payment_gateway_names":[{gw}],"phone":null,"presentment_currency":"USD","processed_at":"{created}",'
            f'"reference":null,"referring_site":null,"source_identifier":null,"source_name":"{src}",'
            f'"subtotal_price":"{money(self.subtotal)}","tags":"{tags}","taxes_included":false,"test":false,'
            f'"token":"{tok}","total_discounts":"{money(self.total_disc)}",'
            f'"total_line_items_price":"{money(self.total_lines)}","total_price":"{money(self.total)}",'
            f'"total_tax":"{money(self.tax)}","total_weight":{self.weight_g},'
            f'"total_shipping_price_set":{{"shop_money":{{"amount":"{ship}","currency_code":"USD"}},'
            f'"presentment_money":{{"amount":"{ship}","currency_code":"USD"}}}},"user_id":null,'
            f'"billing_address":{addr},"shipping_address":{addr},'
            f'"customer":{{"id":{cid},"email":{email},"created_at":"{cc}","updated_at":"{cc}",'
            f'"first_name":{js(self.first)},"last_name":{js(self.last)},"state":"enabled","note":null,'
            f'"verified_email":true,"multipass_identifier":null,"tax_exempt":false,"phone":null,"tags":"",'
            f'"currency":"USD","admin_graphql_api_id":"gid://shopify/Customer/{cid}",'
            f'"default_address":{{"id":{cid + 5},"customer_id":{cid},{self.addr_json},"default":true}}}},'
            f'"shipping_lines":[{{"id":{SHIPLINE_BASE + r.i},"title":"{self.ship_title}","code":"{self.ship_title}",'
            f'"price":"{ship}","discounted_price":"{ship}","source":"shopify","carrier_identifier":null,'
            f'"requested_fulfillment_service_id":null,"phone":null,"tax_lines":[],"discount_allocations":[]}}]'
        )
        return self.shop_json

    # -------------------------------------------------------------- ShipBob static parts
    def recipient(self) -> str:
        if self.recipient_json is None:
            c = self.city
            self.recipient_json = (
                f'{{"name":{js(self.first + " " + self.last)},"address":{{"address1":{js(self.a1)},'
                f'"address2":{jn(self.apt)},"company_name":{jn(self.company)},"city":{js(c[0])},"state":"{c[2]}",'
                f'"country":"US","zip_code":"{c[3]}"}},"email":{js(self.email)},"phone_number":"{self.phone}"}}'
            )
        return self.recipient_json

    def sb_products(self) -> str:
        if self.sb_products_json is None:
            self.sb_products_json = (
                "["
                + ",".join(
                    f'{{"id":{catalog.SB_PRODUCT_ID[ln.sku.sku]},"reference_id":{js(ln.sku.sku)},"sku":{js(ln.sku.sku)},'
                    f'"quantity":{ln.qty},"external_line_id":{ln.id},"unit_price":{ln.price / 100!r},"gtin":null,'
                    f'"upc":null,"quantity_unit_of_measure_code":null}}'
                    for ln in (self.lines[j] for j in self.own)
                )
                + "]"
            )
        return self.sb_products_json


def static_for(world: World, r: Row) -> Static:
    st = world.statics.get(r.i)
    if st is None:
        st = Static(world, r)
        world.statics.put(r.i, st)
    return st


# ================================================================================ identifiers
_M64 = (1 << 64) - 1
_ODD = 0x9FB21C651E98DF25
_ODD_INV = pow(_ODD, -1, 1 << 64)


def _mask(seed: int) -> int:
    return h64(seed, 990, 0)


def tracker_id(seed: int, key: int) -> str:
    x = ((key ^ _mask(seed)) * _ODD) & _M64
    return f"trk_{x:016x}{h64(seed, 991, key):016x}"


def tracker_key_from_id(seed: int, tid: str) -> int | None:
    if not tid.startswith("trk_") or len(tid) != 36:
        return None
    try:
        x = int(tid[4:20], 16)
    except ValueError:
        return None
    key = ((x * _ODD_INV) & _M64) ^ _mask(seed)
    if key > (1 << 40) or tracker_id(seed, key) != tid:
        return None
    return key


_A8, _B8 = 73_939_133, 19_283_746
_A15, _B15 = 614_889_782_588_491, 184_467_440_737_095
_A11, _B11 = 27_644_437_961, 12_345_678_901
_INV8, _INV15, _INV11 = pow(_A8, -1, 10**8), pow(_A15, -1, 10**15), pow(_A11, -1, 10**11)


def tracking_code(seed: int, key: int, carrier: str, method: int, fc: int) -> str:
    if carrier == "UPS":
        svc = "02" if method == 1 else "03"
        return f"1Z{UPS_SHIPPER.get(fc, 'HG4F29')}{svc}{(key * _A8 + _B8 + seed * 7) % 10**8:08d}"
    if carrier == "USPS":
        return f"9400111{(key * _A15 + _B15 + seed * 7) % 10**15:015d}"
    return f"7{(key * _A11 + _B11 + seed * 7) % 10**11:011d}"


def key_from_tracking_code(seed: int, code: str) -> int | None:
    """The tracker key a tracking code was made from (not checked against the world)."""
    if code.startswith("1Z") and len(code) == 18 and code[10:].isdigit():
        return ((int(code[10:]) - _B8 - seed * 7) * _INV8) % 10**8
    if code.startswith("9400111") and len(code) == 22 and code.isdigit():
        return ((int(code[7:]) - _B15 - seed * 7) * _INV15) % 10**15
    if code.startswith("7") and len(code) == 12 and code.isdigit():
        return ((int(code[1:]) - _B11 - seed * 7) * _INV11) % 10**11
    return None


def tracking_url(carrier: str, code: str) -> str:
    if carrier == "UPS":
        return f"https://www.ups.com/track?tracknum={code}"
    if carrier == "USPS":
        return f"https://tools.usps.com/go/TrackConfirmAction?tLabels={code}"
    return f"https://www.fedex.com/fedextrack/?trknbr={code}"


def shipment_carrier(r: Row, k: int) -> str:
    if k == 3:
        return "USPS"
    if k == 4:
        return ("UPS", "USPS")[r.carrier2]
    return CARRIERS[r.carrier]


def shipment_fc(r: Row, k: int) -> int:
    if k == 3:
        return 9
    if k == 1:
        return (r.fc + 1) % 3
    return r.fc


def code_for(world: World, r: Row, k: int) -> str:
    return tracking_code(world.seed, r.i * 8 + k, shipment_carrier(r, k), r.method, shipment_fc(r, k))


# ================================================================================ Shopify
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
    b = _dumps({"fulfillment_orders": fulfillment_orders(world, r, T)}).encode()
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


# ================================================================================ ShipBob
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
    status = "Exception" if c.short else "Processing"
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
        "last_update_at": fmt_utc(c.created_at),
        "last_tracking_update_at": None,
        "status": status,
        "status_details": (
            [
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
    return _dumps(sb_created(world, c, T)).encode()


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
                out.append(_dumps(sb_created(world, c, T)).encode())
    return out


# ================================================================================ inventory / products
def inventory_item(world: World, sku: str) -> dict[str, Any]:
    s = SKU_BY_CODE[sku]
    with world.lock:
        per = {w: tuple(v) for w, v in world.stock[sku].items()}
    fcs: list[dict[str, Any]] = [
        {
            "id": wid,
            "name": catalog.WAREHOUSE_BY_ID[wid][1],
            "fulfillable_quantity": max(0, oh - cm),
            "onhand_quantity": oh,
            "committed_quantity": cm,
            "awaiting_quantity": 0,
            "internal_transfer_quantity": 0,
        }
        for wid, (oh, cm) in sorted(per.items())
    ]
    tf = sum(f["fulfillable_quantity"] for f in fcs)
    return {
        "id": catalog.SB_INVENTORY_ID[sku],
        "name": s.name,
        "is_active": True,
        "is_digital": False,
        "is_case_pick": False,
        "is_lot": False,
        "dimensions": {"weight": round(s.grams / 28.35, 2), "length": 10, "width": 8, "depth": 2},
        "total_fulfillable_quantity": tf,
        "total_onhand_quantity": sum(f["onhand_quantity"] for f in fcs),
        "total_committed_quantity": sum(f["committed_quantity"] for f in fcs),
        "total_sellable_quantity": tf,
        "total_awaiting_quantity": 0,
        "total_exception_quantity": 0,
        "total_internal_transfer_quantity": 0,
        "total_backordered_quantity": sum(
            max(0, f["committed_quantity"] - f["onhand_quantity"]) for f in fcs
        ),
        "fulfillable_quantity_by_fulfillment_center": fcs,
        "fulfillable_quantity_by_lot": [],
        "packaging_attribute": "None",
    }


def product_record(world: World, sku: str) -> dict[str, Any]:
    s = SKU_BY_CODE[sku]
    inv = inventory_item(world, sku)
    return {
        "id": catalog.SB_PRODUCT_ID[sku],
        "reference_id": sku,
        "bundle_root_information": None,
        "created_date": "2025-03-14T16:20:11+00:00",
        "channel": {"id": 301, "name": "Harbor Goods Shopify"},
        "sku": sku,
        "name": s.name,
        "barcode": f"08{s.variant_id % 10**10:010d}",
        "gtin": None,
        "upc": f"8{s.variant_id % 10**11:011d}",
        "unit_price": s.price_cents / 100,
        "total_fulfillable_quantity": inv["total_fulfillable_quantity"],
        "total_onhand_quantity": inv["total_onhand_quantity"],
        "total_committed_quantity": inv["total_committed_quantity"],
        "fulfillable_inventory_items": [{"id": inv["id"], "name": s.name, "quantity": 1}],
        "fulfillable_quantity_by_fulfillment_center": inv["fulfillable_quantity_by_fulfillment_center"],
    }


# ================================================================================ EasyPost
_LOC_CACHE: dict[tuple, str] = {}


def _loc(city: str | None, state: str | None, zp: str | None) -> str:
    key = (city, state, zp)
    s = _LOC_CACHE.get(key)
    if s is None:
        if city is None:
            s = '{"object":"TrackingLocation","city":null,"state":null,"country":null,"zip":null}'
        else:
            s = f'{{"object":"TrackingLocation","city":{js(city.upper())},"state":"{state}","country":"US","zip":"{zp}"}}'
        _LOC_CACHE[key] = s
    return s


def _origin(r: Row, k: int) -> tuple[str, str, str]:
    if k == 3:
        return catalog.VENDOR_ORIGIN
    w = catalog.WAREHOUSES[shipment_fc(r, k)]
    return (w[2], w[3], w[4])


def tracker_outcome(r: Row, k: int) -> int:
    if k != 0:
        return OUT_DELIVERED
    if r.scen == CARRIER_EXCEPTION:
        return OUT_RETURN if r.variant == 0 else OUT_FAILURE
    if r.scen == STALLED:
        return (OUT_STALL, OUT_PRE_STALL, OUT_STALL_RESUME)[r.variant]
    return OUT_DELIVERED


_NOLOC = (None, None, None)


def tracker_schedule(world: World, r: Row, k: int) -> list[Any]:
    """``[events, planned delivery time, rendered events or None]`` of tracker ``(r.i, k)``: all its scans,
    past and future, as (t, status, detail, message, location)."""
    key = r.i * 8 + k
    hit = world.cache_sched.get(key)
    if hit is not None:
        return hit
    h1 = h64(world.seed, K_1, key)
    h2 = h64(world.seed, K_2, key)

    def uu(h: int, shift: int) -> float:
        return ((h >> shift) & 0xFF) / 256

    t_ship = (r.t_ship1, r.t_ship2, 0, r.t_vendor, r.t_repl_ship)[k]
    carrier = shipment_carrier(r, k)
    method = r.method if k != 3 else 0
    origin = _origin(r, k)
    city = catalog.CITIES[r.city]
    dest = (city[0], city[2], city[3])
    hubs = catalog.HUBS[carrier]
    o_region = catalog.ZIP_REGION[origin[2][0]]
    d_region = catalog.ZIP_REGION[city[3][0]]
    outcome = tracker_outcome(r, k)
    tb = h1 & 0xFF
    transit = (2 + tb % 4, 1 + tb % 2, 3 + tb % 4)[method]
    label = t_ship - 1200 - int(uu(h1, 8) * 3600)
    pickup = t_ship + 2 * HOUR + int(uu(h1, 16) * 3 * HOUR)
    depart = pickup + 2 * HOUR + int(uu(h1, 24) * 3 * HOUR)
    sat = carrier != "FedEx"
    dday = add_business_days(local_day(t_ship), transit, saturday=sat)
    mid = local_midnight(dday)
    ofd = max(mid + 7 * HOUR + int(uu(h1, 32) * 2.5 * HOUR), depart + 6 * HOUR)
    delivered = max(mid + 10 * HOUR + int(uu(h1, 40) * 9 * HOUR), ofd + HOUR)
    ev: list[tuple] = [
        (label, "pre_transit", "label_created", f"Shipping Label Created, {carrier} Awaiting Item", _NOLOC)
    ]
    if outcome != OUT_PRE_STALL:
        ev.append((pickup, "in_transit", "arrived_at_facility", "Origin Scan", origin))
        ev.append((depart, "in_transit", "departed_facility", "Departed Facility", origin))
        n_hubs = 1 if transit <= 2 else 2
        span = ofd - 4 * HOUR - depart
        for h in range(n_hubs):
            region = hubs[o_region if h == 0 else d_region]
            hub = region[((h2 >> (8 * h)) & 0xFF) % len(region)]
            t_arr = depart + span * (h + 1) // (n_hubs + 1)
            ev.append((t_arr, "in_transit", "arrived_at_facility", "Arrived at Facility", hub))
            ev.append(
                (
                    t_arr + 2 * HOUR + int(uu(h2, 16 + 8 * h) * 3 * HOUR),
                    "in_transit",
                    "departed_facility",
                    "Departed Facility",
                    hub,
                )
            )
        ev.append(
            (ofd - 3 * HOUR, "in_transit", "arrived_at_facility", "Arrived at Destination Facility", dest)
        )
        ev.append((ofd, "out_for_delivery", "out_for_delivery", "Out for Delivery Today", dest))
        ev.append(
            (
                delivered,
                "delivered",
                "arrived_at_destination",
                "Delivered, Front Door/Porch" if uu(h1, 48) < 0.8 else "Delivered, Left with Individual",
                dest,
            )
        )
    if outcome in (OUT_RETURN, OUT_FAILURE):
        ev = [e for e in ev[:-2] if e[0] < r.t_exc]
        if outcome == OUT_RETURN:
            ev.append(
                (
                    r.t_exc,
                    "return_to_sender",
                    "return",
                    "Return to Sender - Insufficient Address, Unable to Deliver",
                    dest,
                )
            )
        else:
            detail = "damaged" if uu(h1, 56) < 0.5 else "lost"
            msg = (
                "Package Damaged in Transit - Contact Shipper"
                if detail == "damaged"
                else "Package Lost in Transit"
            )
            ev.append((r.t_exc, "failure", detail, msg, ev[-1][4] if len(ev) > 1 else origin))
        delivered = NEVER
    elif outcome in (OUT_STALL, OUT_STALL_RESUME):
        ev = ev[:4]
        delivered = NEVER
        if outcome == OUT_STALL_RESUME:
            t = r.t_exc
            ev.append(
                (
                    t,
                    "in_transit",
                    "arrived_at_facility",
                    "Arrived at Facility - Delayed",
                    hubs[d_region][((h2 >> 40) & 0xFF) % len(hubs[d_region])],
                )
            )
            mid2 = local_midnight(add_business_days(local_day(t), 2, saturday=sat))
            ofd2 = max(mid2 + 7 * HOUR + int(uu(h2, 48) * 2.5 * HOUR), t + 8 * HOUR)
            ev.append(
                (
                    ofd2 - 3 * HOUR,
                    "in_transit",
                    "arrived_at_facility",
                    "Arrived at Destination Facility",
                    dest,
                )
            )
            ev.append((ofd2, "out_for_delivery", "out_for_delivery", "Out for Delivery Today", dest))
            delivered = ofd2 + 2 * HOUR + int(uu(h2, 56) * 6 * HOUR)
            ev.append((delivered, "delivered", "arrived_at_destination", "Delivered, Front Door/Porch", dest))
    elif outcome == OUT_PRE_STALL:
        delivered = NEVER
    ev.sort(key=lambda e: e[0])
    res = [ev, mid + 20 * HOUR if delivered >= NEVER else delivered, None]
    world.cache_sched.put(key, res)
    return res


def tracker_bytes(world: World, key: int, T: int, r: Row | None = None) -> bytes:
    if r is None:
        r = world.row(key // 8)
    sched = tracker_schedule(world, r, key % 8)
    state = 0
    for e in sched[0]:
        if e[0] <= T:
            state += 1
    hit = world.cache_trk.get(key)
    if hit is not None and hit[0] == state:
        return hit[1]
    b = tracker_str(world, r, key, T, sched).encode()
    world.cache_trk.put(key, (state, b), len(b))
    return b


def tracker_str(world: World, r: Row, key: int, T: int, sched: list[Any]) -> str:
    k = key % 8
    ev, planned = sched[0], sched[1]
    st = static_for(world, r)
    tid = tracker_id(world.seed, key)
    carrier = shipment_carrier(r, k)
    code = code_for(world, r, k)
    created = (r.t_ship1, r.t_ship2, 0, r.t_vendor, r.t_repl_ship)[k] + tracker_created_delay(world.seed, key)
    nvis = sum(1 for e in ev if e[0] <= T) or 1
    last = ev[nvis - 1]
    glines = (st.group_a, st.group_b, st.own, st.vendor, st.own)[k]
    grams = sum(st.lines[j].sku.grams * st.lines[j].qty for j in glines)
    origin = _origin(r, k)
    city = catalog.CITIES[r.city]
    final = last[1] in ("delivered", "return_to_sender", "failure")
    delivered_t = last[0] if last[1] == "delivered" else None
    method = r.method if k != 3 else 0
    signed = js(st.last.upper()[:12]) if delivered_t and "Individual" in last[3] else "null"
    if sched[2] is None:
        sched[2] = [
            f'{{"object":"TrackingDetail","message":"{e[3]}","description":null,"status":"{e[1]}",'
            f'"status_detail":"{e[2]}","datetime":"{fmt_z(e[0])}","source":"{carrier}","carrier_code":null,'
            f'"tracking_location":{_loc(*e[4])}}}'
            for e in ev
        ]
    details = ",".join(sched[2][:nvis])
    pub = base64.urlsafe_b64encode(f"v1:{tid}".encode()).decode().rstrip("=")
    est = f'"{fmt_date_z(planned)}"' if planned < NEVER else "null"
    ida = f'"{fmt_z(delivered_t)}"' if delivered_t else "null"
    return (
        f'{{"id":"{tid}","object":"Tracker","mode":"production","tracking_code":"{code}","status":"{last[1]}",'
        f'"status_detail":"{last[2]}","created_at":"{fmt_z(created)}","updated_at":"{fmt_z(max(created, last[0]))}",'
        f'"signed_by":{signed},"weight":{round(grams / 28.35 + 3.2, 1)!r},"est_delivery_date":{est},'
        f'"shipment_id":null,"carrier":"{carrier}","tracking_details":[{details}],'
        f'"carrier_detail":{{"object":"CarrierDetail","service":"{SERVICES[(carrier, method)]}",'
        f'"container_type":null,"est_delivery_date_local":null,"est_delivery_time_local":null,'
        f'"origin_location":{js(f"{origin[0].upper()} {origin[1]} {origin[2]}")},'
        f'"origin_tracking_location":{_loc(*origin)},'
        f'"destination_location":{js(f"{city[0].upper()} {city[2]} {city[3]}")},'
        f'"destination_tracking_location":{_loc(city[0], city[2], city[3])},"guaranteed_delivery_date":null,'
        f'"alternate_identifier":null,"initial_delivery_attempt":{ida}}},'
        f'"finalized":{"true" if final else "false"},"is_return":false,'
        f'"public_url":"https://track.easypost.com/{pub}","fees":[]}}'
    )
