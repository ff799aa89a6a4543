"""Benchmarks of the sync engine against the simulator (called by `make bench`).

    bench_incremental(n_orders)  incremental sync CPU-seconds per 1,000 changed orders, the
                                 simulator's own CPU excluded (it runs in a child process)
    bench_refresh()              per-order refresh wall time with every source answering after 200 ms

The simulator runs in a child process by default, as the real APIs run elsewhere: on the same process
its request handling would compete with the sync for the GIL. Shopify's call-limit bucket is opened
wide there, so the numbers measure this code rather than Shopify's 2 calls/s.
"""

from __future__ import annotations

import json
import os
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


def _cpu_s(pid: str | int) -> float:
    """User + system CPU seconds a process has used so far, from /proc."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def bench_incremental(n_orders: int = 5_000, *, advance_h: float = 24.0) -> dict[str, Any]:
    """Incremental sync CPU per 1,000 changed orders: a full sync, then the simulator's clock moves
    `advance_h` hours (its world changes as a store's does) and one incremental sync of the three
    sources reads what changed. CPU is this process's alone: the simulator runs in its own process,
    whose CPU is read from /proc and reported apart. Changed orders = the orders the run reclassified
    because a record of theirs changed (summed over the three sources; re-scans off, so the run reads
    only what changed)."""
    from services.sync import SyncOptions, sync_all

    options = SyncOptions(rescan_every=10**6, rescan_after=timedelta(days=3650))
    with simulator(n_orders) as info, tempfile.TemporaryDirectory() as tmp:
        settings = _settings(info)
        engine = _engine(tmp)
        policy = settings.policy()
        start = datetime.fromisoformat(CLOCK.replace("Z", "+00:00"))
        full = sync_all(engine, settings, policy, full=True, now=start, options=options)
        if not all(r.ok for r in full.values()):
            raise RuntimeError(f"full sync failed: {[r.error for r in full.values() if not r.ok]}")
        httpx.post(info["base_url"] + "/_sim/clock", json={"advance_s": advance_h * 3600}).raise_for_status()
        sim_before, cpu_before, wall_before = (
            _cpu_s(info["sim_pid"]),
            time.process_time(),
            time.perf_counter(),
        )
        results = sync_all(engine, settings, policy, now=start + timedelta(hours=advance_h), options=options)
        cpu = time.process_time() - cpu_before
        wall = time.perf_counter() - wall_before
        sim_cpu = _cpu_s(info["sim_pid"]) - sim_before
        engine.dispose()
    failed = {s: r.error for s, r in results.items() if not r.ok}
    if failed:
        raise RuntimeError(f"incremental sync failed: {failed}")
    changed = sum(r.reclassified for r in results.values())
    return {
        "orders": n_orders,
        "advance_h": advance_h,
        "changed_orders": changed,
        "records": {s: r.records for s, r in results.items()},
        "cpu_s": round(cpu, 3),
        "simulator_cpu_s": round(sim_cpu, 3),
        "wall_s": round(wall, 2),
        "cpu_s_per_1000_changed": round(cpu / changed * 1000, 3) if changed else None,
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
    size = int(sys.argv[1]) if len(sys.argv) > 1 else 5_000
    print(json.dumps({"incremental": bench_incremental(size), "refresh": bench_refresh()}, indent=1))
