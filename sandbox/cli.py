"""Command line: ``order-recon sandbox [...]`` (``main``) and the snapshot generator (``write_snapshot_main``).

``main(argv) -> int``: ``[--port 8787] [--host 127.0.0.1] [--orders 2000] [--seed 7] [--clock ISO]
[--speed 1.0] [--fault-rate 0] [--fault-kinds latency,429,500,timeout,malformed,truncated]
[--latency-ms 0] [--retry-after 1] [--hang-s 30] [--shopify-bucket 40] [--shopify-leak-rate 2]
[--shopify-graphql-bucket 2000] [--shopify-graphql-restore-rate 100] [--no-warm]``. It first prints the six settings that point order-recon at the simulator, one
export-ready ``NAME=value`` line each (SHOPIFY_SHOP_URL, SHOPIFY_ACCESS_TOKEN, SHIPBOB_API_URL,
SHIPBOB_TOKEN, EASYPOST_API_URL, EASYPOST_API_KEY), then serves in the foreground until Ctrl-C.
Without ``--clock`` the world clock starts now and moves with real time (times ``--speed``); with it,
the clock is held there.

``write_snapshot_main(argv) -> int``: ``--orders N --seed S --clock ISO --out DIR [--workers W]``
writes the SPEC snapshot files of that world at that clock and prints the counts as JSON.
"""

from __future__ import annotations

import argparse
import json
import sys
import time

from .clock import Clock
from .faults import KINDS
from .server import serve_forever
from .snapshot import write_snapshot
from .world import World

SETTING_NAMES = (
    "SHOPIFY_SHOP_URL",
    "SHOPIFY_ACCESS_TOKEN",
    "SHIPBOB_API_URL",
    "SHIPBOB_TOKEN",
    "EASYPOST_API_URL",
    "EASYPOST_API_KEY",
)


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="order-recon sandbox",
        description="Simulated Shopify, ShipBob and EasyPost APIs for demos and tests.",
    )
    p.add_argument("--port", type=int, default=8787)
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--orders", type=int, default=2000)
    p.add_argument("--seed", type=int, default=7)
    p.add_argument(
        "--clock", default=None, help="hold the world clock at this ISO time (default: now, moving)"
    )
    p.add_argument("--speed", type=float, default=1.0, help="world seconds per real second (moving clock)")
    p.add_argument("--fault-rate", type=float, default=0.0)
    p.add_argument("--fault-kinds", default=",".join(KINDS))
    p.add_argument("--latency-ms", type=float, default=0.0)
    p.add_argument("--retry-after", default="1")
    p.add_argument("--hang-s", type=float, default=30.0)
    p.add_argument("--shopify-bucket", type=int, default=40)
    p.add_argument("--shopify-leak-rate", type=float, default=2.0)
    p.add_argument("--shopify-graphql-bucket", type=float, default=2000.0, help="GraphQL cost points")
    p.add_argument("--shopify-graphql-restore-rate", type=float, default=100.0, help="GraphQL points per second")
    p.add_argument("--no-warm", action="store_true", help="do not pre-render the world in the background")
    return p


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    if argv and argv[0] == "snapshot":
        return write_snapshot_main(argv[1:])
    a = _parser().parse_args(argv)
    if a.orders < 1:
        print("--orders must be at least 1", file=sys.stderr)
        return 2
    try:
        clock = Clock(a.clock, held=True) if a.clock else Clock(None, held=False, speed=a.speed)
        kinds = [k for k in a.fault_kinds.split(",") if k]
    except ValueError as e:
        print(f"invalid argument: {e}", file=sys.stderr)
        return 2

    def ready(settings: dict[str, str]) -> None:
        for name in SETTING_NAMES:
            print(f"{name}={settings[name]}")
        sys.stdout.flush()

    try:
        serve_forever(
            host=a.host,
            port=a.port,
            seed=a.seed,
            orders=a.orders,
            clock=clock,
            fault_rate=a.fault_rate,
            latency_ms=a.latency_ms,
            fault_kinds=kinds,
            retry_after=a.retry_after,
            hang_s=a.hang_s,
            shopify_bucket=a.shopify_bucket,
            shopify_leak_per_s=a.shopify_leak_rate,
            shopify_graphql_bucket=a.shopify_graphql_bucket,
            shopify_graphql_restore_per_s=a.shopify_graphql_restore_rate,
            warm=not a.no_warm,
            on_ready=ready,
        )
    except (OSError, ValueError) as e:
        print(f"sandbox: {e}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        pass
    return 0


def write_snapshot_main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(
        prog="order-recon sandbox snapshot",
        description="Write a simulated store as snapshot files (SPEC section 1).",
    )
    p.add_argument("--orders", type=int, default=2000)
    p.add_argument("--seed", type=int, default=7)
    p.add_argument("--clock", required=True, help="the world clock (ISO-8601), e.g. 2026-11-20T15:00:00Z")
    p.add_argument("--out", required=True)
    p.add_argument("--workers", type=int, default=None)
    a = p.parse_args(list(sys.argv[1:] if argv is None else argv))
    try:
        world = World(seed=a.seed, orders=a.orders, clock=Clock(a.clock, held=True))
    except ValueError as e:
        print(f"invalid argument: {e}", file=sys.stderr)
        return 2
    t = time.perf_counter()
    counts = write_snapshot(world, a.out, workers=a.workers)
    print(json.dumps({**counts, "seconds": round(time.perf_counter() - t, 2), "out": a.out}))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
