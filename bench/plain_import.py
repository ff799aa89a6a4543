"""The baseline the import is measured against: `json.load` each file whole, flatten, `executemany`."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

SCHEMA = """
CREATE TABLE store_order (id INTEGER PRIMARY KEY, name TEXT, email TEXT, created_at TEXT, updated_at TEXT,
  cancelled_at TEXT, financial_status TEXT, fulfillment_status TEXT, shipping_method TEXT);
CREATE TABLE line_item (id INTEGER PRIMARY KEY, order_id INTEGER, sku TEXT, vendor TEXT, quantity INTEGER,
  fulfillable_quantity INTEGER);
CREATE TABLE fulfillment (id INTEGER PRIMARY KEY, order_id INTEGER, status TEXT, created_at TEXT, tracking TEXT);
CREATE TABLE refund (id INTEGER PRIMARY KEY, order_id INTEGER, created_at TEXT);
CREATE TABLE warehouse_order (id INTEGER PRIMARY KEY, reference_id TEXT, order_number TEXT, status TEXT);
CREATE TABLE shipment (id INTEGER PRIMARY KEY, order_id INTEGER, status TEXT, tracking TEXT, shipping_date TEXT);
CREATE TABLE tracker (id TEXT PRIMARY KEY, tracking_code TEXT, status TEXT, updated_at TEXT);
CREATE TABLE inventory (sku TEXT PRIMARY KEY, total INTEGER);
"""


def plain_import(directory: Path, db_path: Path) -> int:
    conn = sqlite3.connect(db_path)
    conn.executescript(SCHEMA)
    count = 0
    shop = directory / "shopify/orders.json"
    if shop.exists():
        orders = json.loads(shop.read_text())["orders"]
        count = len(orders)
        conn.executemany(
            "INSERT INTO store_order VALUES (?,?,?,?,?,?,?,?,?)",
            [
                (
                    o["id"],
                    o["name"],
                    o.get("email"),
                    o["created_at"],
                    o.get("updated_at"),
                    o.get("cancelled_at"),
                    o.get("financial_status"),
                    o.get("fulfillment_status"),
                    (o.get("shipping_lines") or [{}])[0].get("title"),
                )
                for o in orders
            ],
        )
        conn.executemany(
            "INSERT INTO line_item VALUES (?,?,?,?,?,?)",
            [
                (
                    li["id"],
                    o["id"],
                    li.get("sku"),
                    li.get("vendor"),
                    li["quantity"],
                    li.get("fulfillable_quantity"),
                )
                for o in orders
                for li in o["line_items"]
            ],
        )
        conn.executemany(
            "INSERT INTO fulfillment VALUES (?,?,?,?,?)",
            [
                (f["id"], o["id"], f["status"], f["created_at"], f.get("tracking_number"))
                for o in orders
                for f in o.get("fulfillments") or []
            ],
        )
        conn.executemany(
            "INSERT INTO refund VALUES (?,?,?)",
            [(r["id"], o["id"], r["created_at"]) for o in orders for r in o.get("refunds") or []],
        )
        del orders
    warehouse = directory / "shipbob/orders.json"
    if warehouse.exists():
        worders = json.loads(warehouse.read_text())
        conn.executemany(
            "INSERT INTO warehouse_order VALUES (?,?,?,?)",
            [(w["id"], w["reference_id"], w.get("order_number"), w.get("status")) for w in worders],
        )
        conn.executemany(
            "INSERT INTO shipment VALUES (?,?,?,?,?)",
            [
                (
                    s["id"],
                    w["id"],
                    s["status"],
                    (s.get("tracking") or {}).get("tracking_number"),
                    (s.get("tracking") or {}).get("shipping_date"),
                )
                for w in worders
                for s in w.get("shipments") or []
            ],
        )
        del worders
    trackers_file = directory / "easypost/trackers.json"
    if trackers_file.exists():
        trackers = json.loads(trackers_file.read_text())["trackers"]
        conn.executemany(
            "INSERT INTO tracker VALUES (?,?,?,?)",
            [(t["id"], t["tracking_code"], t["status"], t.get("updated_at")) for t in trackers],
        )
        del trackers
    inventory = directory / "shipbob/inventory.json"
    if inventory.exists():
        conn.executemany(
            "INSERT OR REPLACE INTO inventory VALUES (?,?)",
            [(i["sku"], i["total_fulfillable_quantity"]) for i in json.loads(inventory.read_text())],
        )
    conn.commit()
    conn.close()
    return count
