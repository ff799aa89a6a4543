"""The seeded store: every order's timeline as a pure function of ``(seed, index)`` plus the world's size
and start clock, and the state of the three external systems at any world clock.

What callers may rely on:
- ``World(seed=7, orders=2000, clock=Clock(...))``: ``world.anchor`` (epoch s) is the clock's start; orders
  are placed over the ``SPAN_DAYS`` days before it (store timezone America/New_York), index 0 oldest.
- An order's timeline (placed, paid, hold released, at the 3PL, shipped, store fulfillments, vendor
  fulfillment, cancellation, refunds, archive, carrier exception, replacement) is fixed at construction;
  what an API returns is the state of that timeline at ``world.now()`` (events with time <= clock).
- ``world.plan`` (built lazily) holds compact numpy columns, never per-order dicts; JSON is rendered on
  demand by ``sandbox.records`` and cached per order per visible state (see ``Caches``).
- Store order ``i``: id ``order_id(i)`` (increasing with ``i``), name ``#<2001+i>``; 3PL order id
  ``SB_ORDER_BASE + 2*i`` (its replacement ``+1``); trackers keyed ``i*8 + k`` (``k``: 0 first 3PL shipment,
  1 second 3PL shipment, 2 a store-only label that has no tracker, 3 vendor shipment, 4 replacement).
- The only mutable state is the 3PL's: orders created through ``create_shipbob_order`` and the inventory
  they reserve (``reserve``); both are guarded by ``world.lock``.
- ``scenario_name(i)`` / ``timeline(i)`` expose the ground truth for debugging and tests.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from . import catalog
from .clock import Clock
from .rng import h64, h64_array, u_array
from .timefmt import HOLIDAYS_NP, fmt_z, ny_offset_array

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


def _add(a: np.ndarray, b: np.ndarray | float | int) -> np.ndarray:
    """``a + b`` where ``a`` may hold NEVER (kept)."""
    return np.where(a >= NEVER, NEVER, a + np.asarray(b).astype(np.int64))


def _ship_at(
    t_from: np.ndarray,
    offset_days: np.ndarray,
    u_tod: np.ndarray,
    u_min: np.ndarray,
    *,
    cutoff_h: float = 14.0,
    first_h: float = 10.5,
    span_h: float = 8.0,
) -> np.ndarray:
    """A working-day time ``offset_days`` business days after the start day of ``t_from`` (cutoff rule)."""
    never = t_from >= NEVER
    t = np.where(never, 0, t_from)
    off = ny_offset_array(t)
    loc = t + off
    days = loc // DAY
    secs = loc % DAY
    dates = days.astype("datetime64[D]")
    is_b = np.is_busday(dates, holidays=HOLIDAYS_NP)
    start = np.busday_offset(
        dates, np.where(is_b & (secs < cutoff_h * HOUR), 0, 1) * is_b, roll="forward", holidays=HOLIDAYS_NP
    )
    ship = np.busday_offset(start, offset_days.astype(np.int64), roll="forward", holidays=HOLIDAYS_NP)
    sday = ship.astype(np.int64)
    noon = sday * DAY + 17 * HOUR
    midnight = sday * DAY - ny_offset_array(noon)
    out = midnight + ((first_h + u_tod * span_h) * HOUR).astype(np.int64)
    out = np.maximum(out, t + 2400 + (u_min * 2 * HOUR).astype(np.int64))
    return np.where(never, NEVER, out)


def diurnal_grid(anchor: int, span_days: int = SPAN_DAYS) -> tuple[np.ndarray, np.ndarray]:
    """(cumulative share, epoch) pairs so that order placement follows the store's daily rhythm."""
    step = 900
    start = anchor - span_days * DAY
    times = np.arange(start, anchor + 1, step, dtype=np.int64)
    loc = times + ny_offset_array(times)
    hours = (loc % DAY) // HOUR
    wd = ((loc // DAY) + 3) % 7
    w = _HOUR_WEIGHTS[hours] * np.where(wd >= 5, 1.15, 1.0)
    cum = np.concatenate([[0.0], np.cumsum(w[:-1])])
    cum /= cum[-1]
    return cum, times


def plan_chunk(
    seed: int, n: int, anchor: int, lo: int, hi: int, grid: tuple[np.ndarray, np.ndarray] | None = None
) -> dict[str, np.ndarray]:
    """The plan columns of orders ``lo..hi-1`` of a world of ``n`` orders (pure, vectorised)."""
    idx = np.arange(lo, hi, dtype=np.int64)
    m = len(idx)

    def U(stream: int) -> np.ndarray:
        return u_array(seed, stream, idx)

    def secs(a: np.ndarray | float) -> np.ndarray:
        return np.asarray(a).astype(np.int64)

    cum, gtimes = grid if grid is not None else diurnal_grid(anchor)
    x = (idx + U(S_T0)) / max(n, 1)
    t0 = np.interp(x, cum, gtimes.astype(np.float64)).astype(np.int64)
    t0 = np.minimum(t0, anchor - 60)

    scen = np.searchsorted(_CUM, U(S_SCEN), side="right").astype(np.int64)
    scen = np.minimum(scen, len(_WEIGHTS) - 1)
    vu = U(S_VAR)
    variant = np.zeros(m, dtype=np.int64)
    variant = np.where(scen == REFUNDED, np.select([vu < 0.5, vu < 0.8], [0, 1], 2), variant)
    variant = np.where(scen == PARTIAL_REFUND, np.select([vu < 0.5, vu < 0.8], [0, 1], 2), variant)
    variant = np.where(scen == CARRIER_EXCEPTION, (vu >= 0.6).astype(np.int64), variant)
    variant = np.where(scen == STALLED, np.select([vu < 0.6, vu < 0.8], [0, 1], 2), variant)
    variant = np.where(scen == FAILED_FUL, (vu >= 0.7).astype(np.int64), variant)
    variant = np.where(scen == SYNC_DELAY, (vu < 0.2).astype(np.int64), variant)
    variant = np.where(scen == BACKORDER, (vu >= 0.65).astype(np.int64), variant)

    un = U(S_NL)
    n_lines = np.select([un < 0.6, un < 0.88, un < 0.97], [1, 2, 3], 4)
    need2 = (scen == MIXED_VENDOR) | (scen == SPLIT) | ((scen == PARTIAL_REFUND) & (variant == 1))
    n_lines = np.where(need2, np.maximum(n_lines, 2), n_lines)

    um = U(S_METHOD)
    method = np.select([um < 0.70, um < 0.82], [0, 1], 2)
    quirk = (U(S_QUIRK) < 0.10).astype(np.int64)
    old = (U(S_OLD) < 0.02).astype(np.int64)
    n_cust = max(20, int(n * 0.75))
    cust = (h64_array(seed, S_CUST, idx) % np.uint64(n_cust)).astype(np.int64)
    city = (u_array(seed, S_CITY, cust) * len(catalog.CITIES)).astype(np.int64)
    fc = _CITY_FC[city]
    fc = np.where(U(S_FCALT) < 0.15, (fc + 1) % 3, fc)
    uc = U(S_CARRIER)
    # Standard: USPS/UPS, Express: UPS/FedEx, Ground: UPS/FedEx
    carrier = np.select(
        [method == 0, method == 1],
        [np.where(uc < 0.55, 1, 0), np.where(uc < 0.6, 0, 2)],
        np.where(uc < 0.5, 0, 2),
    )
    carrier2 = np.where(U(S_CARRIER2) < 0.5, 0, 1)
    idx_note = ((idx % 997) == 13) | ((idx % 1499) == 700)
    note = np.where(idx_note, 2, (U(S_NOTE) < 0.08).astype(np.int64))

    # ---------------------------------------------------------------- payment and holds
    ap = scen == AWAITING_PAYMENT
    t_paid = np.where(ap, np.where(U(S_PAY) < 0.45, NEVER, t0 + secs(DAY + U(S_PAYT) * 5 * DAY)), t0)
    oh = scen == ON_HOLD
    t_release = np.where(
        oh, np.where(U(S_HOLD) < 0.35, NEVER, t0 + secs(6 * HOUR + U(S_HOLDT) * 4.75 * DAY)), t0
    )
    t_ready = np.maximum(t_paid, t_release)
    no3pl = (scen == VENDOR_ONLY) | (scen == MISSING_3PL)
    t_3pl = np.where(no3pl, NEVER, _add(t_ready, secs(120 + U(S_3PL) * 2580)))

    # ---------------------------------------------------------------- 3PL shipping
    uh = U(S_HANDLE)
    handling = np.where(
        method == 1,
        np.select([uh < 0.85, uh < 0.98], [0, 1], 2),
        np.select([uh < 0.35, uh < 0.90, uh < 0.97], [0, 1, 2], 3),
    )
    t_ship1 = _ship_at(t_3pl, handling, U(S_TOD), U(S_MIN))
    bo = scen == BACKORDER
    bo_late = _ship_at(
        _add(t_3pl, secs(5 * DAY + U(S_BOT) * 15 * DAY)), np.zeros(m, np.int64), U(S_TOD), U(S_MIN)
    )
    t_ship1 = np.where(bo, np.where(U(S_BO) < 0.4, NEVER, bo_late), t_ship1)
    split = scen == SPLIT
    t_ship2 = np.where(
        split & (U(S_SPLIT) >= 0.1),
        _ship_at(t_ship1, 1 + (U(S_SPLITD) * 3).astype(np.int64), U(S_TOD2), U(S_MIN)),
        NEVER,
    )

    # ---------------------------------------------------------------- store fulfillments
    lag = secs(120 + U(S_FUL) * 5280)
    sync = scen == SYNC_DELAY
    lag = np.where(sync, secs(1.5 * DAY + U(S_SYNC) * 7.5 * DAY), lag)
    t_ful1 = _add(t_ship1, lag)
    t_ful1 = np.where(sync & (variant == 1), NEVER, t_ful1)
    t_ful2 = _add(t_ship2, secs(120 + U(S_FUL2) * 5280))
    ff = scen == FAILED_FUL
    t_bad = np.where(ff, _add(t_ship1, secs(300 + U(S_BAD) * 3300)), NEVER)
    t_ful1 = np.where(
        ff, np.where(variant == 1, NEVER, _add(t_bad, secs(2 * HOUR + U(S_BADT) * 3 * DAY))), t_ful1
    )

    vend = (scen == VENDOR_ONLY) | (scen == MIXED_VENDOR)
    uv = U(S_VEND)
    vdays = np.where(uv < 0.75, 1 + (U(S_VENDD) * 4).astype(np.int64), 6 + (U(S_VENDD) * 4).astype(np.int64))
    t_vendor = np.where(vend & (uv < 0.95), _ship_at(t0, vdays, U(S_VTOD), U(S_MIN), first_h=9.0), NEVER)

    # ---------------------------------------------------------------- cancellations and refunds
    t_cancel = np.full(m, NEVER, dtype=np.int64)
    t_3pl_cancel = np.full(m, NEVER, dtype=np.int64)
    t_refund = np.full(m, NEVER, dtype=np.int64)
    voided = np.zeros(m, dtype=np.int64)

    c = scen == CANCELLED
    tc = t0 + secs(600 + U(S_CANC) * 36 * HOUR)
    ship_ok = t_ship1 < NEVER
    early = t0 + secs(300 + (np.where(ship_ok, t_ship1, t0 + 7200) - 1800 - t0 - 300).clip(0) * U(S_CANC2))
    tc = np.where(ship_ok & (tc >= t_ship1 - 1800), early, tc)
    t_cancel = np.where(c, tc, t_cancel)
    c_before = c & (tc < t_3pl)
    t_3pl = np.where(c_before, NEVER, t_3pl)
    t_3pl_cancel = np.where(c & ~c_before, tc + secs(180 + U(S_3PLC) * 5220), t_3pl_cancel)
    # Some cancellations never reach the 3PL: its order stays open, and could still ship, until someone
    # cancels it there (`cancelled_not_stopped`, mended by the guided fix).
    t_3pl_cancel = np.where(c & ~c_before & (U(S_NOTTOLD) < 0.3), NEVER, t_3pl_cancel)
    c_void = c & (U(S_VOID) < 0.4)
    voided = np.where(c_void, 1, voided)
    t_refund = np.where(c & ~c_void, tc, t_refund)

    cs = scen == CANCELLED_SHIPPED
    tcs = np.maximum(_add(t_ship1, secs(-4 * HOUR + U(S_CANC) * 10 * HOUR)), _add(t_3pl, 600))
    t_cancel = np.where(cs, tcs, t_cancel)
    t_refund = np.where(cs, tcs, t_refund)

    r = scen == REFUNDED
    t_refund = np.where(r & (variant == 0), _add(t_ship1, secs(9 * DAY + U(S_REF) * 16 * DAY)), t_refund)
    r1 = r & (variant == 1)
    tr1 = _add(t_3pl, secs(1800 + U(S_REF) * 5.5 * HOUR))
    t_refund = np.where(r1, tr1, t_refund)
    t_3pl_cancel = np.where(r1, _add(tr1, secs(300 + U(S_3PLC) * 6900)), t_3pl_cancel)
    r2 = r & (variant == 2)
    tv = t0 + secs(1800 + U(S_VOIDT) * 20 * HOUR)
    voided = np.where(r2, 1, voided)
    t_refund = np.where(r2, tv, t_refund)
    r2_before = r2 & (tv < t_3pl)
    t_3pl = np.where(r2_before, NEVER, t_3pl)
    t_3pl_cancel = np.where(r2 & ~r2_before, _add(tv, secs(300 + U(S_3PLC) * 6900)), t_3pl_cancel)

    rs = scen == REFUNDED_SHIPPED
    trs = np.maximum(_add(t_3pl, 300), _add(t_ship1, secs(-3600 - U(S_REF) * 7 * HOUR)))
    t_refund = np.where(rs, trs, t_refund)

    pr = scen == PARTIAL_REFUND
    t_refund = np.where(pr & (variant != 1), _add(t_ship1, secs(8 * DAY + U(S_REF) * 12 * DAY)), t_refund)
    pr1 = pr & (variant == 1)
    frac = 0.2 + 0.6 * U(S_REF)
    t_refund = np.where(
        pr1,
        np.where(
            t_ship1 < NEVER,
            t_3pl + secs((t_ship1 - t_3pl) * frac),
            _add(t_3pl, secs(2 * HOUR + frac * 18 * HOUR)),
        ),
        t_refund,
    )

    no_ship = c | r1 | r2
    t_ship1 = np.where(no_ship, NEVER, t_ship1)
    t_ship2 = np.where(no_ship, NEVER, t_ship2)
    t_ful1 = np.where(no_ship | cs | rs, NEVER, t_ful1)
    t_ful2 = np.where(no_ship | cs | rs, NEVER, t_ful2)
    t_3pl_cancel = np.where(t_3pl >= NEVER, NEVER, t_3pl_cancel)

    # ---------------------------------------------------------------- carrier exceptions and replacements
    ce = scen == CARRIER_EXCEPTION
    st2 = (scen == STALLED) & (variant == 2)
    t_exc = np.where(ce, _add(t_ship1, secs(1.5 * DAY + U(S_EXC) * 3 * DAY)), NEVER)
    t_exc = np.where(st2, _add(t_ship1, secs(7 * DAY + U(S_EXC) * 5 * DAY)), t_exc)
    repl = ce & (U(S_REPL) < 0.5)
    t_repl = np.where(repl, _add(t_exc, secs(3 * HOUR + U(S_REPLT) * 37 * HOUR)), NEVER)
    t_repl_ship = _ship_at(t_repl, (U(S_REPLT) < 0.5).astype(np.int64), U(S_RTOD), U(S_MIN))

    # ---------------------------------------------------------------- archive (closed_at)
    has_own = scen != VENDOR_ONLY
    req = np.maximum(np.where(has_own, t_ful1, 0), np.where(split, t_ful2, 0))
    req = np.maximum(req, np.where(vend, t_vendor, 0))
    arch = U(S_ARCH) < 0.65
    t_closed = np.where(arch & (req < NEVER) & ~(c | cs), req, NEVER)
    t_closed = np.where(arch & (c | cs), t_cancel, t_closed)

    out = {
        "t0": t0,
        "t_paid": t_paid,
        "t_release": t_release,
        "t_3pl": t_3pl,
        "t_ship1": t_ship1,
        "t_ship2": t_ship2,
        "t_ful1": t_ful1,
        "t_ful2": t_ful2,
        "t_bad": t_bad,
        "t_vendor": t_vendor,
        "t_cancel": t_cancel,
        "t_3pl_cancel": t_3pl_cancel,
        "t_refund": t_refund,
        "t_closed": t_closed,
        "t_exc": t_exc,
        "t_repl": t_repl,
        "t_repl_ship": t_repl_ship,
        "scen": scen,
        "variant": variant,
        "method": method,
        "n_lines": n_lines,
        "quirk": quirk,
        "old": old,
        "fc": fc,
        "carrier": carrier,
        "note": note,
        "cust": cust,
        "city": city,
        "voided": voided,
        "carrier2": carrier2,
    }
    for k in TIME_COLS:
        out[k] = out[k].astype(np.int64)
    for k in SMALL_COLS:
        out[k] = out[k].astype(np.int32 if k in ("cust", "city") else np.int8)
    return out


class Row:
    """One order's plan as plain Python ints (attribute per column, plus ``i``)."""

    __slots__ = ("i", *COLS)

    i: int
    t0: int
    t_paid: int
    t_release: int
    t_3pl: int
    t_ship1: int
    t_ship2: int
    t_ful1: int
    t_ful2: int
    t_bad: int
    t_vendor: int
    t_cancel: int
    t_3pl_cancel: int
    t_refund: int
    t_closed: int
    t_exc: int
    t_repl: int
    t_repl_ship: int
    scen: int
    variant: int
    method: int
    n_lines: int
    quirk: int
    old: int
    fc: int
    carrier: int
    note: int
    cust: int
    city: int
    voided: int
    carrier2: int

    def __init__(self, i: int, values: tuple[int, ...]) -> None:
        self.i = i
        for k, v in zip(COLS, values, strict=True):
            setattr(self, k, v)

    def shop_state(self, T: int) -> int:
        n = 0
        for v in (
            self.t0,
            self.t_paid,
            self.t_release,
            self.t_cancel,
            self.t_refund,
            self.t_ful1,
            self.t_ful2,
            self.t_bad,
            self.t_vendor,
            self.t_closed,
        ):
            if v <= T:
                n += 1
        return n

    def shop_updated_at(self, T: int) -> int:
        m = self.t0
        for v in (self.t_paid, self.t_release, self.t_cancel, self.t_refund):
            if m < v <= T:
                m = v
        if not self.quirk:
            for v in (self.t_ful1, self.t_ful2, self.t_bad, self.t_vendor, self.t_closed):
                if m < v <= T:
                    m = v
        return m

    def sb_state(self, T: int) -> int:
        n = 0
        for v in (self.t_3pl, self.t_ship1, self.t_ship2, self.t_3pl_cancel, self.t_ful1, self.t_ful2):
            if v <= T:
                n += 1
        return n

    def sb_updated_at(self, T: int) -> int:
        m = self.t_3pl
        for v in (self.t_ship1, self.t_ship2, self.t_3pl_cancel, self.t_ful1, self.t_ful2):
            if m < v <= T:
                m = v
        return m


def rows_from_plan(plan: dict[str, np.ndarray], a: int, b: int, base: int = 0) -> list[Row]:
    lists = [plan[c][a:b].tolist() for c in COLS]
    return [Row(base + a + j, vals) for j, vals in enumerate(zip(*lists, strict=True))]


class LRU:
    """A bounded mapping evicting oldest insertions first, by entry count and optionally by bytes.

    Safe to share between the server thread and a warming thread (mutations take a lock; reads are
    single dict lookups)."""

    def __init__(self, cap: int, cap_bytes: int = 0) -> None:
        self.cap = cap
        self.cap_bytes = cap_bytes
        self.bytes = 0
        self.d: OrderedDict[Any, Any] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, k: Any) -> Any:
        return self.d.get(k)

    def put(self, k: Any, v: Any, size: int = 0) -> None:
        with self._lock:
            d = self.d
            old = d.pop(k, None)
            if old is not None and self.cap_bytes:
                self.bytes -= old[2] if isinstance(old, tuple) and len(old) > 2 else 0
            d[k] = (v[0], v[1], size) if size and isinstance(v, tuple) else v
            self.bytes += size
            while d and (len(d) > self.cap or (self.cap_bytes and self.bytes > self.cap_bytes)):
                _, ov = d.popitem(last=False)
                if isinstance(ov, tuple) and len(ov) > 2:
                    self.bytes -= ov[2]

    def clear(self) -> None:
        with self._lock:
            self.d.clear()
            self.bytes = 0

    def __len__(self) -> int:
        return len(self.d)


@dataclass
class CreatedOrder:
    """A 3PL order created through the API (mutable world state)."""

    id: int
    reference_id: str
    created_at: int
    body: dict[str, Any]
    products: list[tuple[str, int, int]]  # (sku, quantity, warehouse id)
    location_id: int
    short: bool  # inventory was short when it was created (-> Exception / OutOfStock)
    record: dict[str, Any] = field(default_factory=dict)


class World:
    """The seeded store and the state of Shopify, ShipBob and EasyPost at the world clock."""

    def __init__(
        self,
        *,
        seed: int = 7,
        orders: int = 2000,
        clock: Clock | None = None,
        span_days: int = SPAN_DAYS,
        cache_mb: int = 1024,
    ) -> None:
        if orders < 1:
            raise ValueError("orders must be >= 1")
        self.seed = int(seed)
        self.n = int(orders)
        self.clock = clock or Clock()
        self.anchor = int(self.clock.start)
        self.span_days = span_days
        self.grid = diurnal_grid(self.anchor, span_days)
        self.lock = threading.RLock()
        self._plan: dict[str, np.ndarray] | None = None
        self._trackers: tuple[np.ndarray, np.ndarray] | None = None
        self.stock = catalog.stock_plan(self.seed)  # sku -> {wid: [onhand, committed]}
        self.created: list[CreatedOrder] = []
        self.created_by_ref: dict[str, CreatedOrder] = {}
        cap_b = cache_mb * 1024 * 1024
        self.statics = LRU(60_000)
        self.cache_shop = LRU(1 << 30, cap_b // 2)
        self.cache_sb = LRU(1 << 30, cap_b // 4)
        self.cache_trk = LRU(1 << 30, cap_b // 4)
        self.cache_sched = LRU(100_000)
        self.cache_fo = LRU(100_000, cap_b // 16)
        self.query_cache = LRU(64)

    # ------------------------------------------------------------------ plan
    @property
    def plan(self) -> dict[str, np.ndarray]:
        if self._plan is None:
            with self.lock:
                if self._plan is None:
                    parts = [
                        plan_chunk(self.seed, self.n, self.anchor, lo, min(self.n, lo + 262_144), self.grid)
                        for lo in range(0, self.n, 262_144)
                    ]
                    self._plan = {k: np.concatenate([p[k] for p in parts]) for k in COLS}
        return self._plan

    def plan_chunk(self, lo: int, hi: int) -> dict[str, np.ndarray]:
        """Plan columns of ``lo..hi-1`` without building the whole world's plan."""
        if self._plan is not None:
            return {k: v[lo:hi] for k, v in self._plan.items()}
        return plan_chunk(self.seed, self.n, self.anchor, lo, hi, self.grid)

    def row(self, i: int) -> Row:
        p = self.plan
        return Row(i, tuple(p[c][i].item() for c in COLS))

    def rows(self, idx: list[int] | range | np.ndarray) -> list[Row]:
        p = self.plan
        ix = np.asarray(idx, dtype=np.int64)
        lists = [p[c][ix].tolist() for c in COLS]
        return [Row(i, vals) for i, vals in zip(ix.tolist(), zip(*lists, strict=True), strict=True)]

    def now(self) -> int:
        return int(self.clock.now())

    def scenario_name(self, i: int) -> str:
        return SCENARIO_NAMES[int(self.plan["scen"][i])]

    def timeline(self, i: int) -> dict[str, Any]:
        r = self.row(i)
        return {
            "index": i,
            "order_id": order_id(i),
            "name": f"#{2001 + i}",
            "scenario": SCENARIO_NAMES[r.scen],
            "variant": r.variant,
            "method": METHODS[r.method],
            "quirk": bool(r.quirk),
            "events": {c: fmt_z(getattr(r, c)) for c in TIME_COLS if getattr(r, c) < NEVER},
        }

    # ------------------------------------------------------------------ store (Shopify) queries
    def shop_visible(self, T: int) -> int:
        """Number of store orders placed at or before ``T`` (always a prefix of indices)."""
        return int(np.searchsorted(self.plan["t0"], T, side="right"))

    def shop_updated_at(self, lo: int, hi: int, T: int) -> np.ndarray:
        p = self.plan
        out = np.full(hi - lo, -1, dtype=np.int64)
        quirk = p["quirk"][lo:hi].astype(bool)
        for c in SHOP_COLS:
            col = p[c][lo:hi]
            vis = col <= T
            if c in SHOP_QUIRK_COLS:
                vis &= ~quirk
            np.maximum(out, np.where(vis, col, -1), out=out)
        return out

    def shop_mask(self, lo: int, hi: int, T: int, f: dict[str, Any]) -> np.ndarray:
        """Which of orders ``lo..hi-1`` match the store filters ``f`` at ``T``."""
        p = self.plan
        t0 = p["t0"][lo:hi]
        mask = t0 <= T
        st = f.get("status", "open")
        if st != "any":
            canc = p["t_cancel"][lo:hi] <= T
            closed = p["t_closed"][lo:hi] <= T
            if st == "open":
                mask &= ~canc & ~closed
            elif st == "closed":
                mask &= closed
            elif st == "cancelled":
                mask &= canc
        if "created_at_min" in f:
            mask &= t0 >= f["created_at_min"]
        if "created_at_max" in f:
            mask &= t0 <= f["created_at_max"]
        if "updated_at_min" in f or "updated_at_max" in f:
            up = self.shop_updated_at(lo, hi, T)
            if "updated_at_min" in f:
                mask &= up >= f["updated_at_min"]
            if "updated_at_max" in f:
                mask &= up <= f["updated_at_max"]
        if "since_id" in f:
            mask &= order_ids_array(np.arange(lo, hi, dtype=np.int64)) > f["since_id"]
        if "financial_status" in f or "fulfillment_status" in f:
            from . import records  # local import: records depends on world

            rows = rows_from_plan(p, lo, hi)
            extra = np.array([records.shop_status_filter(self, r, T, f) for r in rows], dtype=bool)
            mask &= extra
        return mask

    def shop_scan(
        self, start: int, limit: int, T: int, f: dict[str, Any], *, backward: bool = False
    ) -> list[int]:
        """Up to ``limit`` matching indices after ``start`` (exclusive; ascending) or before it (backward)."""
        n_vis = self.shop_visible(T)
        out: list[int] = []
        step = max(4096, limit * 4)
        if not backward:
            lo = max(0, start + 1)
            while lo < n_vis and len(out) < limit:
                hi = min(n_vis, lo + step)
                hits = np.nonzero(self.shop_mask(lo, hi, T, f))[0] + lo
                out.extend(hits[: limit - len(out)].tolist())
                lo = hi
            return out
        hi = min(start, n_vis)
        while hi > 0 and len(out) < limit:
            lo = max(0, hi - step)
            hits = (np.nonzero(self.shop_mask(lo, hi, T, f))[0] + lo)[::-1]
            out.extend(hits[: limit - len(out)].tolist())
            hi = lo
        return sorted(out)

    # ------------------------------------------------------------------ 3PL (ShipBob) queries
    def sb_last_update(self, T: int) -> np.ndarray:
        p = self.plan
        out = np.full(self.n, -1, dtype=np.int64)
        for c in SB_COLS:
            col = p[c]
            np.maximum(out, np.where(col <= T, col, -1), out=out)
        return out

    def sb_listing(self, T: int, f: dict[str, Any]) -> np.ndarray:
        """Sorted ascending 3PL order ids visible at ``T`` matching filters ``f`` (cached per T and f)."""
        with self.lock:
            key = (
                "sb",
                T,
                tuple(sorted((k, tuple(v) if isinstance(v, list) else v) for k, v in f.items())),
                len(self.created),
            )
            hit = self.query_cache.get(key)
            if hit is not None:
                return hit
            p = self.plan
            prim = p["t_3pl"] <= T
            rep = p["t_repl"] <= T
            created_ids = np.array([c.id for c in self.created if c.created_at <= T], dtype=np.int64)
            created_at = np.array([c.created_at for c in self.created if c.created_at <= T], dtype=np.int64)
            # an API-created order's last update: its creation, or its cancellation (shipbob_api)
            created_lu = np.array(
                [
                    max(c.created_at, c.record["cancelled_at"])
                    if c.record.get("cancelled_at") is not None and c.record["cancelled_at"] <= T
                    else c.created_at
                    for c in self.created
                    if c.created_at <= T
                ],
                dtype=np.int64,
            )
            if "start" in f or "end" in f:
                cp, cr = p["t_3pl"], p["t_repl"]
                if "start" in f:
                    prim &= cp >= f["start"]
                    rep &= cr >= f["start"]
                if "end" in f:
                    prim &= cp <= f["end"]
                    rep &= cr <= f["end"]
            keep_c = np.ones(len(created_ids), dtype=bool)
            if "start" in f:
                keep_c &= created_at >= f["start"]
            if "end" in f:
                keep_c &= created_at <= f["end"]
            if "lu_start" in f or "lu_end" in f:
                lu = self.sb_last_update(T)
                rl = np.maximum(
                    np.where(p["t_repl"] <= T, p["t_repl"], -1),
                    np.where(p["t_repl_ship"] <= T, p["t_repl_ship"], -1),
                )
                if "lu_start" in f:
                    prim &= lu >= f["lu_start"]
                    rep &= rl >= f["lu_start"]
                    keep_c &= created_lu >= f["lu_start"]
                if "lu_end" in f:
                    prim &= lu <= f["lu_end"]
                    rep &= rl <= f["lu_end"]
                    keep_c &= created_lu <= f["lu_end"]
            if f.get("has_tracking") is not None:
                ht = (p["t_ship1"] <= T) | (p["t_ship2"] <= T)
                prim &= ht if f["has_tracking"] else ~ht
                rht = p["t_repl_ship"] <= T
                rep &= rht if f["has_tracking"] else ~rht
                keep_c &= not f["has_tracking"]
            ids = np.concatenate(
                [
                    SB_ORDER_BASE + 2 * np.nonzero(prim)[0].astype(np.int64),
                    SB_ORDER_BASE + 2 * np.nonzero(rep)[0].astype(np.int64) + 1,
                    created_ids[keep_c],
                ]
            )
            ids.sort()
            if "ids" in f:
                ids = ids[np.isin(ids, np.array(f["ids"], dtype=np.int64))]
            self.query_cache.put(key, ids)
            return ids

    def sb_id_for_reference(self, ref: str, T: int) -> int | None:
        """The 3PL order id with this ``reference_id`` visible at ``T``, if any."""
        with self.lock:
            c = self.created_by_ref.get(ref)
            if c is not None and c.created_at <= T:
                return c.id
        base, _, rsuffix = ref.partition("-R")
        if not base.isdigit():
            return None
        i = index_of_order_id(int(base), self.n)
        if i is None:
            return None
        p = self.plan
        if not rsuffix:
            return SB_ORDER_BASE + 2 * i if p["t_3pl"][i] <= T else None
        if rsuffix == "1" and p["t_repl"][i] <= T:
            return SB_ORDER_BASE + 2 * i + 1
        return None

    def created_by_id(self, sid: int) -> CreatedOrder | None:
        k = (sid - SB_ORDER_BASE - 2 * self.n) // 2
        with self.lock:
            if 0 <= k < len(self.created) and self.created[k].id == sid:
                return self.created[k]
        return None

    def next_created_id(self) -> int:
        return SB_ORDER_BASE + 2 * self.n + 2 * len(self.created)

    # ------------------------------------------------------------------ inventory (mutable)
    def fulfillable(self, sku: str) -> int:
        per = self.stock.get(sku)
        if per is None:
            return 0
        return sum(max(0, oh - cm) for oh, cm in per.values())

    def reserve(self, sku: str, qty: int) -> tuple[int, bool]:
        """Commit ``qty`` of ``sku`` at the warehouse with the most fulfillable stock.

        Returns ``(warehouse id, short)``; ``short`` is True when the stock did not cover it (the
        committed quantity is recorded anyway, like a backorder)."""
        with self.lock:
            per = self.stock[sku]
            wid = max(per, key=lambda w: (per[w][0] - per[w][1], -w))
            free = per[wid][0] - per[wid][1]
            per[wid][1] += qty
            return wid, free < qty

    # ------------------------------------------------------------------ trackers
    def tracker_table(self) -> tuple[np.ndarray, np.ndarray]:
        """(created_at sorted ascending, tracker keys in the same order) of every tracker in the world."""
        if self._trackers is None:
            with self.lock:
                if self._trackers is None:
                    p = self.plan
                    keys, created = [], []
                    for k, col in TRACKER_KINDS.items():
                        ix = np.nonzero(p[col] < NEVER)[0].astype(np.int64)
                        key = ix * 8 + k
                        keys.append(key)
                        created.append(p[col][ix] + tracker_created_delay_array(self.seed, key))
                    key = np.concatenate(keys)
                    cr = np.concatenate(created)
                    order = np.lexsort((key, cr))
                    self._trackers = (cr[order], key[order])
        return self._trackers

    def tracker_visible(self, T: int) -> int:
        cr, _ = self.tracker_table()
        return int(np.searchsorted(cr, T, side="right"))

    def tracker_position(self, key: int) -> int | None:
        cr, keys = self.tracker_table()
        i, k = divmod(key, 8)
        col = TRACKER_KINDS.get(k)
        if col is None or not 0 <= i < self.n:
            return None
        t = int(self.plan[col][i])
        if t >= NEVER:
            return None
        created = t + tracker_created_delay(self.seed, key)
        lo = int(np.searchsorted(cr, created, side="left"))
        hi = int(np.searchsorted(cr, created, side="right"))
        pos = lo + int(np.searchsorted(keys[lo:hi], key))
        if pos < len(keys) and keys[pos] == key:
            return pos
        return None

    def tracker_created(self, key: int) -> int | None:
        i, k = divmod(key, 8)
        col = TRACKER_KINDS.get(k)
        if col is None or not 0 <= i < self.n:
            return None
        t = int(self.plan[col][i])
        if t >= NEVER:
            return None
        return t + tracker_created_delay(self.seed, key)

    # ------------------------------------------------------------------ counts
    def counts(self, T: int) -> dict[str, int]:
        p = self.plan
        return {
            "store_orders": self.shop_visible(T),
            "threepl_orders": int((p["t_3pl"] <= T).sum() + (p["t_repl"] <= T).sum())
            + sum(1 for c in self.created if c.created_at <= T),
            "threepl_created_via_api": len(self.created),
            "trackers": self.tracker_visible(T),
        }


def tracker_created_delay(seed: int, key: int) -> int:
    return 60 + h64(seed, 501, key) % 1140


def tracker_created_delay_array(seed: int, keys: np.ndarray) -> np.ndarray:
    return 60 + (h64_array(seed, 501, keys) % np.uint64(1140)).astype(np.int64)
