"""The seeded store: every order's timeline as a pure function of ``(seed, index)`` plus the world's size
and start clock, and the state of the three external systems at any world clock.

Just over 400 lines: `World` is one class whose methods are the questions the three APIs ask of the
same columns under one lock; the timelines are `sandbox.timeline`, their vocabulary `sandbox.scenarios`.

What callers may rely on:
- ``World(seed=7, orders=2000, clock=Clock(...))``: ``world.anchor`` (epoch s) is the clock's start; orders
  are placed over the ``SPAN_DAYS`` days before it (store timezone America/New_York), index 0 oldest.
- An order's timeline (placed, paid, hold released, at the 3PL, shipped, store fulfillments, vendor
  fulfillment, cancellation, refunds, archive, carrier exception, replacement) is fixed at construction;
  what an API returns is the state of that timeline at ``world.now()`` (events with time <= clock).
- ``world.plan`` (built lazily) holds compact numpy columns, never per-order dicts; JSON is rendered on
  demand by ``sandbox.records`` and cached per order per visible state (see ``Caches``).
- Store order ``i``: id ``order_id(i)`` (increasing with ``i``), name ``#<2001+i>``; 3PL order id
  ``SB_ORDER_BASE + 2*i`` (its replacement ``+1``); trackers keyed ``i*8 + k`` (``k``: 0 first 3PL shipment,
  1 second 3PL shipment, 2 a store-only label that has no tracker, 3 vendor shipment, 4 replacement).
- The only mutable state is the 3PL's: orders created through ``create_shipbob_order`` and the inventory
  they reserve (``reserve``); both are guarded by ``world.lock``.
- ``scenario_name(i)`` / ``timeline(i)`` expose the ground truth for debugging and tests.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from . import catalog
from .clock import Clock
from .lru import LRU
from .rows import Row, rows_from_plan
from .scenarios import (
    COLS,
    METHODS,
    NEVER,
    SB_COLS,
    SB_ORDER_BASE,
    SCENARIO_NAMES,
    SHOP_COLS,
    SHOP_QUIRK_COLS,
    SPAN_DAYS,
    TIME_COLS,
    TRACKER_KINDS,
    index_of_order_id,
    order_id,
    order_ids_array,
)
from .timefmt import fmt_z
from .timeline import diurnal_grid, plan_chunk, tracker_created_delay, tracker_created_delay_array


@dataclass
class CreatedOrder:
    """A 3PL order created through the API (mutable world state)."""

    id: int
    reference_id: str
    created_at: int
    body: dict[str, Any]
    products: list[tuple[str, int, int]]  # (sku, quantity, warehouse id)
    location_id: int
    short: bool  # inventory was short when it was created (-> Exception / OutOfStock)
    record: dict[str, Any] = field(default_factory=dict)


class World:
    """The seeded store and the state of Shopify, ShipBob and EasyPost at the world clock."""

    def __init__(
        self,
        *,
        seed: int = 7,
        orders: int = 2000,
        clock: Clock | None = None,
        span_days: int = SPAN_DAYS,
        cache_mb: int = 1024,
    ) -> None:
        if orders < 1:
            raise ValueError("orders must be >= 1")
        self.seed = int(seed)
        self.n = int(orders)
        self.clock = clock or Clock()
        self.anchor = int(self.clock.start)
        self.span_days = span_days
        self.grid = diurnal_grid(self.anchor, span_days)
        self.lock = threading.RLock()
        self._plan: dict[str, np.ndarray] | None = None
        self._trackers: tuple[np.ndarray, np.ndarray] | None = None
        self.stock = catalog.stock_plan(self.seed)  # sku -> {wid: [onhand, committed]}
        self.created: list[CreatedOrder] = []
        self.created_by_ref: dict[str, CreatedOrder] = {}
        cap_b = cache_mb * 1024 * 1024
        self.statics = LRU(60_000)
        self.cache_shop = LRU(1 << 30, cap_b // 2)
        self.cache_sb = LRU(1 << 30, cap_b // 4)
        self.cache_trk = LRU(1 << 30, cap_b // 4)
        self.cache_sched = LRU(100_000)
        self.cache_fo = LRU(100_000, cap_b // 16)
        self.query_cache = LRU(64)

    # ------------------------------------------------------------------ plan
    @property
    def plan(self) -> dict[str, np.ndarray]:
        if self._plan is None:
            with self.lock:
                if self._plan is None:
                    parts = [
                        plan_chunk(self.seed, self.n, self.anchor, lo, min(self.n, lo + 262_144), self.grid)
                        for lo in range(0, self.n, 262_144)
                    ]
                    self._plan = {k: np.concatenate([p[k] for p in parts]) for k in COLS}
        return self._plan

    def plan_chunk(self, lo: int, hi: int) -> dict[str, np.ndarray]:
        """Plan columns of ``lo..hi-1`` without building the whole world's plan."""
        if self._plan is not None:
            return {k: v[lo:hi] for k, v in self._plan.items()}
        return plan_chunk(self.seed, self.n, self.anchor, lo, hi, self.grid)

    def row(self, i: int) -> Row:
        p = self.plan
        return Row(i, tuple(p[c][i].item() for c in COLS))

    def rows(self, idx: list[int] | range | np.ndarray) -> list[Row]:
        p = self.plan
        ix = np.asarray(idx, dtype=np.int64)
        lists = [p[c][ix].tolist() for c in COLS]
        return [Row(i, vals) for i, vals in zip(ix.tolist(), zip(*lists, strict=True), strict=True)]

    def now(self) -> int:
        return int(self.clock.now())

    def scenario_name(self, i: int) -> str:
        return SCENARIO_NAMES[int(self.plan["scen"][i])]

    def timeline(self, i: int) -> dict[str, Any]:
        r = self.row(i)
        return {
            "index": i,
            "order_id": order_id(i),
            "name": f"#{2001 + i}",
            "scenario": SCENARIO_NAMES[r.scen],
            "variant": r.variant,
            "method": METHODS[r.method],
            "quirk": bool(r.quirk),
            "events": {c: fmt_z(getattr(r, c)) for c in TIME_COLS if getattr(r, c) < NEVER},
        }

    # ------------------------------------------------------------------ store (Shopify) queries
    def shop_visible(self, T: int) -> int:
        """Number of store orders placed at or before ``T`` (always a prefix of indices)."""
        return int(np.searchsorted(self.plan["t0"], T, side="right"))

    def shop_updated_at(self, lo: int, hi: int, T: int) -> np.ndarray:
        p = self.plan
        out = np.full(hi - lo, -1, dtype=np.int64)
        quirk = p["quirk"][lo:hi].astype(bool)
        for c in SHOP_COLS:
            col = p[c][lo:hi]
            vis = col <= T
            if c in SHOP_QUIRK_COLS:
                vis &= ~quirk
            np.maximum(out, np.where(vis, col, -1), out=out)
        return out

    def shop_mask(self, lo: int, hi: int, T: int, f: dict[str, Any]) -> np.ndarray:
        """Which of orders ``lo..hi-1`` match the store filters ``f`` at ``T``."""
        p = self.plan
        t0 = p["t0"][lo:hi]
        mask = t0 <= T
        st = f.get("status", "open")
        if st != "any":
            canc = p["t_cancel"][lo:hi] <= T
            closed = p["t_closed"][lo:hi] <= T
            if st == "open":
                mask &= ~canc & ~closed
            elif st == "closed":
                mask &= closed
            elif st == "cancelled":
                mask &= canc
        if "created_at_min" in f:
            mask &= t0 >= f["created_at_min"]
        if "created_at_max" in f:
            mask &= t0 <= f["created_at_max"]
        if "updated_at_min" in f or "updated_at_max" in f:
            up = self.shop_updated_at(lo, hi, T)
            if "updated_at_min" in f:
                mask &= up >= f["updated_at_min"]
            if "updated_at_max" in f:
                mask &= up <= f["updated_at_max"]
        if "since_id" in f:
            mask &= order_ids_array(np.arange(lo, hi, dtype=np.int64)) > f["since_id"]
        if "financial_status" in f or "fulfillment_status" in f:
            from . import records  # local import: records depends on world

            rows = rows_from_plan(p, lo, hi)
            extra = np.array([records.shop_status_filter(self, r, T, f) for r in rows], dtype=bool)
            mask &= extra
        return mask

    def shop_scan(
        self, start: int, limit: int, T: int, f: dict[str, Any], *, backward: bool = False
    ) -> list[int]:
        """Up to ``limit`` matching indices after ``start`` (exclusive; ascending) or before it (backward)."""
        n_vis = self.shop_visible(T)
        out: list[int] = []
        step = max(4096, limit * 4)
        if not backward:
            lo = max(0, start + 1)
            while lo < n_vis and len(out) < limit:
                hi = min(n_vis, lo + step)
                hits = np.nonzero(self.shop_mask(lo, hi, T, f))[0] + lo
                out.extend(hits[: limit - len(out)].tolist())
                lo = hi
            return out
        hi = min(start, n_vis)
        while hi > 0 and len(out) < limit:
            lo = max(0, hi - step)
            hits = (np.nonzero(self.shop_mask(lo, hi, T, f))[0] + lo)[::-1]
            out.extend(hits[: limit - len(out)].tolist())
            hi = lo
        return sorted(out)

    # ------------------------------------------------------------------ 3PL (ShipBob) queries
    def sb_last_update(self, T: int) -> np.ndarray:
        p = self.plan
        out = np.full(self.n, -1, dtype=np.int64)
        for c in SB_COLS:
            col = p[c]
            np.maximum(out, np.where(col <= T, col, -1), out=out)
        return out

    def sb_listing(self, T: int, f: dict[str, Any]) -> np.ndarray:
        """Sorted ascending 3PL order ids visible at ``T`` matching filters ``f`` (cached per T and f)."""
        with self.lock:
            key = (
                "sb",
                T,
                tuple(sorted((k, tuple(v) if isinstance(v, list) else v) for k, v in f.items())),
                len(self.created),
            )
            hit = self.query_cache.get(key)
            if hit is not None:
                return hit
            p = self.plan
            prim = p["t_3pl"] <= T
            rep = p["t_repl"] <= T
            created_ids = np.array([c.id for c in self.created if c.created_at <= T], dtype=np.int64)
            created_at = np.array([c.created_at for c in self.created if c.created_at <= T], dtype=np.int64)
            # an API-created order's last update: its creation, or its cancellation (shipbob_api)
            created_lu = np.array(
                [
                    max(c.created_at, c.record["cancelled_at"])
                    if c.record.get("cancelled_at") is not None and c.record["cancelled_at"] <= T
                    else c.created_at
                    for c in self.created
                    if c.created_at <= T
                ],
                dtype=np.int64,
            )
            if "start" in f or "end" in f:
                cp, cr = p["t_3pl"], p["t_repl"]
                if "start" in f:
                    prim &= cp >= f["start"]
                    rep &= cr >= f["start"]
                if "end" in f:
                    prim &= cp <= f["end"]
                    rep &= cr <= f["end"]
            keep_c = np.ones(len(created_ids), dtype=bool)
            if "start" in f:
                keep_c &= created_at >= f["start"]
            if "end" in f:
                keep_c &= created_at <= f["end"]
            if "lu_start" in f or "lu_end" in f:
                lu = self.sb_last_update(T)
                rl = np.maximum(
                    np.where(p["t_repl"] <= T, p["t_repl"], -1),
                    np.where(p["t_repl_ship"] <= T, p["t_repl_ship"], -1),
                )
                if "lu_start" in f:
                    prim &= lu >= f["lu_start"]
                    rep &= rl >= f["lu_start"]
                    keep_c &= created_lu >= f["lu_start"]
                if "lu_end" in f:
                    prim &= lu <= f["lu_end"]
                    rep &= rl <= f["lu_end"]
                    keep_c &= created_lu <= f["lu_end"]
            if f.get("has_tracking") is not None:
                ht = (p["t_ship1"] <= T) | (p["t_ship2"] <= T)
                prim &= ht if f["has_tracking"] else ~ht
                rht = p["t_repl_ship"] <= T
                rep &= rht if f["has_tracking"] else ~rht
                keep_c &= not f["has_tracking"]
            ids = np.concatenate(
                [
                    SB_ORDER_BASE + 2 * np.nonzero(prim)[0].astype(np.int64),
                    SB_ORDER_BASE + 2 * np.nonzero(rep)[0].astype(np.int64) + 1,
                    created_ids[keep_c],
                ]
            )
            ids.sort()
            if "ids" in f:
                ids = ids[np.isin(ids, np.array(f["ids"], dtype=np.int64))]
            self.query_cache.put(key, ids)
            return ids

    def sb_id_for_reference(self, ref: str, T: int) -> int | None:
        """The 3PL order id with this ``reference_id`` visible at ``T``, if any."""
        with self.lock:
            c = self.created_by_ref.get(ref)
            if c is not None and c.created_at <= T:
                return c.id
        base, _, rsuffix = ref.partition("-R")
        if not base.isdigit():
            return None
        i = index_of_order_id(int(base), self.n)
        if i is None:
            return None
        p = self.plan
        if not rsuffix:
            return SB_ORDER_BASE + 2 * i if p["t_3pl"][i] <= T else None
        if rsuffix == "1" and p["t_repl"][i] <= T:
            return SB_ORDER_BASE + 2 * i + 1
        return None

    def created_by_id(self, sid: int) -> CreatedOrder | None:
        k = (sid - SB_ORDER_BASE - 2 * self.n) // 2
        with self.lock:
            if 0 <= k < len(self.created) and self.created[k].id == sid:
                return self.created[k]
        return None

    def next_created_id(self) -> int:
        return SB_ORDER_BASE + 2 * self.n + 2 * len(self.created)

    # ------------------------------------------------------------------ inventory (mutable)
    def fulfillable(self, sku: str) -> int:
        per = self.stock.get(sku)
        if per is None:
            return 0
        return sum(max(0, oh - cm) for oh, cm in per.values())

    def reserve(self, sku: str, qty: int) -> tuple[int, bool]:
        """Commit ``qty`` of ``sku`` at the warehouse with the most fulfillable stock.

        Returns ``(warehouse id, short)``; ``short`` is True when the stock did not cover it (the
        committed quantity is recorded anyway, like a backorder)."""
        with self.lock:
            per = self.stock[sku]
            wid = max(per, key=lambda w: (per[w][0] - per[w][1], -w))
            free = per[wid][0] - per[wid][1]
            per[wid][1] += qty
            return wid, free < qty

    # ------------------------------------------------------------------ trackers
    def tracker_table(self) -> tuple[np.ndarray, np.ndarray]:
        """(created_at sorted ascending, tracker keys in the same order) of every tracker in the world."""
        if self._trackers is None:
            with self.lock:
                if self._trackers is None:
                    p = self.plan
                    keys, created = [], []
                    for k, col in TRACKER_KINDS.items():
                        ix = np.nonzero(p[col] < NEVER)[0].astype(np.int64)
                        key = ix * 8 + k
                        keys.append(key)
                        created.append(p[col][ix] + tracker_created_delay_array(self.seed, key))
                    key = np.concatenate(keys)
                    cr = np.concatenate(created)
                    order = np.lexsort((key, cr))
                    self._trackers = (cr[order], key[order])
        return self._trackers

    def tracker_visible(self, T: int) -> int:
        cr, _ = self.tracker_table()
        return int(np.searchsorted(cr, T, side="right"))

    def tracker_position(self, key: int) -> int | None:
        cr, keys = self.tracker_table()
        i, k = divmod(key, 8)
        col = TRACKER_KINDS.get(k)
        if col is None or not 0 <= i < self.n:
            return None
        t = int(self.plan[col][i])
        if t >= NEVER:
            return None
        created = t + tracker_created_delay(self.seed, key)
        lo = int(np.searchsorted(cr, created, side="left"))
        hi = int(np.searchsorted(cr, created, side="right"))
        pos = lo + int(np.searchsorted(keys[lo:hi], key))
        if pos < len(keys) and keys[pos] == key:
            return pos
        return None

    def tracker_created(self, key: int) -> int | None:
        i, k = divmod(key, 8)
        col = TRACKER_KINDS.get(k)
        if col is None or not 0 <= i < self.n:
            return None
        t = int(self.plan[col][i])
        if t >= NEVER:
            return None
        return t + tracker_created_delay(self.seed, key)

    # ------------------------------------------------------------------ counts
    def counts(self, T: int) -> dict[str, int]:
        p = self.plan
        return {
            "store_orders": self.shop_visible(T),
            "threepl_orders": int((p["t_3pl"] <= T).sum() + (p["t_repl"] <= T).sum())
            + sum(1 for c in self.created if c.created_at <= T),
            "threepl_created_via_api": len(self.created),
            "trackers": self.tracker_visible(T),
        }
