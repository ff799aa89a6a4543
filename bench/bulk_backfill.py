"""Backfill from a Shopify bulk JSONL: `order-recon import` of `shopify/orders.jsonl` against the floor.

The floor is the least any backfill does: `json.loads` per line and `sqlite3.executemany` of the
flattened rows (orders, line items, fulfillments and their lines). Two shapes: compact orders (about
1.5 KB, 1-3 line items, as most stores have) and full ones (about 12 KB: 12 line items, 4 fulfillments
of all of them). Each side runs in its own process: time, and peak memory as ru_maxrss. The goal is at
most 2x the floor's time with less peak memory.

Each side reports its wall time and its CPU time (its own process and any helper it waited for).

Figures (100,000 orders, 7 December 2026 23:57 UTC, an otherwise idle 2-core machine): compact 4.05x
the floor's time (19.3 s against 4.8 s) at 0.43x its memory (116 MB against 266 MB); full 1.73x (71.7 s
against 41.4 s) at 0.08x (191 MB against 2.3 GB). The full shape meets the goal; the compact one does not.

What changed, each measured on 20,000-100,000 compact orders: the collector ran about 60 times per 1,000
orders and found nothing (`services.snapshot.collections_paced`: a fifth to a quarter of the CPU); a first
backfill drops the triggers that follow each order and makes their results once at the end
(`services.snapshot.first_backfill`: the search index about 9%, the SLA day totals about 15%); and the
JSONL is read in the importing process, since taking its records from a helper process cost more than
reading them.

Where a compact order's time goes now (about 180 µs, against the floor's ~45): reading it (orjson, the
`__parentId` children put back, the record mapping into `checks.model`) about 55 µs; the store's and the
classification's writes about 60 (SQLite about 50 of it); views and classification (the SPEC's rules,
`checks`) about 28; the uniqueness checks of SPEC §1 "Records" about 18. The floor writes four narrow
tables and classifies nothing, so each of these alone is a large part of it; 2x would need the rules and
the record mapping to cost about as little as `json.loads` does.

    python -m bench.bulk_backfill [--orders 100000]
"""

from __future__ import annotations

import argparse
import json
import sqlite3
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
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


FLOOR_SCHEMA = """
CREATE TABLE store_order (id TEXT PRIMARY KEY, name TEXT, email TEXT, created_at TEXT, updated_at TEXT,
  cancelled_at TEXT, financial_status TEXT, fulfillment_status TEXT, shipping_method TEXT);
CREATE TABLE line_item (id TEXT PRIMARY KEY, order_id TEXT, sku TEXT, vendor TEXT, quantity INTEGER,
  fulfillable_quantity INTEGER);
CREATE TABLE fulfillment (id TEXT PRIMARY KEY, order_id TEXT, status TEXT, created_at TEXT, tracking TEXT);
CREATE TABLE fulfillment_line (id TEXT PRIMARY KEY, fulfillment_id TEXT, line_item_id TEXT, quantity INTEGER);
"""


def floor(path: Path, db: Path) -> int:
    """`json.loads` per line, the rows flattened, one `executemany` per table."""
    orders, lines, fulfillments, parts = [], [], [], []
    with path.open() as handle:
        for line in handle:
            obj = json.loads(line)
            parent = obj.get("__parentId")
            if parent is None:
                orders.append(
                    (
                        obj["id"],
                        obj["name"],
                        obj.get("email"),
                        obj["createdAt"],
                        obj.get("updatedAt"),
                        obj.get("cancelledAt"),
                        obj.get("displayFinancialStatus"),
                        obj.get("displayFulfillmentStatus"),
                        (obj.get("shippingLine") or {}).get("title"),
                    )
                )
                for f in obj.get("fulfillments") or []:
                    numbers = ",".join(t["number"] for t in f.get("trackingInfo") or [])
                    fulfillments.append((f["id"], obj["id"], f["status"], f["createdAt"], numbers))
            elif "sku" in obj:
                lines.append(
                    (
                        obj["id"],
                        parent,
                        obj["sku"],
                        obj["vendor"],
                        obj["quantity"],
                        obj["unfulfilledQuantity"],
                    )
                )
            elif "lineItem" in obj:
                parts.append((obj["id"], parent, obj["lineItem"]["id"], obj["quantity"]))
    conn = sqlite3.connect(db)
    conn.executescript(FLOOR_SCHEMA)
    conn.executemany("INSERT INTO store_order VALUES (?,?,?,?,?,?,?,?,?)", orders)
    conn.executemany("INSERT INTO line_item VALUES (?,?,?,?,?,?)", lines)
    conn.executemany("INSERT INTO fulfillment VALUES (?,?,?,?,?)", fulfillments)
    conn.executemany("INSERT INTO fulfillment_line VALUES (?,?,?,?)", parts)
    conn.commit()
    conn.close()
    return len(orders)


