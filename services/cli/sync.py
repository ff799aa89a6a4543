"""`order-recon sync`: bulk sync of one or all sources, or a per-order refresh.

    order-recon sync [--source shopify|shipbob|easypost|all] [--order NAME] [--full]

Progress goes to stderr as pages are committed, the summary to stdout. Exit codes:
- 0: every source asked succeeded, or was skipped because another sync of it is running ("another
  sync of <source> is running; nothing to do");
- 1: a source or the database failed (one line each, no traceback);
- 2: bad input (via `services.cli.main`);
- 143: stopped by SIGTERM, which is handled like Ctrl+C (130): the page in flight is abandoned, the run
  is recorded as failed (the next sync resumes it) and the lock is released.
"""

from __future__ import annotations

import argparse
import signal
import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from types import FrameType
from typing import TYPE_CHECKING, Any

from services.cli.system import system_actor
from services.errors import InputError
from services.sync import SOURCES, SyncProgress, busy_message, refresh_order_as, sync_all_as

if TYPE_CHECKING:
    from services.cli.context import Context

ROLE = {"shopify": "store", "shipbob": "3pl", "easypost": "carrier"}


def register(sub: Any, common: argparse.ArgumentParser) -> None:
    """Add the `sync` command to the `order-recon` subparsers."""
    parser = sub.add_parser("sync", parents=[common], help="sync from Shopify, ShipBob and EasyPost")
    parser.add_argument(
        "--source", choices=[*SOURCES, "all"], default="all", help="which system to sync (default: all)"
    )
    parser.add_argument(
        "--order",
        metavar="NAME",
        default=None,
        help="refresh one order (e.g. #1001) from the chosen source(s) instead of a bulk sync",
    )
    parser.add_argument("--full", action="store_true", help="read everything, not only what changed")
    parser.set_defaults(handler=cmd_sync)


def cmd_sync(ctx: Context) -> int:
    args = ctx.args
    sources = list(SOURCES) if args.source == "all" else [args.source]
    if args.order:
        if args.full:
            raise InputError("--full does not apply to --order (a refresh always reads the whole order)")
        return _refresh(ctx, args.order, sources)
    try:
        with _sigterm_as_interrupt():
            results = sync_all_as(
                ctx.engine,
                ctx.settings,
                ctx.policy,
                system_actor(),
                sources=sources,
                full=args.full,
                now=ctx.now,
                progress=_print_progress,
            )
    except Terminated:
        print(
            "sync stopped by SIGTERM: the run is recorded as failed; the next sync resumes it",
            file=sys.stderr,
        )
        return 143
    busy = {s for s, r in results.items() if r.error == busy_message(s)}
    for source in busy:
        print(busy_message(source))
    results = {s: r for s, r in results.items() if s not in busy}
    for result in results.values():
        state = "ok" if result.ok else "FAILED"
        resumed = ", resumed" if result.resumed else ""
        rescan = ", re-scanned" if result.rescan_from else ""
        print(
            f"{result.source:<9} {state:<6} {result.mode}{resumed}{rescan}: {result.pages} page(s), "
            f"{result.records} record(s), {result.reclassified} order(s) reclassified, "
            f"{result.requests} request(s) in {result.seconds:.1f}s"
        )
        if result.error:
            print(f"          {result.error}")
        elif result.watermark:
            print(f"          data as of {result.watermark.isoformat(timespec='seconds')}")
    return 0 if all(r.ok for r in results.values()) else 1


class Terminated(KeyboardInterrupt):
    """SIGTERM, raised where the sync stands, so it unwinds as Ctrl+C does."""


@contextmanager
def _sigterm_as_interrupt() -> Iterator[None]:
    if threading.current_thread() is not threading.main_thread():  # signals reach the main thread only
        yield
        return

    def stop(signum: int, frame: FrameType | None) -> None:
        signal.signal(signal.SIGTERM, signal.SIG_IGN)  # a second SIGTERM must not cut the cleanup short
        raise Terminated("stopped by SIGTERM")

    previous = signal.signal(signal.SIGTERM, stop)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


def _refresh(ctx: Context, name: str, sources: list[str]) -> int:
    result = refresh_order_as(
        ctx.engine,
        ctx.settings,
        ctx.policy,
        system_actor(),
        name,
        sources=[ROLE[s] for s in sources],
        now=ctx.now,
    )
    print(f"{result.name}: refreshed in {result.seconds * 1000:.0f} ms")
    for report in result.sources.values():
        if report.ok:
            print(f"  {report.source:<8} ok      {report.detail}")
        else:
            print(f"  {report.source:<8} FAILED  {report.error}")
    if result.category_before != result.category_after:
        print(f"  category {result.category_before} → {result.category_after}")
    return 0 if result.ok else 1


def _print_progress(progress: SyncProgress) -> None:
    print(
        f"{progress.source}: {progress.pages} page(s), {progress.records} {progress.kind} record(s)",
        file=sys.stderr,
        flush=True,
    )
