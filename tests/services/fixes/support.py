"""Shared by the guided-fix tests (no tests here): the simulator's world synced into the test database.

The world (seed 7) has orders of every kind a fix mends; a test syncs, takes the first order its fix is
offered for and acts on it. A fixed order no longer shows its discrepancy, so tests sharing one simulator
never take the same order.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from datetime import datetime
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.engine import Engine
from sqlmodel import Session

from checks.policy import SlaPolicy
from db.models.audit import AuditEntry
from db.session import session_scope
from services import fixes, queries
from services.fixes.records import T_FIX
from services.lookup.orders import order_detail
from services.permissions import Actor, Role
from services.settings import Settings
from services.sync import sync_all
from tests.services.conftest import register_actors
from tests.services.sources.simulator import Sim, simulator

AGENT, OPS, LEAD, ADMIN = (
    Actor(n, r) for n, r in (("ann", Role.AGENT), ("olga", Role.OPS), ("lee", Role.LEAD), ("ada", Role.ADMIN))
)
# The store's informational `sync_delay` orders are offered `fulfill-in-store`; the rest by discrepancy.
FIX_CALLS = {
    "cancel-at-3pl": "POST /shipbob/2026-07/order/{id}:cancel",
    "send-to-3pl": "POST /shipbob/2026-07/order",
    "fulfill-in-store": "fulfillmentCreate",
    "push-tracking": "fulfillmentTrackingInfoUpdate",
}


@pytest.fixture(scope="module")
def sim() -> Iterator[Sim]:
    # 1,000 orders hold at least 12 of each kind (cancel-at-3pl is the rarest), more than a module takes;
    # at 800 the concurrency tests ran out. Every test syncs the whole world: its size is their cost.
    with simulator(orders=1000, seed=7) as running:
        yield running


class World:
    """One test's view: the synced database, the simulator, the clock and the settings."""

    def __init__(self, engine: Engine, sim: Sim) -> None:
        self.engine, self.sim = engine, sim
        self.settings: Settings = sim.settings()
        self.policy: SlaPolicy = self.settings.policy()
        self.now: datetime = sim.now()
        register_actors(engine, (AGENT, OPS, LEAD, ADMIN))  # `require` reads the role the database holds
        for result in sync_all(engine, self.settings, self.policy, now=self.now, full=True).values():
            assert result.ok, result

    def clock(self) -> datetime:
        return self.now

    def candidates(self, kind: str) -> list[str]:
        """Orders the fix is offered for and could run on now, oldest first."""
        fix = fixes.fix_for(kind)
        with self.engine.connect() as conn:
            if fix.offered_for == "sync_delay":
                names = [
                    r.order
                    for r in queries.informational_view(conn, as_of=self.now, policy=self.policy)
                    if r.category == "sync_delay"
                ]
            else:
                rows = queries.discrepancies(
                    conn, as_of=self.now, policy=self.policy, codes=[fix.offered_for]
                )
                names = [r.order for r in rows]
            found = []
            for name in names:
                detail = order_detail(conn, name=name, as_of=self.now, policy=self.policy)
                assert detail is not None
                if fix.offered(detail):
                    plan = fixes.plan_fix(conn, self.settings, self.policy, fix, order=name, now=self.now)
                    if plan.actionable:
                        found.append(name)
        return found

    def pick(self, kind: str) -> str:
        found = self.candidates(kind)
        assert found, f"the world has no order for {kind}"
        return found[0]

    def dry_run(self, kind: str, name: str, actor: Actor = OPS) -> fixes.FixPlan:
        with session_scope(self.engine) as session:
            return fixes.dry_run(
                session,
                self.settings,
                self.policy,
                fixes.fix_for(kind),
                order=name,
                actor=actor,
                now=self.now,
            )

    def execute(self, plan: fixes.FixPlan, actor: Actor = OPS, **kwargs: Any) -> fixes.FixResult:
        values: dict[str, Any] = {
            "order": plan.order,
            "fingerprint": plan.fingerprint,
            "confirmation": plan.order,
            "actor": actor,
            "clock": self.clock,
        }
        values.update(kwargs)
        return fixes.execute(self.engine, self.settings, self.policy, fixes.fix_for(plan.kind), **values)

    def calls(self, kind: str) -> int:
        """Requests of this fix's kind the simulator received (read once its log settles)."""
        call = FIX_CALLS[kind]
        if not call.startswith("POST /"):
            return int(self.sim.running.sim.shop_state.mutations[call])
        seen = -1
        while True:
            counts = self.sim.running.sim.log.snapshot(1)["counts"]
            if "{id}" in call:
                now = sum(int(v) for k, v in counts.items() if k.startswith("POST /shipbob/2026-07/order/"))
            else:
                now = int(counts.get(call, 0))
            if now == seen:
                return now
            seen = now
            time.sleep(0.1)


def fix_rows(engine: Engine) -> list[Any]:
    with engine.connect() as conn:
        return list(conn.execute(select(T_FIX).order_by(T_FIX.c.id)))


def audit_rows(engine: Engine, action: str | None = None) -> list[AuditEntry]:
    with Session(engine) as session:
        query = select(AuditEntry).order_by(AuditEntry.id)  # type: ignore[arg-type]
        if action is not None:
            query = query.where(AuditEntry.action == action)
        return list(session.execute(query).scalars())
