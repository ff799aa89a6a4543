"""Backfill from a Shopify bulk JSONL: `order-recon import` of `shopify/orders.jsonl` against the floor.

The floor is the least any backfill does: `json.loads` per line and `sqlite3.executemany` of the
flattened rows (orders, line items). Two shapes: compact orders (about 1.5 KB, 1-3 line items, as most
stores have) and full ones (about 12 KB: many line items, fulfillments and refunds). The goal is at most
2x the floor's time with less peak memory (tracemalloc). No trick is in the reader yet; this module
says so here when a figure comes to need one.

    python -m bench.bulk_backfill [--orders 100000]
"""

from __future__ import annotations

import argparse
import functools
import json
import sqlite3
import tempfile
import time
import tracemalloc
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

START = datetime(2026, 6, 1, tzinfo=UTC)


def _order(i: int, lines: int, extra: int) -> Iterator[dict[str, Any]]:
    oid = f"gid://shopify/Order/{5_000_000 + i}"
    at = (START + timedelta(minutes=i)).strftime("%Y-%m-%dT%H:%M:%SZ")
    line_ids = [f"gid://shopify/LineItem/{9_000_000 + i * 64 + j}" for j in range(lines)]
    fulfillments = [
        {
            "id": f"gid://shopify/Fulfillment/{7_000_000 + i * 8 + k}",
            "status": "SUCCESS",
            "createdAt": at,
            "trackingInfo": [{"number": f"1Z{i:08d}{k}", "company": "UPS"}],
        }
        for k in range(1 + extra)
    ]
    yield {
        "id": oid,
        "name": f"#{1000 + i}",
        "createdAt": at,
        "updatedAt": at,
        "cancelledAt": None,
        "cancelReason": None,
        "displayFinancialStatus": "PAID",
        "displayFulfillmentStatus": "FULFILLED",
        "email": f"customer{i}@example.com",
        "phone": None,
        "note": "x" * (40 * extra),
        "tags": ["bench"],
        "customer": {"firstName": "Ada", "lastName": "Lovelace", "email": f"customer{i}@example.com"},
        "shippingAddress": {
            "name": "Ada Lovelace",
            "address1": "1 Main St",
            "city": "Chicago",
            "provinceCode": "IL",
            "countryCodeV2": "US",
            "zip": "60601",
        },
        "shippingLine": {"title": "Standard"},
        "fulfillments": fulfillments,
        "refunds": [],
    }
    for j, lid in enumerate(line_ids):
        yield {
            "id": lid,
            "sku": f"SKU-{j}",
            "name": f"Product {j} - Default",
            "vendor": "House",
            "quantity": 1 + j % 3,
            "currentQuantity": 1 + j % 3,
            "unfulfilledQuantity": 0,
            "originalUnitPriceSet": {"shopMoney": {"amount": "19.99"}},
            "__parentId": oid,
        }
    for k, f in enumerate(fulfillments):
        for j, lid in enumerate(line_ids):
            yield {
                "id": f"gid://shopify/FulfillmentLineItem/{i * 4096 + k * 64 + j}",
                "quantity": 1 + j % 3,
                "lineItem": {"id": lid},
                "__parentId": f["id"],
            }
    yield {
        "id": f"gid://shopify/FulfillmentOrder/{3_000_000 + i}",
        "status": "CLOSED",
        "fulfillmentHolds": [],
        "__parentId": oid,
    }


def write_jsonl(path: Path, orders: int, shape: str) -> int:
    with path.open("w") as out:
        for i in range(orders):
            lines, extra = (1 + i % 3, 0) if shape == "compact" else (12, 3)
            for obj in _order(i, lines, extra):
                out.write(json.dumps(obj, separators=(",", ":")) + "\n")
    return path.stat().st_size


def floor(path: Path, db: Path) -> None:
    conn = sqlite3.connect(db)
    conn.execute("create table o (id text primary key, name text, created text, fin text, ful text)")
    conn.execute("create table li (id text primary key, o text, sku text, qty int, open int)")
    orders, lines = [], []
    with path.open() as handle:
        for line in handle:
            obj = json.loads(line)
            parent = obj.get("__parentId")
            if parent is None:
                orders.append(
                    (
                        obj["id"],
                        obj["name"],
                        obj["createdAt"],
                        obj["displayFinancialStatus"],
                        obj["displayFulfillmentStatus"],
                    )
                )
            elif "sku" in obj:
                lines.append((obj["id"], parent, obj["sku"], obj["quantity"], obj["unfulfilledQuantity"]))
            if len(orders) >= 2000:
                conn.executemany("insert into o values (?,?,?,?,?)", orders)
                conn.executemany("insert into li values (?,?,?,?,?)", lines)
                orders, lines = [], []
    conn.executemany("insert into o values (?,?,?,?,?)", orders)
    conn.executemany("insert into li values (?,?,?,?,?)", lines)
    conn.commit()
    conn.close()


def ours(root: Path, db: Path) -> None:
    from checks.policy import load_policy
    from db.session import make_engine
    from services.snapshot import import_snapshot

    engine = make_engine(f"sqlite:///{db}")
    policy = load_policy(Path(__file__).parents[1] / "services" / "sla_default.toml")
    import_snapshot(root, engine=engine, policy=policy, now=START + timedelta(days=200))
    engine.dispose()


def _migrated(db: Path) -> None:
    from db.migrate import upgrade
    from db.session import make_engine

    engine = make_engine(f"sqlite:///{db}")
    upgrade(engine)
    engine.dispose()


def measure(run: Callable[[], None]) -> tuple[float, int]:
    tracemalloc.start()
    started = time.perf_counter()
    run()
    seconds = time.perf_counter() - started
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    return seconds, peak


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--orders", type=int, default=100_000)
    args = parser.parse_args(argv)
    for shape in ("compact", "full"):
        with tempfile.TemporaryDirectory() as tmp:
            root = Path(tmp)
            (root / "shopify").mkdir()
            path = root / "shopify" / "orders.jsonl"
            size = write_jsonl(path, args.orders, shape)
            floor_s, floor_peak = measure(functools.partial(floor, path, root / "floor.db"))
            _migrated(root / "ours.db")  # the schema is not part of the backfill
            ours_s, ours_peak = measure(functools.partial(ours, root, root / "ours.db"))
            print(
                f"{shape}: {args.orders} orders, {size / args.orders / 1024:.1f} KB each; "
                f"floor {floor_s:.2f} s / {floor_peak / 2**20:.1f} MiB peak; "
                f"import {ours_s:.2f} s / {ours_peak / 2**20:.1f} MiB peak; "
                f"time {ours_s / floor_s:.2f}x the floor"
            )


if __name__ == "__main__":
    main()
