"""`make bench`: import speed and memory against a plain json+sqlite3 baseline, query latency at any
as-of, the CLI as a whole process, incremental sync CPU per 1,000 changed orders and per-order refresh
latency, fallback summaries. Prints a table."""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import time
from collections.abc import Callable
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from bench.common import CLOCK, OUT, ROOT, print_table, run_job_isolated, snapshot_of


def timed_ms(fn: Callable[[], Any], repeat: int = 5) -> tuple[float, float]:
    """(median, max) in ms of `repeat` runs after a first one, which only warms the OS file cache."""
    fn()
    samples = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        samples.append((time.perf_counter() - start) * 1000)
    return statistics.median(samples), max(samples)


def query_latencies(db: Path) -> list[tuple[str, str, str]]:
    from db.session import make_engine
    from services import queries, queue
    from services.settings import Settings

    policy = Settings().policy()
    engine = make_engine(f"sqlite:///{db}")
    base = datetime.fromisoformat(CLOCK)
    as_ofs = [base + timedelta(days=d) for d in (-20, -7, -2, 0, 3, 30)]
    rows = []
    with engine.connect() as conn:
        for label, fn in (
            (
                "queue",
                lambda a: (
                    queue.overdue_queue(conn, as_of=a, policy=policy, limit=100),
                    queue.count_overdue(conn, as_of=a, policy=policy),
                ),
            ),
            (
                "informational",
                lambda a: (
                    queries.informational_view(conn, as_of=a, policy=policy, limit=100),
                    queries.informational_counts(conn, as_of=a, policy=policy),
                ),
            ),
            (
                "discrepancies",
                lambda a: (
                    queries.discrepancies(conn, as_of=a, policy=policy, limit=100),
                    queries.discrepancy_counts(conn, as_of=a, policy=policy),
                ),
            ),
        ):
            worst = []
            for as_of in as_ofs:
                worst.append(timed_ms(lambda a=as_of, f=fn: f(a), repeat=3)[1])
            rows.append(
                (
                    f"{label}: page of 100 + counts, 6 as-ofs",
                    f"median {statistics.median(worst):.1f} ms",
                    f"max {max(worst):.1f} ms (goal < 50 ms)",
                )
            )
        full = timed_ms(lambda: queue.overdue_queue(conn, as_of=base, policy=policy), repeat=3)
        size = len(queue.overdue_queue(conn, as_of=base, policy=policy))
        rows.append(
            (f"queue: whole list ({size:,} rows)", f"median {full[0]:.1f} ms", f"max {full[1]:.1f} ms")
        )
    engine.dispose()
    return rows


def cli_queue_seconds(db: Path) -> float:
    env = {**os.environ, "DATABASE_URL": f"sqlite:///{db}"}
    samples = []
    for _ in range(4):
        start = time.perf_counter()
        subprocess.run(
            [str(ROOT / ".venv/bin/order-recon"), "queue", "--json", "--as-of", CLOCK],
            env=env,
            stdout=subprocess.DEVNULL,
            check=True,
            cwd=ROOT,
        )
        samples.append(time.perf_counter() - start)
    return statistics.median(samples)


def optional(label: str, fn: Callable[[], list[tuple[str, str, str]]]) -> list[tuple[str, str, str]]:
    try:
        return fn()
    except Exception as exc:  # a missing part of the bench is reported, not fatal
        return [(label, "not measured", f"{type(exc).__name__}: {exc}")]


