"""The rule-based summary: written from the facts alone, used when no model is configured or it fails.

It always says the category and why, fulfillment, shipping, every discrepancy and every blocked
check, and opens with a label saying it is not an AI summary and why. Pure string work on the facts
document: well under a millisecond for a typical order.
"""

from __future__ import annotations

import statistics
import time
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from services.lookup.detail import OrderDetail
from services.summaries.completion import LABELS
from services.summaries.facts import build_facts
from services.summaries.redact import redact_facts

OPEN_CATEGORIES = ("overdue", "pending", "sync_delay", "on_hold", "awaiting_payment", "third_party_vendor")
CATEGORY_WORDS = {
    "cancelled": "cancelled",
    "refunded": "refunded",
    "fulfilled": "fulfilled",
    "third_party_vendor": "waiting on a third-party vendor",
    "awaiting_payment": "awaiting payment",
    "sync_delay": "shipped by the 3PL but not yet synced to the store (sync delay)",
    "on_hold": "on hold",
    "overdue": "overdue",
    "pending": "pending, within its SLA",
}


def fallback_text(document: dict[str, Any], reason: str) -> str:
    """One paragraph from a (redacted) facts document; `reason` says why no AI summary is shown."""
    zone = _zone(document.get("store_timezone"))
    sentences = [
        f"Rule-based summary (AI summary unavailable: {reason}).",
        _status(document, zone),
        _store(document["store"], zone),
        _warehouse(document["3pl"], zone),
        _carrier(document["carrier"], zone),
        _discrepancies(document["discrepancies"]),
        _checks(document["checks"]),
    ]
    return " ".join(s for s in sentences if s)


def _status(document: dict[str, Any], zone: ZoneInfo | None) -> str:
    category = document["category"]
    name = category["name"]
    words = CATEGORY_WORDS.get(name, name.replace("_", " "))
    text = f"Order {document['order']} is {words}: {_clause(category['reason'])}."
    if name == "overdue":
        text += f" It was due by {_when(category['due_at'], zone)}."
    elif name in OPEN_CATEGORIES:
        text += f" Due by {_when(category['due_at'], zone)}."
    if category.get("vendor_late"):
        text += " The third-party vendor is past its own deadline."
    return text


def _store(store: dict[str, Any], zone: ZoneInfo | None) -> str:
    open_units = sum(i["open_quantity"] for i in store["items"])
    units = sum(i["quantity"] for i in store["items"])
    shipped = [f for f in store["fulfillments"] if f["status"] == "success"]
    failed = [f for f in store["fulfillments"] if f["status"] != "success"]
    text = (
        f"Store: payment {store['financial_status'] or 'unknown'}, fulfillment "
        f"{store['fulfillment_status'] or 'unfulfilled'}, {open_units} of {units} unit(s) open"
    )
    if shipped:
        tracking = sorted({n for f in shipped for n in f["tracking_numbers"]})
        text += f", {len(shipped)} fulfillment(s)" + (
            f" with tracking {', '.join(tracking)}" if tracking else ""
        )
    if failed:
        text += f", {len(failed)} fulfillment(s) not successful ({', '.join(f['status'] for f in failed)})"
    if store["refunds"]:
        text += f", {len(store['refunds'])} refund(s)"
    if store["cancelled_at"]:
        text += f", cancelled {_when(store['cancelled_at'], zone)}"
    return text + "."


def _warehouse(section: dict[str, Any], zone: ZoneInfo | None) -> str:
    order = section["order"]
    if order is None:
        text = "3PL: no matching order at the warehouse."
    else:
        where = f" at {', '.join(order['warehouses'])}" if order["warehouses"] else ""
        shipments = [
            f"{s['id']} {s['status']}"
            + (f" ({s['carrier'] or 'carrier'} {s['tracking_number']})" if s["tracking_number"] else "")
            + (f" shipped {_when(s['shipped_at'], zone)}" if s["shipped_at"] else "")
            for s in order["shipments"]
        ]
        text = f"3PL: order {order['order_id']} {order['status'] or 'status unknown'}{where}; " + (
            f"shipment(s) {'; '.join(shipments)}." if shipments else "no shipments yet."
        )
    if section["replacements"]:
        ids = ", ".join(
            f"{r['order_id']} ({r['status'] or 'status unknown'})" for r in section["replacements"]
        )
        text += f" Replacement order(s): {ids}."
    return text


def _carrier(trackers: list[dict[str, Any]], zone: ZoneInfo | None) -> str:
    if not trackers:
        return "Carrier: no tracking information."
    parts = []
    for t in trackers:
        detail = f" ({t['status_detail']})" if t["status_detail"] else ""
        scan = t["latest_scans"][0] if t["latest_scans"] else None
        last = (
            f", last scan {_when(scan['at'], zone)}: {scan['status']}"
            + (f" in {scan['location']}" if scan["location"] else "")
            if scan
            else (f", last update {_when(t['last_scan_at'], zone)}" if t["last_scan_at"] else "")
        )
        parts.append(f"{t['carrier'] or 'carrier'} {t['tracking_code']} {t['status']}{detail}{last}")
    return "Carrier: " + "; ".join(parts) + "."


def _discrepancies(discrepancies: list[dict[str, Any]]) -> str:
    if not discrepancies:
        return "No discrepancies between the systems."
    items = [f"{LABELS.get(d['code'], d['code'])} ({_clause(d['detail'])})" for d in discrepancies]
    return "Discrepancies: " + "; ".join(items) + "."


def _checks(checks: list[dict[str, Any]]) -> str:
    blocked = [c for c in checks if c["level"] == "blocked"]
    if not blocked:
        return "No check blocks a replacement." if checks else ""
    items = [f"{c['code']} ({_clause(c['message'])})" for c in blocked]
    return "Replacement blocked by " + "; ".join(items) + "."


def _clause(text: str) -> str:
    return text.strip().rstrip(".")


def _zone(name: Any) -> ZoneInfo | None:
    try:
        return ZoneInfo(name) if isinstance(name, str) and name else None
    except (ZoneInfoNotFoundError, ValueError):
        return None


def _when(iso: str | None, zone: ZoneInfo | None) -> str:
    """A moment as operators read it beside the page: store time with the zone's abbreviation (EDT)."""
    if not iso:
        return "unknown"
    moment = datetime.fromisoformat(iso)
    if zone is not None and moment.tzinfo is not None:
        moment = moment.astimezone(zone)
        return f"{moment:%a %b %d %Y %H:%M} {moment.tzname()}"
    offset = moment.isoformat()[-6:] if moment.tzinfo is not None else ""
    return f"{moment:%a %b %d %Y %H:%M} UTC{offset}"


def bench_fallback(detail: OrderDetail, *, repeat: int = 200) -> dict[str, float]:
    """Time the whole fallback path (facts, redaction, text) for `detail`; milliseconds per run."""
    runs: list[float] = []
    for _ in range(repeat):
        started = time.perf_counter()
        facts = redact_facts(build_facts(detail), detail.view)
        fallback_text(facts.document, "benchmark")
        runs.append((time.perf_counter() - started) * 1000)
    runs.sort()
    return {
        "runs": float(repeat),
        "mean_ms": statistics.fmean(runs),
        "p95_ms": runs[min(len(runs) - 1, int(len(runs) * 0.95))],
        "max_ms": runs[-1],
    }
