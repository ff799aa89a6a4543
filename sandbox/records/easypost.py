"""EasyPost ``Tracker``s: each tracker's scan schedule and its JSON as of a clock."""

from __future__ import annotations

import base64
from json.encoder import encode_basestring as js
from typing import Any

from .. import catalog
from ..rng import h64
from ..rows import Row
from ..scenarios import (
    CARRIER_EXCEPTION,
    HOUR,
    NEVER,
    OUT_DELIVERED,
    OUT_FAILURE,
    OUT_PRE_STALL,
    OUT_RETURN,
    OUT_STALL,
    OUT_STALL_RESUME,
    STALLED,
)
from ..timefmt import add_business_days, fmt_date_z, fmt_z, local_day, local_midnight
from ..timeline import tracker_created_delay
from ..world import World
from .common import K_1, K_2, SERVICES
from .ids import code_for, shipment_carrier, shipment_fc, tracker_id
from .static import static_for

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
