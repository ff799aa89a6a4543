"""What a full sync cannot do without, measured part by part (called by `make bench`).

The sync goal (5,000 orders/s on two cores) allows two CPU-seconds per 5,000 orders for everything on the
machine, the simulator included. This measures three parts every full sync must do, each alone and with
nothing of order-recon's own glue around it:

    transport   serving, receiving and decoding every list page of the three sources: the simulator's CPU
                plus a bare httpx loop decoding each page with the connectors' msgspec structs (no records)
    sqlite      inserting the rows the sync stored, already as driver values, with raw sqlite3 into the
                migrated schema, one transaction per source page as the sync commits them
    classify    the SPEC's classification of every order (`classify_views`) on views already built

Their sum is a lower bound of a full sync's CPU (it leaves out building records, the holds, the fetching
helpers' messages and the run records). When it is above the budget, the goal is out of reach on this
machine whatever the rest costs.
"""

from __future__ import annotations

import os
import resource
import sqlite3
import statistics
import tempfile
import time
from collections.abc import Callable
from datetime import datetime
from typing import Any

import httpx
from sqlalchemy import select

from bench.sync_bench import CLOCK, _engine, _settings, simulator

# The tables each source's pages write.
SOURCE_TABLES = {
    "shipbob": ("warehouse_order", "warehouse_shipment"),
    "easypost": ("carrier_tracker",),
    "shopify": (
        "store_order",
        "store_line_item",
        "store_fulfillment",
        "store_refund",
        "order_tracking_number",
        "order_classification",
        "order_discrepancy",
    ),
}
BUDGET_CPU_S_PER_ORDER = 2.0 / 5000  # two cores for 1 s per 5,000 orders


def _cpu_s() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def _process_cpu_s(pid: int) -> float:
    """CPU seconds of another process so far (Linux: /proc/PID/stat utime + stime)."""
    with open(f"/proc/{pid}/stat") as stat:
        fields = stat.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def fetch_and_decode(info: dict[str, Any]) -> dict[str, int]:
    """Every list page of the three sources (the sync's page sizes), each decoded as the connectors'
    fast path decodes it: the records decoded per source, and the bytes received."""
    import orjson

    from services.sources import wire
    from services.sources.shopify_queries import (
        API_VERSION,
        BULK_RUN_MUTATION,
        BULK_STATUS_QUERY,
        bulk_orders_query,
    )
    from services.sync.passes import SyncOptions

    sizes = SyncOptions()
    counts = {"shopify": 0, "shipbob": 0, "easypost": 0, "bytes": 0}
    with httpx.Client(timeout=60) as client:
        # The store's full pass is one bulk operation: start it, poll it, read its JSONL.
        graphql = f"{info['SHOPIFY_SHOP_URL']}/admin/api/{API_VERSION}/graphql.json"
        token = {"X-Shopify-Access-Token": info["SHOPIFY_ACCESS_TOKEN"]}
        started = client.post(
            graphql,
            json={"query": BULK_RUN_MUTATION, "variables": {"query": bulk_orders_query()}},
            headers=token,
        ).json()
        operation = started["data"]["bulkOperationRunQuery"]["bulkOperation"]
        while operation["status"] not in ("COMPLETED", "FAILED", "CANCELED", "EXPIRED"):
            time.sleep(0.05)
            reply = client.post(
                graphql,
                json={"query": BULK_STATUS_QUERY, "variables": {"id": operation["id"]}},
                headers=token,
            )
            operation = reply.json()["data"]["node"]
        with client.stream("GET", operation["url"]) as result:
            for line in result.iter_lines():
                counts["bytes"] += len(line) + 1
                counts["shopify"] += "__parentId" not in orjson.loads(line)
        path: str | None = f"/1.0/order?Page=1&Limit={sizes.warehouse_page}"
        while path:  # `next-page` is the next page's path and query, relative to the API's URL
            reply = client.get(
                f"{info['SHIPBOB_API_URL']}{path}",
                headers={"Authorization": f"Bearer {info['SHIPBOB_TOKEN']}"},
            )
            counts["shipbob"] += len(wire._WAREHOUSE_ORDERS.decode(reply.content))
            counts["bytes"] += len(reply.content)
            path = reply.headers.get("next-page")
        query: dict[str, Any] = {"page_size": sizes.tracker_page}
        while True:
            reply = client.get(
                f"{info['EASYPOST_API_URL']}/v2/trackers", params=query, auth=(info["EASYPOST_API_KEY"], "")
            )
            page = wire._TRACKERS.decode(reply.content)
            counts["easypost"] += len(page.trackers)
            counts["bytes"] += len(reply.content)
            if not page.has_more or not page.trackers:
                return counts
            query = {"page_size": sizes.tracker_page, "before_id": page.trackers[-1].id}


