"""Every order's timeline in the seeded store: the scenario mix, the ids, and the columns of event
times that `plan_chunk` computes for a range of order indexes as a pure function of ``(seed, index)``.
`sandbox.world` turns them into the three systems' state at a clock."""

from __future__ import annotations

import numpy as np

from . import catalog
from .rng import h64, h64_array, u_array
from .scenarios import (
    _CITY_FC,
    _CUM,
    _HOUR_WEIGHTS,
    _WEIGHTS,
    AWAITING_PAYMENT,
    BACKORDER,
    CANCELLED,
    CANCELLED_SHIPPED,
    CARRIER_EXCEPTION,
    DAY,
    FAILED_FUL,
    HOUR,
    MISSING_3PL,
    MIXED_VENDOR,
    NEVER,
    ON_HOLD,
    PARTIAL_REFUND,
    REFUNDED,
    REFUNDED_SHIPPED,
    S_3PL,
    S_3PLC,
    S_ARCH,
    S_BAD,
    S_BADT,
    S_BO,
    S_BOT,
    S_CANC,
    S_CANC2,
    S_CARRIER,
    S_CARRIER2,
    S_CITY,
    S_CUST,
    S_EXC,
    S_FCALT,
    S_FUL,
    S_FUL2,
    S_HANDLE,
    S_HOLD,
    S_HOLDT,
    S_METHOD,
    S_MIN,
    S_NL,
    S_NOTE,
    S_NOTTOLD,
    S_OLD,
    S_PAY,
    S_PAYT,
    S_QUIRK,
    S_REF,
    S_REPL,
    S_REPLT,
    S_RTOD,
    S_SCEN,
    S_SPLIT,
    S_SPLITD,
    S_SYNC,
    S_T0,
    S_TOD,
    S_TOD2,
    S_VAR,
    S_VEND,
    S_VENDD,
    S_VOID,
    S_VOIDT,
    S_VTOD,
    SMALL_COLS,
    SPAN_DAYS,
    SPLIT,
    STALLED,
    SYNC_DELAY,
    TIME_COLS,
    VENDOR_ONLY,
)
from .timefmt import HOLIDAYS_NP, ny_offset_array


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


def tracker_created_delay(seed: int, key: int) -> int:
    return 60 + h64(seed, 501, key) % 1140


def tracker_created_delay_array(seed: int, keys: np.ndarray) -> np.ndarray:
    return 60 + (h64_array(seed, 501, keys) % np.uint64(1140)).astype(np.int64)
