"""Benchmarks of the sync engine against the simulator (called by `make bench`).

    bench_sync(n_orders)  full sync of the three sources into a fresh SQLite database: orders/s
    bench_refresh()       per-order refresh wall time with every source answering after 200 ms

The simulator runs in a child process by default, as the real APIs run elsewhere: on the same process
its request handling would compete with the sync for the GIL. Shopify's call-limit bucket is opened
wide there, so the numbers measure this code rather than Shopify's 2 calls/s.
"""

from __future__ import annotations

import json
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
from sqlalchemy import select

CLOCK = "2026-11-20T15:00:00Z"

_CHILD = """
import json, os, sys
from sandbox.server import start_in_thread
sim = start_in_thread(orders=int(sys.argv[1]), clock=sys.argv[2], shopify_bucket=10**7,
                      shopify_leak_per_s=10.0**7,
                      shopify_graphql_restore_per_s=10.0**7)
print(json.dumps({"base_url": sim.base_url, "sim_pid": str(os.getpid()), **sim.settings()}), flush=True)
sys.stdin.read()
sim.stop()
"""


@contextmanager
def simulator(n_orders: int, *, in_process: bool = False) -> Iterator[dict[str, str]]:
    """A running simulator with `n_orders` orders at a held clock: its settings, plus `base_url` (and, in
    its own process, that process's `sim_pid`)."""
    if in_process:
        from sandbox.server import start_in_thread

        running = start_in_thread(
            orders=n_orders,
            clock=CLOCK,
            shopify_bucket=10**7,
            shopify_leak_per_s=1e7,
            shopify_graphql_restore_per_s=1e7,
        )
        try:
            yield {"base_url": running.base_url, **running.settings()}
        finally:
            running.stop()
        return
    root = Path(__file__).resolve().parents[1]
    child = subprocess.Popen(
        [sys.executable, "-c", _CHILD, str(n_orders), CLOCK],
        cwd=root,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert child.stdout is not None
        line = child.stdout.readline()
        if not line:
            raise RuntimeError("the simulator did not start")
        yield json.loads(line)
    finally:
        if child.stdin:
            child.stdin.close()
        try:
            child.wait(timeout=15)
        except subprocess.TimeoutExpired:
            child.kill()


def _settings(info: dict[str, str]) -> Any:
    from services.settings import Settings

    values: dict[str, Any] = {k.lower(): v for k, v in info.items() if k.isupper()}  # the six settings
    return Settings(**values, database_url="sqlite://")


def _engine(directory: str) -> Any:
    from db.migrate import upgrade
    from db.session import make_engine

    engine = make_engine(f"sqlite:///{directory}/bench.db")
    upgrade(engine)
    return engine


def bench_sync(n_orders: int = 20_000, *, in_process: bool = False) -> dict[str, Any]:
    """Full sync (3PL, carrier, store) of a simulator with `n_orders` orders and no latency into a fresh
    SQLite database. `orders_per_s` counts store orders over the whole run of the three sources."""
    from services.sync import sync_all

    with simulator(n_orders, in_process=in_process) as info, tempfile.TemporaryDirectory() as tmp:
        settings = _settings(info)
        engine = _engine(tmp)
        now = datetime.fromisoformat(CLOCK.replace("Z", "+00:00"))
        started = time.perf_counter()
        results = sync_all(engine, settings, settings.policy(), full=True, now=now)
        seconds = time.perf_counter() - started
        engine.dispose()
    failed = {s: r.error for s, r in results.items() if not r.ok}
    if failed:
        raise RuntimeError(f"sync failed: {failed}")
    return {
        "orders": n_orders,
        "seconds": round(seconds, 2),
        "orders_per_s": round(n_orders / seconds),
        "per_source": {
            s: {
                "records": r.records,
                "pages": r.pages,
                "requests": r.requests,
                "seconds": round(r.seconds, 2),
                "records_per_s": round(r.records / r.seconds) if r.seconds else None,
            }
            for s, r in results.items()
        },
    }


def bench_refresh(
    n_orders: int = 2_000, *, latency_ms: float = 200, repeats: int = 5, in_process: bool = False
) -> dict[str, Any]:
    """Per-order refresh wall time (ms) with every source answering after `latency_ms`: all three sources
    at once, and each alone; median and worst of `repeats` orders."""
    from services.store import T_CLASS
    from services.sync import refresh_order, sync_all

    with simulator(n_orders, in_process=in_process) as info, tempfile.TemporaryDirectory() as tmp:
        settings = _settings(info)
        engine = _engine(tmp)
        now = datetime.fromisoformat(CLOCK.replace("Z", "+00:00"))
        sync_all(engine, settings, settings.policy(), full=True, now=now)
        with engine.connect() as conn:
            names = list(
                conn.scalars(
                    select(T_CLASS.c.order_name)
                    .where(T_CLASS.c.carrier.is_not(None))
                    .order_by(T_CLASS.c.order_id)
                    .limit(repeats)
                )
            )
        httpx.post(info["base_url"] + "/_sim/faults", json={"latency_ms": latency_ms}).raise_for_status()
        timings: dict[str, list[float]] = {}
        for label, sources in (
            ("all", ("store", "3pl", "carrier")),
            ("store", ("store",)),
            ("3pl", ("3pl",)),
            ("carrier", ("carrier",)),
        ):
            for name in names:
                started = time.perf_counter()
                result = refresh_order(
                    engine, settings, settings.policy(), name, sources=sources, now=now + timedelta(minutes=1)
                )
                timings.setdefault(label, []).append((time.perf_counter() - started) * 1000)
                if not result.ok:
                    raise RuntimeError(f"refresh of {name} failed: {result.sources}")
        engine.dispose()
    return {
        "latency_ms": latency_ms,
        "wall_ms": statistics.median(timings["all"]),  # all three sources at once
        **{
            f"{label}_ms": {"median": round(statistics.median(v)), "max": round(max(v))}
            for label, v in timings.items()
        },
    }


if __name__ == "__main__":
    size = int(sys.argv[1]) if len(sys.argv) > 1 else 20_000
    print(json.dumps({"sync": bench_sync(size), "refresh": bench_refresh()}, indent=1))
