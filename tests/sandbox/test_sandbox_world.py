"""The seeded world without HTTP: determinism, identifiers, time helpers, timeline invariants."""

from __future__ import annotations

import random
from datetime import datetime
from zoneinfo import ZoneInfo

import numpy as np

from sandbox import records
from sandbox.clock import Clock
from sandbox.scenarios import COLS, NEVER, SCENARIO_NAMES, index_of_order_id, order_id
from sandbox.timefmt import epoch, fmt_local, ny_offset
from sandbox.timeline import plan_chunk
from sandbox.world import World

from .conftest import CLOCK


def _world(n: int = 1500, seed: int = 7) -> World:
    return World(seed=seed, orders=n, clock=Clock(CLOCK, held=True))


def test_store_timezone_matches_zoneinfo() -> None:
    tz = ZoneInfo("America/New_York")
    rnd = random.Random(1)
    for _ in range(3000):
        t = rnd.randint(epoch(2010, 1, 1), epoch(2035, 1, 1))
        assert ny_offset(t) == int(datetime.fromtimestamp(t, tz).utcoffset().total_seconds())
        assert fmt_local(t) == datetime.fromtimestamp(t, tz).isoformat()


def test_plan_is_a_pure_function_of_seed_and_index() -> None:
    w = _world()
    chunk = plan_chunk(w.seed, w.n, w.anchor, 300, 420, w.grid)
    for c in COLS:
        assert np.array_equal(chunk[c], w.plan[c][300:420]), c
    other = _world(seed=8)
    assert not np.array_equal(other.plan["scen"], w.plan["scen"])


def test_same_seed_and_clock_render_identical_bytes() -> None:
    a, b = _world(), _world()
    T = a.now()
    for i in (0, 5, 400, 999, 1499):
        ra, rb = a.row(i), b.row(i)
        assert records.shop_order_bytes(a, ra, T) == records.shop_order_bytes(b, rb, T)
        if ra.t_3pl <= T:
            assert records.sb_record_bytes(a, 310_000_000 + 2 * i, T) == records.sb_record_bytes(
                b, 310_000_000 + 2 * i, T
            )
        if ra.t_ship1 <= T - 3600:
            assert records.tracker_bytes(a, i * 8, T) == records.tracker_bytes(b, i * 8, T)


def test_orders_are_placed_before_the_start_clock_in_id_order() -> None:
    w = _world()
    t0 = w.plan["t0"]
    assert (np.diff(t0) >= 0).all() and t0[-1] < w.anchor and t0[0] >= w.anchor - 43 * 86400
    ids = [order_id(i) for i in range(w.n)]
    assert ids == sorted(ids) and len(set(ids)) == w.n
    assert all(index_of_order_id(oid, w.n) == i for i, oid in enumerate(ids[:50]))
    assert index_of_order_id(ids[3] + 1, w.n) is None


def test_timelines_are_causal() -> None:
    p = _world(5000).plan
    fin = lambda c: p[c] < NEVER  # noqa: E731
    assert (p["t_3pl"][fin("t_3pl")] >= p["t0"][fin("t_3pl")]).all()
    m = fin("t_ship1")
    assert (p["t_ship1"][m] > p["t_3pl"][m]).all()
    m = fin("t_ful1")
    assert (p["t_ful1"][m] > p["t_ship1"][m]).all()
    m = fin("t_ship2")
    assert (p["t_ship2"][m] > p["t_ship1"][m]).all()
    m = fin("t_repl")
    assert (p["t_repl"][m] > p["t_exc"][m]).all() and (p["t_repl_ship"][m] > p["t_repl"][m]).all()
    present = {SCENARIO_NAMES[s] for s in np.unique(p["scen"])}
    assert present == set(SCENARIO_NAMES)


def test_identifier_round_trips() -> None:
    w = _world()
    for key in (0, 8, 3 * 8 + 1, 1499 * 8 + 4, 777 * 8 + 3):
        tid = records.tracker_id(w.seed, key)
        assert tid.startswith("trk_") and len(tid) == 36
        assert records.tracker_key_from_id(w.seed, tid) == key
        for carrier in ("UPS", "USPS", "FedEx"):
            code = records.tracking_code(w.seed, key, carrier, 0, 0)
            assert records.key_from_tracking_code(w.seed, code) == key
    assert records.tracker_key_from_id(w.seed, "trk_" + "0" * 32) is None
    assert records.key_from_tracking_code(w.seed, "NOT-A-CODE") is None
