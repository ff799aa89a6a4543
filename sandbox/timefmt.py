"""Time helpers for the store's timezone (America/New_York) without per-call zoneinfo lookups.

Callers may rely on:
- ``ny_offset(t)`` = the UTC offset in seconds of America/New_York at epoch second ``t`` (US rules since
  2007, checked against zoneinfo in the tests), and ``ny_offset_array`` for numpy arrays;
- ``fmt_local(t)`` -> ``"2026-07-01T10:00:00-04:00"`` (Shopify style), ``fmt_utc(t)`` ->
  ``"2026-07-01T14:00:00+00:00"`` (ShipBob style), ``fmt_z(t)`` -> ``"2026-07-01T14:00:00Z"`` (EasyPost);
- ``parse_iso(s)`` -> epoch seconds (float) for any ISO-8601 string with ``Z``/offset (naive = UTC), or
  raises ``ValueError``;
- ``WAREHOUSE_HOLIDAYS``: the US holidays on which the simulated warehouses and carriers do not work.
"""

from __future__ import annotations

import bisect
import calendar
import time
from datetime import UTC, date, datetime, timedelta

import numpy as np


def _nth_sunday(year: int, month: int, n: int) -> int:
    first = date(year, month, 1)
    shift = (6 - first.weekday()) % 7
    return (first + timedelta(days=shift + 7 * (n - 1))).toordinal()


def _transitions() -> list[int]:
    out: list[int] = []
    for y in range(1970, 2101):
        start = _nth_sunday(y, 3, 2) if y >= 2007 else _nth_sunday(y, 4, 1)
        end = (
            _nth_sunday(y, 11, 1)
            if y >= 2007
            else _nth_sunday(y, 10, 5 if date(y, 10, 29).weekday() == 6 else 4)
        )
        # 02:00 local standard time (UTC-5) = 07:00 UTC; 02:00 local daylight time (UTC-4) = 06:00 UTC
        epoch0 = date(1970, 1, 1).toordinal()
        out.append((start - epoch0) * 86400 + 7 * 3600)
        out.append((end - epoch0) * 86400 + 6 * 3600)
    return out


_TRANS = _transitions()
_TRANS_NP = np.array(_TRANS, dtype=np.int64)
EST = -5 * 3600
EDT = -4 * 3600


_OFF_CACHE: dict[int, int] = {}


def ny_offset(t: int) -> int:
    """UTC offset (seconds) of America/New_York at epoch second ``t``."""
    hb = t // 3600
    o = _OFF_CACHE.get(hb)
    if o is None:
        # odd count of transitions passed = inside DST (transitions fall on whole hours)
        o = EDT if bisect.bisect_right(_TRANS, hb * 3600) % 2 == 1 else EST
        if len(_OFF_CACHE) > 500_000:
            _OFF_CACHE.clear()
        _OFF_CACHE[hb] = o
    return o


def ny_offset_array(t: np.ndarray) -> np.ndarray:
    k = np.searchsorted(_TRANS_NP, t, side="right")
    return np.where(k % 2 == 1, EDT, EST).astype(np.int64)


_DAY_CACHE: dict[int, str] = {}


def _day_str(day: int) -> str:
    s = _DAY_CACHE.get(day)
    if s is None:
        g = time.gmtime(day * 86400)
        s = f"{g.tm_year:04d}-{g.tm_mon:02d}-{g.tm_mday:02d}T"
        _DAY_CACHE[day] = s
    return s


_HMS: list[str] = []


def _hms_table() -> list[str]:
    if not _HMS:
        # built completely first, then added in one C-level call: other threads never see a partial table
        table = [f"{h:02d}:{m:02d}:{s:02d}" for h in range(24) for m in range(60) for s in range(60)]
        if not _HMS:
            _HMS.extend(table)
    return _HMS


def fmt_local(t: int) -> str:
    off = ny_offset(t)
    day, sod = divmod(t + off, 86400)
    ds = _DAY_CACHE.get(day) or _day_str(day)
    return ds + (_HMS or _hms_table())[sod] + ("-04:00" if off == EDT else "-05:00")


def fmt_utc(t: int) -> str:
    day, sod = divmod(t, 86400)
    ds = _DAY_CACHE.get(day) or _day_str(day)
    return ds + (_HMS or _hms_table())[sod] + "+00:00"


def fmt_z(t: int) -> str:
    day, sod = divmod(t, 86400)
    ds = _DAY_CACHE.get(day) or _day_str(day)
    return ds + (_HMS or _hms_table())[sod] + "Z"


def fmt_date_z(t: int) -> str:
    return f"{_day_str(t // 86400)}00:00:00Z"


def local_day(t: int) -> int:
    """Days since 1970-01-01 of ``t``'s date in the store's timezone."""
    return (t + ny_offset(t)) // 86400


def local_midnight(day: int) -> int:
    """Epoch second of 00:00 local time on local day number ``day``."""
    guess = day * 86400 - EST
    return day * 86400 - ny_offset(guess)


def parse_iso(s: str) -> float:
    s = s.strip()
    if not s:
        raise ValueError("empty timestamp")
    if s.endswith(("Z", "z")):
        s = s[:-1] + "+00:00"
    if " " in s and "T" not in s:
        s = s.replace(" ", "T", 1)
    # "+0000" style offsets
    if len(s) >= 5 and s[-5] in "+-" and s[-4:].isdigit() and ":" not in s[-5:]:
        s = s[:-2] + ":" + s[-2:]
    dt = datetime.fromisoformat(s)
    if dt.tzinfo is None:
        dt = dt.replace(tzinfo=UTC)
    return dt.timestamp()


def epoch(y: int, mo: int, d: int, h: int = 0, mi: int = 0, s: int = 0) -> int:
    return calendar.timegm((y, mo, d, h, mi, s, 0, 0, 0))


def _us_holidays(years: range) -> list[str]:
    out = []
    for y in years:

        def observed(d: date) -> date:
            if d.weekday() == 5:
                return d - timedelta(days=1)
            if d.weekday() == 6:
                return d + timedelta(days=1)
            return d

        out.append(observed(date(y, 1, 1)))
        may31 = date(y, 5, 31)
        out.append(may31 - timedelta(days=may31.weekday()))  # Memorial Day
        out.append(observed(date(y, 7, 4)))
        sep1 = date(y, 9, 1)
        out.append(sep1 + timedelta(days=(7 - sep1.weekday()) % 7))  # Labor Day
        nov1 = date(y, 11, 1)
        out.append(nov1 + timedelta(days=(3 - nov1.weekday()) % 7 + 21))  # Thanksgiving
        out.append(observed(date(y, 12, 25)))
    return sorted({d.isoformat() for d in out})


WAREHOUSE_HOLIDAYS: list[str] = _us_holidays(range(2015, 2041))
HOLIDAYS_NP = np.array(WAREHOUSE_HOLIDAYS, dtype="datetime64[D]")
_HOLIDAY_DAYS = {
    int((np.datetime64(h, "D") - np.datetime64("1970-01-01", "D")).astype(int)) for h in WAREHOUSE_HOLIDAYS
}


def is_business_day(day: int) -> bool:
    return (day + 3) % 7 < 5 and day not in _HOLIDAY_DAYS


def add_business_days(day: int, n: int, *, saturday: bool = False) -> int:
    """The day ``n`` working days after ``day`` (``saturday``: carriers that deliver on Saturdays)."""
    d = day
    while n > 0:
        d += 1
        wd = (d + 3) % 7
        if (wd < 5 or (saturday and wd == 5)) and d not in _HOLIDAY_DAYS:
            n -= 1
    return d