def sync_rows() -> list[tuple[str, str, str]]:
    from bench.sync_bench import bench_incremental, bench_refresh

    # Three runs: on a shared 2-core machine one run can be off by a fifth either way.
    runs = sorted((bench_incremental(5000) for _ in range(3)), key=lambda r: r["cpu_s_per_1000_changed"])
    middle = runs[1]
    refresh = bench_refresh()
    return [
        (
            "incremental sync, CPU per 1,000 changed orders (5,000 orders, +24 h), median of 3",
            f"{middle['cpu_s_per_1000_changed']:.2f} CPU-s",
            f"range {runs[0]['cpu_s_per_1000_changed']:.2f}-{runs[-1]['cpu_s_per_1000_changed']:.2f}; "
            f"{middle['changed_orders']} changed, {middle['cpu_s']:.2f} CPU-s in {middle['wall_s']:.1f} s; "
            f"simulator's own {middle['simulator_cpu_s']:.2f} CPU-s excluded",
        ),
        ("per-order refresh, 3 sources at 200 ms each", f"{refresh['wall_ms']:.0f} ms wall", "goal < 300 ms"),
    ]


def bulk_backfill_rows(orders: int) -> list[tuple[str, str, str]]:
    from bench.bulk_backfill import measure_shape

    rows = []
    for shape in ("compact", "full"):
        m = measure_shape(orders, shape)
        base, ours = m["floor"], m["ours"]
        rows.append(
            (
                f"backfill from bulk JSONL, {orders:,} {shape} orders ({m['kb_per_order']:.1f} KB each)",
                f"{ours['seconds'] / base['seconds']:.2f}x time, {ours['peak_mb'] / base['peak_mb']:.2f}x memory",
                f"import {ours['seconds']:.1f} s ({ours['cpu_s']:.1f} s CPU) / {ours['peak_mb']:.0f} MB, "
                f"floor {base['seconds']:.1f} s ({base['cpu_s']:.1f} s CPU) / {base['peak_mb']:.0f} MB "
                "(goal <= 2x time, less memory)",
            )
        )
    return rows


def summary_rows(db: Path) -> list[tuple[str, str, str]]:
    from sqlalchemy import select

    from db.session import make_engine
    from services.lookup.orders import order_detail
    from services.settings import Settings
    from services.store import T_CLASS
    from services.summaries import bench_fallback

    engine = make_engine(f"sqlite:///{db}")
    with engine.connect() as conn:
        name = conn.scalar(select(T_CLASS.c.order_name).where(T_CLASS.c.base_category == "open").limit(1))
        lookup = timed_ms(
            lambda: order_detail(
                conn, name=name, as_of=datetime.fromisoformat(CLOCK), policy=Settings().policy()
            ),
            repeat=10,
        )
        detail = order_detail(
            conn, name=name, as_of=datetime.fromisoformat(CLOCK), policy=Settings().policy()
        )
    result = bench_fallback(detail)
    return [
        (
            "order lookup: one order from all three systems + checks",
            f"median {lookup[0]:.1f} ms",
            f"max {lookup[1]:.1f} ms (goal < 300 ms)",
        ),
        (
            "fallback summary of one order",
            f"mean {result['mean_ms']:.2f} ms",
            f"p95 {result['p95_ms']:.2f} ms (goal < 50 ms)",
        ),
    ]


def pages_rows(db: Path) -> list[tuple[str, str, str]]:
    from sqlalchemy import select

    from bench.pages_bench import bench_pages
    from db.session import make_engine
    from services.store import T_CLASS

    with make_engine(f"sqlite:///{db}").connect() as conn:
        name = conn.scalar(select(T_CLASS.c.order_name).where(T_CLASS.c.base_category == "open").limit(1))
    return bench_pages(db, CLOCK, name)


def alerts_rows(db: Path) -> list[tuple[str, str, str]]:
    from bench.alerts_bench import bench_alerts

    return bench_alerts(db, CLOCK)


def webhook_rows() -> list[tuple[str, str, str]]:
    from bench.webhooks_bench import bench_webhooks, rows

    return rows(bench_webhooks(rate=50, seconds=60)) + rows(
        bench_webhooks(rate=50, seconds=60, with_sync=True)
    )


