"""The seeded store's vocabulary: the scenario mix, the id schemes of the three systems, the columns of
an order's timeline and the shares (methods, carriers, hours, cities) it is drawn from."""

from __future__ import annotations

import numpy as np

from . import catalog
from .rng import h64, h64_array

NEVER = 1 << 62
SPAN_DAYS = 42
DAY = 86400
HOUR = 3600

ORDER_ID_BASE = 5_410_000_000_000
ORDER_ID_STRIDE = 1000
SB_ORDER_BASE = 310_000_000
SB_SHIPMENT_BASE = 880_000_000

# ------------------------------------------------------------------------------------------ scenarios
(
    NORMAL,
    SYNC_DELAY,
    CANCELLED,
    CANCELLED_SHIPPED,
    REFUNDED,
    REFUNDED_SHIPPED,
    PARTIAL_REFUND,
    VENDOR_ONLY,
    MIXED_VENDOR,
    AWAITING_PAYMENT,
    ON_HOLD,
    MISSING_3PL,
    BACKORDER,
    TRACKING_MISMATCH,
    CARRIER_EXCEPTION,
    STALLED,
    FAILED_FUL,
    SPLIT,
) = range(18)
SCENARIO_NAMES = [
    "normal",
    "sync_delay",
    "cancelled",
    "cancelled_but_shipped",
    "refunded",
    "refunded_but_shipped",
    "partial_refund",
    "vendor_only",
    "mixed_vendor",
    "awaiting_payment",
    "on_hold",
    "missing_at_3pl",
    "backorder",
    "tracking_mismatch",
    "carrier_exception",
    "stalled_in_transit",
    "failed_fulfillment",
    "split",
]
_WEIGHTS = np.array(
    [
        0.535,
        0.05,
        0.04,
        0.012,
        0.03,
        0.008,
        0.03,
        0.03,
        0.05,
        0.025,
        0.025,
        0.02,
        0.04,
        0.015,
        0.02,
        0.015,
        0.015,
        0.04,
    ]
)
_CUM = np.cumsum(_WEIGHTS / _WEIGHTS.sum())
_CUM[-1] = 1.0

METHODS = ("Standard", "Express", "Ground")
CARRIERS = ("UPS", "USPS", "FedEx")
# tracker outcomes
OUT_DELIVERED, OUT_RETURN, OUT_FAILURE, OUT_STALL, OUT_PRE_STALL, OUT_STALL_RESUME = range(6)

# named random streams
(
    S_T0,
    S_SCEN,
    S_VAR,
    S_NL,
    S_METHOD,
    S_QUIRK,
    S_OLD,
    S_CUST,
    S_CITY,
    S_FCALT,
    S_CARRIER,
    S_PAY,
    S_PAYT,
    S_HOLD,
    S_HOLDT,
    S_3PL,
    S_HANDLE,
    S_TOD,
    S_MIN,
    S_BO,
    S_BOT,
    S_SPLIT,
    S_SPLITD,
    S_TOD2,
    S_FUL,
    S_FUL2,
    S_SYNC,
    S_BAD,
    S_BADT,
    S_VEND,
    S_VENDD,
    S_VTOD,
    S_CANC,
    S_CANC2,
    S_VOID,
    S_3PLC,
    S_REF,
    S_EXC,
    S_REPL,
    S_REPLT,
    S_RTOD,
    S_ARCH,
    S_NOTE,
    S_CARRIER2,
    S_VOIDT,
    S_NOTTOLD,
) = range(1, 47)

TIME_COLS = (
    "t0",
    "t_paid",
    "t_release",
    "t_3pl",
    "t_ship1",
    "t_ship2",
    "t_ful1",
    "t_ful2",
    "t_bad",
    "t_vendor",
    "t_cancel",
    "t_3pl_cancel",
    "t_refund",
    "t_closed",
    "t_exc",
    "t_repl",
    "t_repl_ship",
)
SMALL_COLS = (
    "scen",
    "variant",
    "method",
    "n_lines",
    "quirk",
    "old",
    "fc",
    "carrier",
    "note",
    "cust",
    "city",
    "voided",
    "carrier2",
)
COLS = (*TIME_COLS, *SMALL_COLS)
# columns whose events change the store order (updated_at bumps unless the store quirk hides them)
SHOP_COLS = (
    "t0",
    "t_paid",
    "t_release",
    "t_cancel",
    "t_refund",
    "t_ful1",
    "t_ful2",
    "t_bad",
    "t_vendor",
    "t_closed",
)
SHOP_QUIRK_COLS = ("t_ful1", "t_ful2", "t_bad", "t_vendor", "t_closed")
SB_COLS = ("t_3pl", "t_ship1", "t_ship2", "t_3pl_cancel", "t_ful1", "t_ful2")
TRACKER_KINDS = {0: "t_ship1", 1: "t_ship2", 3: "t_vendor", 4: "t_repl_ship"}

_HOUR_WEIGHTS = np.array(
    [
        0.25,
        0.15,
        0.1,
        0.08,
        0.08,
        0.12,
        0.3,
        0.55,
        0.8,
        1.0,
        1.1,
        1.2,
        1.3,
        1.25,
        1.2,
        1.15,
        1.1,
        1.15,
        1.3,
        1.45,
        1.5,
        1.35,
        1.0,
        0.55,
    ]
)

# city index -> warehouse index (east / central / west by ZIP)
_CITY_FC = np.array([2 if c[3][0] in "012" else (1 if c[3][0] in "89" else 0) for c in catalog.CITIES])


def order_id(i: int) -> int:
    return ORDER_ID_BASE + (i + 1) * ORDER_ID_STRIDE + (h64(0, 77, i) % ORDER_ID_STRIDE)


def order_ids_array(idx: np.ndarray) -> np.ndarray:
    return (
        ORDER_ID_BASE
        + (idx + 1) * ORDER_ID_STRIDE
        + (h64_array(0, 77, idx) % np.uint64(ORDER_ID_STRIDE)).astype(np.int64)
    )


def index_of_order_id(oid: int, n: int) -> int | None:
    i = (oid - ORDER_ID_BASE) // ORDER_ID_STRIDE - 1
    if 0 <= i < n and order_id(i) == oid:
        return i
    return None