def ours(root: Path, db: Path) -> int:
    """`order-recon import` of the directory, as `bench.jobs` runs it (policy recorded, schema made
    before the clock starts)."""
    from services.snapshot import import_snapshot

    engine, policy = _migrated(db)
    started, cpu = time.perf_counter(), _cpu()
    report = import_snapshot(root, engine=engine, policy=policy, now=START + timedelta(days=200))
    global _STARTED
    _STARTED = started, cpu
    return report.counts.get("store_jsonl", 0)


_STARTED: tuple[float, float] | None = None


def _cpu() -> float:
    """CPU seconds of this process and of the helpers it has waited for (the import's parser)."""
    import resource

    return sum(
        u.ru_utime + u.ru_stime
        for u in (resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN))
    )


def _migrated(db: Path) -> tuple[Any, Any]:
    from db.migrate import upgrade
    from db.session import make_engine
    from services.policy_change import ensure_policy
    from services.settings import Settings

    engine = make_engine(f"sqlite:///{db}")
    upgrade(engine)
    policy = Settings().policy()
    with engine.begin() as conn:
        ensure_policy(conn, policy, datetime.now(UTC))
    return engine, policy


def job(kind: str, root: Path, db: Path) -> dict[str, float]:
    """One measurement in this process: seconds and peak resident memory (ru_maxrss)."""
    import resource

    started = time.perf_counter(), _cpu()
    count = floor(root / "shopify" / "orders.jsonl", db) if kind == "floor" else ours(root, db)
    wall, cpu = _STARTED or started  # the import's clock starts once its schema is made
    seconds, cpu = time.perf_counter() - wall, _cpu() - cpu
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    return {"seconds": seconds, "cpu_s": cpu, "peak_mb": peak, "orders": count}


def _isolated(kind: str, root: Path, db: Path) -> dict[str, float]:
    out = subprocess.run(
        [sys.executable, "-m", "bench.bulk_backfill", "--job", kind, str(root), str(db)],
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    return json.loads(out.strip().splitlines()[-1])  # type: ignore[no-any-return]


def measure_shape(orders: int, shape: str) -> dict[str, Any]:
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        (root / "shopify").mkdir()
        size = write_jsonl(root / "shopify" / "orders.jsonl", orders, shape)
        base = _isolated("floor", root, root / "floor.db")
        ours_ = _isolated("recon", root, root / "ours.db")
    assert base["orders"] == ours_["orders"] == orders
    return {
        "shape": shape,
        "orders": orders,
        "kb_per_order": size / orders / 1024,
        "floor": base,
        "ours": ours_,
    }


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--orders", type=int, default=100_000)
    parser.add_argument("--job", choices=["floor", "recon"], help=argparse.SUPPRESS)
    parser.add_argument("paths", nargs="*", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.job:
        print(json.dumps(job(args.job, *args.paths)))
        return
    for shape in ("compact", "full"):
        m = measure_shape(args.orders, shape)
        base, ours_ = m["floor"], m["ours"]
        print(
            f"{shape}: {m['orders']:,} orders, {m['kb_per_order']:.1f} KB each; "
            f"floor {base['seconds']:.2f} s ({base['cpu_s']:.1f} s CPU), peak {base['peak_mb']:.0f} MB; "
            f"import {ours_['seconds']:.2f} s ({ours_['cpu_s']:.1f} s CPU), peak {ours_['peak_mb']:.0f} MB; "
            f"{ours_['seconds'] / base['seconds']:.2f}x time, {ours_['peak_mb'] / base['peak_mb']:.2f}x memory",
            flush=True,
        )


if __name__ == "__main__":
    main()