def console_rows(db: Path, orders: int) -> list[tuple[str, str, str]]:
    """The console's goals: search per key, bulk refresh against 200 ms sources, pages in Chromium."""
    from sqlalchemy import select

    from bench import console_bench
    from db.session import make_engine
    from services.store import T_CLASS

    with make_engine(f"sqlite:///{db}").connect() as conn:
        name = conn.scalar(select(T_CLASS.c.order_name).where(T_CLASS.c.base_category == "open").limit(1))
    return [
        *optional("search", lambda: console_bench.search_rows(db, orders)),
        *optional("bulk refresh", console_bench.bulk_rows),
        *optional("pages in Chromium", lambda: console_bench.browser_rows(db, orders, name)),
    ]


def main() -> None:
    parser = argparse.ArgumentParser(prog="make bench")
    parser.add_argument("--orders", type=int, default=100_000)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--skip-import", action="store_true", help="reuse the last imported database")
    parser.add_argument(
        "--only",
        choices=["console"],
        help="console: only the console's goals (search, bulk refresh, pages in Chromium); imports the "
        "snapshot once if its database is missing",
    )
    args = parser.parse_args()
    OUT.mkdir(parents=True, exist_ok=True)
    recon_db = OUT / f"recon-{args.orders}.db"
    rows: list[tuple[str, str, str]] = []

    def report(new: list[tuple[str, str, str]]) -> None:
        """Print each figure as soon as it is measured (a later failure loses nothing), table at the end."""
        for label, figure, note in new:
            print(f"{label}: {figure} ({note})", flush=True)
        rows.extend(new)

    if args.only == "console":
        # The console reads only the database: with one imported already, the snapshot (12 GB of JSON at
        # a million orders) is neither generated nor read.
        if recon_db.exists():
            report(
                [("database", str(recon_db), f"{recon_db.stat().st_size / 1e6:,.0f} MB, imported earlier")]
            )
        else:
            snapshot = snapshot_of(args.orders, args.seed, report)
            recon = run_job_isolated("recon", snapshot, recon_db)
            report([("import, order-recon", f"{recon['seconds']:.1f} s", f"peak {recon['peak_mb']:,.0f} MB")])
        report(console_rows(recon_db, args.orders))
        print()
        print_table(rows)
        return
    snapshot = snapshot_of(args.orders, args.seed, report)
    if not args.skip_import:
        plain = run_job_isolated("plain", snapshot, OUT / "plain.db")
        recon = run_job_isolated("recon", snapshot, recon_db)
        report(
            [
                (
                    "import, plain json.load + sqlite3.executemany",
                    f"{plain['seconds']:.1f} s ({plain['orders'] / plain['seconds']:,.0f} orders/s)",
                    f"peak {plain['peak_mb']:,.0f} MB",
                ),
                (
                    "import, order-recon (stream, classify, upsert)",
                    f"{recon['seconds']:.1f} s ({recon['orders'] / recon['seconds']:,.0f} orders/s)",
                    f"peak {recon['peak_mb']:,.0f} MB",
                ),
                (
                    "import ratio (goal: time <= 2x, memory lower)",
                    f"{recon['seconds'] / plain['seconds']:.2f}x time",
                    f"{recon['peak_mb'] / plain['peak_mb']:.2f}x memory",
                ),
            ]
        )
    report(query_latencies(recon_db))
    cli = cli_queue_seconds(recon_db)
    report([("`order-recon queue --json`, whole process", f"{cli:.2f} s", "goal < 2 s at 100k")])
    report(optional("sync", sync_rows))
    report(optional("bulk backfill", lambda: bulk_backfill_rows(args.orders)))
    report(optional("lookup and summaries", lambda: summary_rows(recon_db)))
    report(optional("console pages", lambda: pages_rows(recon_db)))
    report(optional("alerts and report", lambda: alerts_rows(recon_db)))
    report(optional("webhooks", webhook_rows))
    report(console_rows(recon_db, args.orders))
    print()
    print_table(rows)


if __name__ == "__main__":
    main()
