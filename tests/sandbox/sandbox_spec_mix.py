"""A compact re-statement of SPEC sections 3-4 used only to check the simulator's data mix.

It classifies raw payloads (Shopify orders, ShipBob orders, EasyPost trackers) at a time ``T`` with the
SPEC's default policy. It is deliberately independent of ``services/`` (the product's implementation).
"""

from __future__ import annotations

from collections import Counter
from datetime import date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

TZ = ZoneInfo("America/New_York")
HOLIDAYS = {date(2026, 11, 26), date(2026, 12, 25)}
VENDORS = {"Nordic Knitworks"}


def _dt(s: str) -> datetime:
    return datetime.fromisoformat(s.replace("Z", "+00:00"))


def _bday(d: date) -> bool:
    return d.weekday() < 5 and d not in HOLIDAYS


def _next_bday(d: date) -> date:
    d += timedelta(days=1)
    while not _bday(d):
        d += timedelta(days=1)
    return d


def due_day(created: datetime, h: int) -> date:
    local = created.astimezone(TZ)
    d = local.date()
    start = d if _bday(d) and local.time() < time(14, 0) else _next_bday(d)
    for _ in range(h):
        start = _next_bday(start)
    return start


def _open(o: dict[str, Any], third: bool) -> int:
    total = 0
    for li in o["line_items"]:
        if (li["vendor"] in VENDORS) != third:
            continue
        if "fulfillable_quantity" in li:
            total += li["fulfillable_quantity"]
        else:
            q = li["quantity"]
            for f in o["fulfillments"]:
                if f["status"] == "success":
                    q -= sum(x["quantity"] for x in f["line_items"] if x["id"] == li["id"])
            for r in o["refunds"]:
                q -= sum(x["quantity"] for x in r["refund_line_items"] if x["line_item_id"] == li["id"])
            total += max(0, q)
    return total


def classify(
    orders: list[dict],
    sb_orders: list[dict],
    trackers: list[dict],
    T: datetime,
    on_hold_ids: set[int] | None = None,
) -> tuple[Counter, Counter, dict[int, str]]:
    by_ref: dict[str, dict] = {}
    repl: set[str] = set()
    for s in sb_orders:
        ref = s["reference_id"]
        if "-R" in ref:
            repl.add(ref.split("-R")[0])
        else:
            by_ref[ref] = s
    trk = {t["tracking_code"]: t for t in trackers}
    cats: Counter = Counter()
    disc: Counter = Counter()
    per: dict[int, str] = {}
    for o in orders:
        sb = by_ref.get(str(o["id"]))
        ships = sb["shipments"] if sb else []
        live = [s for s in ships if s["status"] != "Cancelled"]
        shipped_3pl = bool(ships) and bool(live) and all(s["status"] == "Completed" for s in live)
        own, vend = _open(o, False), _open(o, True)
        title = o["shipping_lines"][0]["title"] if o["shipping_lines"] else None
        h = 0 if title == "Express" else 1
        late = T.astimezone(TZ).date() > due_day(_dt(o["created_at"]), h)
        if o["cancelled_at"]:
            c = "cancelled"
        elif o["financial_status"] in ("refunded", "voided"):
            c = "refunded"
        elif own == 0 and vend == 0:
            c = "fulfilled"
        elif own == 0:
            c = "third_party_vendor"
        elif o["financial_status"] == "pending":
            c = "awaiting_payment"
        elif shipped_3pl:
            c = "sync_delay"
        elif on_hold_ids is not None and o["id"] in on_hold_ids:
            c = "on_hold"
        elif late:
            c = "overdue"
        else:
            c = "pending"
        cats[c] += 1
        per[o["id"]] = c
        if c in ("cancelled", "refunded") and any(s["status"] == "Completed" for s in ships):
            disc["cancelled_but_shipped"] += 1
        if (
            c in ("overdue", "pending")
            and sb is None
            and (T - _dt(o["created_at"])).total_seconds() > 4 * 3600
        ):
            disc["missing_at_3pl"] += 1
        store_codes = {n for f in o["fulfillments"] for n in (f.get("tracking_numbers") or [])}
        sb_codes = {s["tracking"]["tracking_number"] for s in ships if s.get("tracking")}
        if store_codes and sb_codes and not (store_codes & sb_codes):
            disc["tracking_mismatch"] += 1
        for code in store_codes | sb_codes:
            t = trk.get(code)
            if not t:
                continue
            if t["status"] in ("return_to_sender", "failure", "error"):
                disc["carrier_exception"] += 1
            if t["status"] in ("pre_transit", "in_transit"):
                newest = max(
                    (_dt(d["datetime"]) for d in t["tracking_details"]), default=_dt(t["updated_at"])
                )
                if (T - newest).total_seconds() > 5 * 86400:
                    disc["stalled_in_transit"] += 1
        if str(o["id"]) in repl:
            disc["has_replacement"] += 1
    return cats, disc, per
