"""A store of a few hundred orders at a held clock, loaded into the test's database."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

from sqlalchemy.engine import Engine

from checks.policy import load_policy
from sandbox.clock import Clock
from sandbox.snapshot import write_snapshot
from sandbox.world import World
from services.settings import DEFAULT_POLICY_PATH
from services.snapshot import import_snapshot

CLOCK = "2026-11-20T18:00:00+00:00"
T0 = datetime.fromisoformat(CLOCK)
POLICY = load_policy(DEFAULT_POLICY_PATH)


def make_snapshot(target: Path) -> Path:
    write_snapshot(World(seed=11, orders=800, clock=Clock.held_at(CLOCK)), target)
    return target


def load(engine: Engine, snapshot: Path) -> Engine:
    import_snapshot(snapshot, engine=engine, policy=POLICY, now=T0)
    return engine
