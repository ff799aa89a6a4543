"""Settling a replacement left `pending` by a process that died between the reservation and the 3PL's answer."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy.engine import Engine

from services import replacements
from services.errors import ConflictError, InputError, PermissionDenied
from services.replacements import records
from tests.services.test_replacements_support import (
    ACTORS_IN_DB,
    AGENT,
    NOW,
    OPS,
    POLICY,
    SimApi,
    audit_rows,
    seed,
    session,
    settings_for,
    shipped_order,
    sim,
)

__all__ = ["sim"]  # the module-scoped simulator fixture, imported for these tests

LATER = NOW + timedelta(minutes=10)
ACTORS = ACTORS_IN_DB  # known to the database (tests/services/conftest.py)


def _reserved(engine: Engine, settings: Any, n: int, *, sent: bool) -> replacements.ReplacementPlan:
    """What a process leaves when it dies after its reservation: the row `pending`, the 3PL order made or not."""
    order, warehouse = shipped_order(n)
    seed(engine, order, warehouse)
    with session(engine) as s:
        plan = replacements.dry_run(s, settings, POLICY, order=order.name, actor=OPS, now=NOW)
    with session(engine) as s:
        records.reserve(
            s.connection(),
            order_id=order.id,
            order_name=order.name,
            seq=plan.seq,
            reference_id=plan.reference_id,
            items=plan.items,
            payload=plan.payload,
            actor=OPS,
            now=NOW,
        )
    if sent:
        replacements.send(settings, plan)
    return plan


def _settle(engine: Engine, settings: Any, name: str, **kwargs: Any) -> list[records.Replacement]:
    kwargs.setdefault("actor", OPS)
    kwargs.setdefault("clock", lambda: LATER)
    return replacements.settle(engine, settings, POLICY, order=name, **kwargs)


def test_a_claim_whose_order_reached_the_3pl_is_settled_as_created(
    sqlite_engine: Engine, sim: SimApi
) -> None:
    settings = settings_for(sim)
    plan = _reserved(sqlite_engine, settings, 80, sent=True)
    [at_3pl] = sim.orders_with_reference(plan.reference_id)

    [settled] = _settle(sqlite_engine, settings, plan.order)

    assert (settled.status, settled.warehouse_order_id, settled.completed_at) == (
        "created",
        at_3pl["id"],
        LATER,
    )
    assert len(sim.orders_with_reference(plan.reference_id)) == 1  # looked up, never sent again
    with sqlite_engine.connect() as conn:
        assert records.pending_for(conn, settled.order_id) == []
    [entry] = audit_rows(sqlite_engine, "replacement.settle")
    assert (entry.actor, entry.outcome, entry.order_name) == ("olga", "ok", plan.order)
    assert entry.params is not None and entry.params["warehouse_order_id"] == at_3pl["id"]


def test_a_claim_the_3pl_never_saw_is_settled_as_failed_and_can_be_created_again(
    sqlite_engine: Engine, sim: SimApi
) -> None:
    settings = settings_for(sim)
    plan = _reserved(sqlite_engine, settings, 81, sent=False)

    [settled] = _settle(sqlite_engine, settings, plan.order)
    assert settled.status == "failed" and settled.error is not None and "olga settled" in settled.error
    assert sim.orders_with_reference(plan.reference_id) == []

    created = replacements.execute(
        sqlite_engine,
        settings,
        POLICY,
        order=plan.order,
        items=plan.items,
        fingerprint=plan.fingerprint,
        confirmation=plan.order,
        actor=OPS,
    )
    assert (created.status, created.reference_id, created.seq) == ("created", plan.reference_id, 1)
    assert len(sim.orders_with_reference(plan.reference_id)) == 1


def test_a_young_claim_is_left_alone(sqlite_engine: Engine, sim: SimApi) -> None:
    settings = settings_for(sim)
    plan = _reserved(sqlite_engine, settings, 82, sent=False)
    with pytest.raises(ConflictError, match=r"reserved by olga 60 s ago"):
        _settle(sqlite_engine, settings, plan.order, clock=lambda: NOW + timedelta(seconds=60))
    with sqlite_engine.connect() as conn:
        assert [c.reference_id for c in records.pending_for(conn, plan.order_id)] == [plan.reference_id]
    [entry] = audit_rows(sqlite_engine, "replacement.settle")
    assert entry.outcome == "failed" and entry.detail is not None and "may still be waiting" in entry.detail


def test_settling_needs_ops_and_something_pending(sqlite_engine: Engine, sim: SimApi) -> None:
    settings = settings_for(sim)
    plan = _reserved(sqlite_engine, settings, 83, sent=False)
    with pytest.raises(PermissionDenied):
        _settle(sqlite_engine, settings, plan.order, actor=AGENT)
    _settle(sqlite_engine, settings, plan.order)
    with pytest.raises(InputError, match="no pending replacement"):
        _settle(sqlite_engine, settings, plan.order)
    outcomes = [e.outcome for e in audit_rows(sqlite_engine, "replacement.settle")]
    assert sorted(outcomes) == ["denied", "failed", "ok"]