def _stored_rows(db_path: str) -> dict[str, list[tuple[Any, ...]]]:
    with sqlite3.connect(db_path) as conn:
        return {
            table: conn.execute(f'SELECT * FROM "{table}"').fetchall()
            for tables in SOURCE_TABLES.values()
            for table in tables
        }


def insert_as_paged(db_path: str, rows: dict[str, list[tuple[Any, ...]]], pages: dict[str, int]) -> int:
    """Insert `rows` into the migrated database at `db_path` in `pages[source]` transactions per source
    (each holding its share of every table of that source); the number of transactions."""
    conn = sqlite3.connect(db_path, isolation_level=None)
    try:
        conn.execute("PRAGMA journal_mode=WAL")  # as `db.session` sets every connection
        conn.execute("PRAGMA synchronous=NORMAL")
        commits = 0
        for source, tables in SOURCE_TABLES.items():
            count = max(pages[source], 1)
            for page in range(count):
                conn.execute("BEGIN")
                for table in tables:
                    values = rows[table]
                    if not values:
                        continue
                    share = -(-len(values) // count)  # ceiling: every row in one of `count` shares
                    part = values[page * share : (page + 1) * share]
                    if part:
                        marks = ", ".join("?" * len(part[0]))
                        conn.executemany(f'INSERT INTO "{table}" VALUES ({marks})', part)
                conn.execute("COMMIT")
                commits += 1
        return commits
    finally:
        conn.close()


def _median_of(runs: int, measure: Callable[[], float]) -> float:
    return statistics.median(measure() for _ in range(runs))


def bench_sync_floor(n_orders: int = 5000, *, runs: int = 3) -> dict[str, Any]:
    """CPU seconds of the three parts (median of `runs` each), their sum and the goal's budget."""
    from services.store import T_ORDER
    from services.store.classification import classify_views
    from services.store.views import load_views
    from services.sync import sync_all

    now = datetime.fromisoformat(CLOCK.replace("Z", "+00:00"))
    with simulator(n_orders) as info, tempfile.TemporaryDirectory() as tmp:
        sim_pid = int(info["sim_pid"])
        # Once before measuring: the simulator renders its pages into its caches on first request.
        received = fetch_and_decode(info)["bytes"]

        client, served = [], []
        for _ in range(runs):
            cpu, sim_cpu = _cpu_s(), _process_cpu_s(sim_pid)
            fetch_and_decode(info)
            client.append(_cpu_s() - cpu)
            served.append(_process_cpu_s(sim_pid) - sim_cpu)

        settings = _settings(info)
        policy = settings.policy()
        engine = _engine(tmp)
        results = sync_all(engine, settings, policy, full=True, now=now)
        if failed := {source: r.error for source, r in results.items() if not r.ok}:
            raise RuntimeError(f"sync failed: {failed}")
        pages = {source: result.pages for source, result in results.items()}
        rows = _stored_rows(f"{tmp}/bench.db")
        with engine.connect() as conn:
            views = load_views(conn, list(conn.scalars(select(T_ORDER.c.id))), events=False)
        engine.dispose()

        def insert_once() -> float:
            fresh = tempfile.mkdtemp(dir=tmp)
            _engine(fresh).dispose()
            cpu = _cpu_s()
            insert_as_paged(f"{fresh}/bench.db", rows, pages)
            return _cpu_s() - cpu

        def classify_once() -> float:
            cpu = _cpu_s()
            classify_views(views, policy, now)
            return _cpu_s() - cpu

        sqlite_s = _median_of(runs, insert_once)
        classify_s = _median_of(runs, classify_once)
    client_s, served_s = statistics.median(client), statistics.median(served)
    return {
        "orders": n_orders,
        "received_mb": round(received / 1e6, 1),
        "rows": sum(len(v) for v in rows.values()),
        "transport_client_s": round(client_s, 2),
        "transport_simulator_s": round(served_s, 2),
        "sqlite_s": round(sqlite_s, 2),
        "classify_s": round(classify_s, 2),
        "floor_cpu_s": round(client_s + served_s + sqlite_s + classify_s, 2),
        "budget_cpu_s": round(BUDGET_CPU_S_PER_ORDER * n_orders, 2),
    }


if __name__ == "__main__":
    import json
    import sys

    print(json.dumps(bench_sync_floor(int(sys.argv[1]) if len(sys.argv) > 1 else 5000), indent=1))
