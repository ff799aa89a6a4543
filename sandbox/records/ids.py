"""Identifiers: tracker ids, tracking codes and URLs, and which carrier and warehouse ship each shipment."""

from __future__ import annotations

from ..rng import h64
from ..rows import Row
from ..scenarios import CARRIERS
from ..world import World
from .common import UPS_SHIPPER

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
