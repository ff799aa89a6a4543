"""Writes the world, as of its clock, in SPEC section 1's snapshot layout - streaming, bounded memory.

``write_snapshot(world, directory, *, workers=None, chunk=4000) -> dict`` writes
- ``shopify/orders.json``   = ``{"orders": [Order, ...]}`` (every order placed at or before the clock),
- ``shipbob/orders.json``   = ``[Order, ...]`` (store-linked, replacement and API-created 3PL orders),
- ``shipbob/inventory.json`` = ``[{"sku", "total_fulfillable_quantity",
  "fulfillable_quantity_by_fulfillment_center", ...inventory item fields}, ...]``,
- ``easypost/trackers.json`` = ``{"trackers": [Tracker, ...]}``
and returns the record counts (plus ``workers``: how many processes rendered). The records are byte-identical to what the APIs serve at the same clock.
Memory stays bounded (a chunk of orders at a time). Worlds above ``parallel_from`` orders are rendered
by ``workers`` processes (default: the CPU count) that rebuild the same world from its seed; files are
written to ``*.tmp`` names and renamed at the end, so a reader never sees a half-written file.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from concurrent.futures import ProcessPoolExecutor
from multiprocessing import get_context
from typing import Any

from . import catalog, records
from .clock import Clock
from .rows import rows_from_plan
from .scenarios import NEVER, TRACKER_KINDS
from .timeline import tracker_created_delay
from .world import World

_WORKER_WORLDS: dict[tuple, World] = {}


def _render_rows(world: World, lo: int, hi: int, T: int) -> tuple[bytes, bytes, bytes, tuple[int, int, int]]:
    plan = world.plan_chunk(lo, hi)
    rows = rows_from_plan(plan, 0, hi - lo, lo)
    shop, sb, trk = [], [], []
    seed = world.seed
    for r in rows:
        if r.t0 > T:
            continue
        shop.append(records.shop_order_str(world, r, T).encode())
        if r.t_3pl <= T:
            sb.append(records.sb_order_bytes(world, r, T))
        if r.t_repl <= T:
            sb.append(records.sb_replacement_bytes(world, r, T))
        for k, col in TRACKER_KINDS.items():
            t = getattr(r, col)
            if t < NEVER:
                key = r.i * 8 + k
                if t + tracker_created_delay(seed, key) <= T:
                    sched = records.tracker_schedule(world, r, k)
                    trk.append(records.tracker_str(world, r, key, T, sched).encode())
    world.statics.clear()
    world.cache_sb.clear()
    world.cache_sched.clear()
    return b",\n".join(shop), b",\n".join(sb), b",\n".join(trk), (len(shop), len(sb), len(trk))


def _worker(
    args: tuple[int, int, int, int, int, int, int],
) -> tuple[bytes, bytes, bytes, tuple[int, int, int]]:
    seed, n, anchor, span, T, lo, hi = args
    key = (seed, n, anchor, span)
    w = _WORKER_WORLDS.get(key)
    if w is None:
        _WORKER_WORLDS.clear()
        w = World(seed=seed, orders=n, clock=Clock(anchor, held=True), span_days=span, cache_mb=64)
        _WORKER_WORLDS[key] = w
    return _render_rows(w, lo, hi, T)


class _Array:
    """Writes a JSON array item by item."""

    def __init__(self, f: Any, head: bytes, tail: bytes) -> None:
        self.f = f
        self.tail = tail
        self.first = True
        f.write(head)

    def add(self, blob: bytes) -> None:
        if not blob:
            return
        self.f.write(b"\n" if self.first else b",\n")
        self.f.write(blob)
        self.first = False

    def close(self) -> None:
        self.f.write(b"\n" + self.tail if not self.first else self.tail)


def write_snapshot(
    world: World,
    directory: str | os.PathLike[str],
    *,
    workers: int | None = None,
    chunk: int = 4000,
    parallel_from: int = 20_000,
) -> dict[str, int]:
    T = world.now()
    d = os.fspath(directory)
    paths = {
        name: os.path.join(d, name)
        for name in (
            "shopify/orders.json",
            "shipbob/orders.json",
            "shipbob/inventory.json",
            "easypost/trackers.json",
        )
    }
    for p in paths.values():
        os.makedirs(os.path.dirname(p), exist_ok=True)
    tmp = {k: p + ".tmp" for k, p in paths.items()}
    files = {k: open(p, "wb", buffering=1 << 20) for k, p in tmp.items()}  # noqa: SIM115
    counts = {"shopify_orders": 0, "shipbob_orders": 0, "trackers": 0, "inventory_items": 0}
    try:
        shop = _Array(files["shopify/orders.json"], b'{"orders":[', b"]}\n")
        sb = _Array(files["shipbob/orders.json"], b"[", b"]\n")
        trk = _Array(files["easypost/trackers.json"], b'{"trackers":[', b"]}\n")
        n_vis = world.shop_visible(T) if world._plan is not None else world.n
        ranges = [(lo, min(n_vis, lo + chunk)) for lo in range(0, n_vis, chunk)]
        counts["workers"] = _workers(world, ranges, workers, parallel_from)
        for s, b, t, (c1, c2, c3) in _chunks(world, T, ranges, counts["workers"]):
            shop.add(s)
            sb.add(b)
            trk.add(t)
            counts["shopify_orders"] += c1
            counts["shipbob_orders"] += c2
            counts["trackers"] += c3
        with world.lock:
            created = [c for c in world.created if c.created_at <= T]
        for c in created:
            sb.add(
                json.dumps(
                    records.sb_created(world, c, T), separators=(",", ":"), ensure_ascii=False
                ).encode()
            )
            counts["shipbob_orders"] += 1
        shop.close()
        sb.close()
        trk.close()
        inv = [{"sku": s.sku, **records.inventory_item(world, s.sku)} for s in catalog.STOCKED_SKUS]
        files["shipbob/inventory.json"].write(json.dumps(inv, indent=1).encode() + b"\n")
        counts["inventory_items"] = len(inv)
    finally:
        for f in files.values():
            f.close()
    for k, p in paths.items():
        os.replace(tmp[k], p)
    return counts


def _workers(world: World, ranges: list[tuple[int, int]], workers: int | None, parallel_from: int) -> int:
    n_workers = workers if workers is not None else (os.cpu_count() or 1)
    if world.n < parallel_from or n_workers <= 1 or len(ranges) <= 1:
        return 1
    return n_workers


def _chunks(
    world: World, T: int, ranges: list[tuple[int, int]], n_workers: int
) -> Iterator[tuple[bytes, bytes, bytes, tuple[int, int, int]]]:
    if n_workers <= 1:
        for lo, hi in ranges:
            yield _render_rows(world, lo, hi, T)
        return
    args = [(world.seed, world.n, world.anchor, world.span_days, T, lo, hi) for lo, hi in ranges]
    with ProcessPoolExecutor(max_workers=n_workers, mp_context=get_context("spawn")) as ex:
        # bounded look-ahead keeps memory flat: at most 2 chunks per worker in flight
        window = 2 * n_workers
        futures = [ex.submit(_worker, a) for a in args[:window]]
        nxt = window
        while futures:
            res = futures.pop(0).result()
            if nxt < len(args):
                futures.append(ex.submit(_worker, args[nxt]))
                nxt += 1
            yield res
