"""Shared constants (id bases, hash streams, tax rates, carrier services) and ``money``, ``jn``, ``pick``."""

from __future__ import annotations

import json
from bisect import bisect_right
from json.encoder import encode_basestring as js

from .. import catalog
from ..catalog import Sku

dumps = json.JSONEncoder(ensure_ascii=False, separators=(",", ":")).encode

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
C_CUST3, O_BILL = 702, 725  # the customer record's own address and phone; who pays for the order
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
CUM_IN = catalog.IN_STOCK_CUM
CUM_V = catalog.VENDOR_CUM


def pick(cum: list[float], x: float) -> int:
    return min(bisect_right(cum, x), len(cum) - 1)
