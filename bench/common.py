"""What every bench shares: where its files go, the simulated clock, generating a snapshot once, a job
run in a process of its own (for its peak memory), and the printed table."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
OUT = ROOT / "bench" / "out"
CLOCK = "2026-11-20T18:00:00+00:00"


def generate(orders: int, seed: int) -> Path:
    target = OUT / f"snapshot-{orders}-{seed}"
    if (target / "shopify" / "orders.json").exists():
        return target
    from sandbox.cli import write_snapshot_main

    start = time.perf_counter()
    write_snapshot_main(
        ["--orders", str(orders), "--seed", str(seed), "--clock", CLOCK, "--out", str(target)]
    )
    print(f"generated {orders:,} orders in {time.perf_counter() - start:.1f} s -> {target}", file=sys.stderr)
    return target


def snapshot_of(orders: int, seed: int, report: Callable[[list[tuple[str, str, str]]], None]) -> Path:
    """The snapshot of `orders` orders, generated if missing, its size reported."""
    snapshot = generate(orders, seed)
    size_mb = sum(p.stat().st_size for p in snapshot.rglob("*.json")) / 1e6
    report([("snapshot", f"{orders:,} orders", f"{size_mb:,.0f} MB of JSON")])
    return snapshot


def run_job_isolated(job: str, directory: Path, db: Path) -> dict[str, Any]:
    """Peak RSS of exactly this job: measured by a wrapper process that reports its own child's usage."""
    code = (
        "import json,os,subprocess,sys,resource;"
        f"p=subprocess.run([sys.executable,'-m','bench.jobs','{job}',{str(directory)!r},{str(db)!r}],"
        "capture_output=True,text=True,check=True);"
        "r=json.loads(p.stdout);r['peak_mb']=resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss/1024;"
        "print(json.dumps(r))"
    )
    for suffix in ("", "-wal", "-shm"):
        Path(f"{db}{suffix}").unlink(missing_ok=True)
    return json.loads(
        subprocess.run(
            [sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, check=True
        ).stdout
    )


def print_table(rows: list[tuple[str, str, str]]) -> None:
    widths = [max(len(r[i]) for r in rows) for i in range(3)]
    for row in rows:
        print("  ".join(cell.ljust(w) for cell, w in zip(row, widths, strict=True)))
