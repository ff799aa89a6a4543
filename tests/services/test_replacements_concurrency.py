"""Two executions at once produce exactly one 3PL order: threads (SQLite, PostgreSQL) and processes (PostgreSQL)."""

from __future__ import annotations

import multiprocessing
import os
import sys
import threading
import time
import types
from dataclasses import replace
from typing import Any

import pytest
from sqlalchemy import text
from sqlalchemy.engine import Engine

from checks.validations import ResendItem
from services import replacements
from services.errors import ActionBlocked, ConflictError, StalePlanError
from services.permissions import Actor, Role
from services.replacements import records
from services.sync import apply_records
from tests.services.conftest import register_actors
from tests.services.test_replacements_support import (
    ACTORS_IN_DB,
    ADMIN,
    NOW,
    OPS,
    POLICY,
    SimApi,
    replacement_rows,
    seed,
    session,
    settings_for,
    shipped_order,
    sim,
)

__all__ = ["sim"]  # the module-scoped simulator fixture, imported for these tests


def _prepare(engine: Engine, sim: SimApi, n: int) -> tuple[Any, replacements.ReplacementPlan]:
    order, warehouse = shipped_order(n)
    seed(engine, order, warehouse)
    settings = settings_for(sim)
    with session(engine) as s:
        plan = replacements.dry_run(s, settings, POLICY, order=order.name, actor=OPS, now=NOW)
    return settings, plan


def _run_together(work: list[Any]) -> list[Any]:
    outcomes: list[Any] = [None] * len(work)

    def run(index: int) -> None:
        try:
            outcomes[index] = work[index]()
        except Exception as exc:  # compared below
            outcomes[index] = exc

    threads = [threading.Thread(target=run, args=(i,)) for i in range(len(work))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    return outcomes


def _assert_exactly_one(
    outcomes: list[Any],
    sim: SimApi,
    engine: Engine,
    reference_id: str,
    posts_before: int,
    losers: tuple[type[Exception], ...] = (ConflictError,),
) -> None:
    created = [o for o in outcomes if isinstance(o, records.Replacement)]
    refused = [o for o in outcomes if isinstance(o, losers)]
    assert len(created) == 1 and len(refused) == len(outcomes) - 1, outcomes
    assert len(sim.orders_with_reference(reference_id)) == 1
    assert sim.posts() - posts_before == 1  # the simulator's request log: one create call in all
    [row] = replacement_rows(engine)
    assert (row.status, row.reference_id) == ("created", reference_id)


ACTORS = ACTORS_IN_DB  # known to the database (tests/services/conftest.py)


def test_two_operators_clicking_at_once_create_one_order(
    engine: Engine, sim: SimApi, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Both pass every check before either reserves (a barrier in front of the reservation): the database decides."""
    settings, plan = _prepare(engine, sim, 60 if engine.dialect.name == "sqlite" else 160)
    barrier = threading.Barrier(2, timeout=30)
    reserve = records.reserve

    def reserve_together(*args: Any, **kwargs: Any) -> Any:
        barrier.wait()
        return reserve(*args, **kwargs)

    monkeypatch.setattr(records, "reserve", reserve_together)
    before = sim.posts()
    work = [
        lambda actor=actor: replacements.execute(
            engine,
            settings,
            POLICY,
            order=plan.order,
            items=plan.items,
            fingerprint=plan.fingerprint,
            confirmation=plan.order,
            actor=actor,
        )
        for actor in (OPS, ADMIN)
    ]
    outcomes = _run_together(work)
    _assert_exactly_one(outcomes, sim, engine, plan.reference_id, before)
    [loser] = [o for o in outcomes if isinstance(o, ConflictError)]
    assert "already" in str(loser) and plan.reference_id in str(loser)


def test_a_double_click_in_two_tabs_creates_one_order(sqlite_engine: Engine, sim: SimApi) -> None:
    """No barrier: whichever way the two requests interleave, the second is refused."""
    settings, plan = _prepare(sqlite_engine, sim, 61)
    before = sim.posts()
    work = [
        lambda: replacements.execute(
            sqlite_engine,
            settings,
            POLICY,
            order=plan.order,
            items=plan.items,
            fingerprint=plan.fingerprint,
            confirmation=plan.order,
            actor=OPS,
        )
    ] * 3
    outcomes = _run_together(work)
    _assert_exactly_one(
        outcomes,
        sim,
        sqlite_engine,
        plan.reference_id,
        before,
        losers=(ConflictError, ActionBlocked, StalePlanError),  # see test_two_processes_create_one_order
    )


def _execute_in_process(
    url: str,
    schema: str,
    shipbob: dict[str, str],
    order: str,
    fingerprint: str,
    items: list[tuple[int, str, str, int]],
    username: str,
    barrier: Any,
    results: Any,
) -> None:
    from db.session import make_engine
    from services.settings import Settings

    engine = make_engine(url, connect_args={"options": f"-csearch_path={schema}"})
    settings = Settings(
        database_url=url,
        shopify_shop_url=None,
        shopify_access_token=None,
        easypost_api_url=None,
        easypost_api_key=None,
        **shipbob,
    )
    barrier.wait()
    try:
        created = replacements.execute(
            engine,
            settings,
            POLICY,
            order=order,
            fingerprint=fingerprint,
            items=tuple(ResendItem(*i) for i in items),
            confirmation=order,
            actor=Actor(username, Role.OPS),
        )
        results.put((username, "created", created.reference_id))
    except Exception as exc:
        results.put((username, type(exc).__name__, str(exc)))
    finally:
        engine.dispose()


def test_two_processes_create_one_order(
    pg_engine: Engine, sim: SimApi, monkeypatch: pytest.MonkeyPatch
) -> None:
    # An earlier AppTest leaves `__main__` = Home.py, which spawn would run again in each child.
    monkeypatch.setitem(sys.modules, "__main__", types.ModuleType("__main__"))
    settings, plan = _prepare(pg_engine, sim, 62)
    with pg_engine.connect() as conn:
        schema = str(conn.execute(text("SELECT current_schema()")).scalar_one())
    shipbob = {"shipbob_api_url": settings.shipbob_api_url, "shipbob_token": settings.shipbob_token}
    items = [(i.line_item_id, i.sku, i.title, i.quantity) for i in plan.items]
    context = multiprocessing.get_context("spawn")
    barrier, results = context.Barrier(2), context.Queue()
    register_actors(pg_engine, [Actor("omar", Role.OPS)])
    before = sim.posts()
    processes = [
        context.Process(
            target=_execute_in_process,
            args=(
                os.environ["TEST_DATABASE_URL"],
                schema,
                shipbob,
                plan.order,
                plan.fingerprint,
                items,
                name,
                barrier,
                results,
            ),
        )
        for name in ("olga", "omar")
    ]
    for process in processes:
        process.start()
    outcomes = [results.get(timeout=120) for _ in processes]
    for process in processes:
        process.join(timeout=30)
    assert [p.exitcode for p in processes] == [0, 0]
    kinds = sorted(kind for _, kind, _ in outcomes)
    # The loser is refused by the reservation (ConflictError) or by the recorded replacement (ActionBlocked).
    # `assess` reads the console's records after the live stock, so the winner's stock change is seen
    # with its reservation; a stale-plan refusal would still be a safe one. Never a second order.
    assert kinds in (
        ["ConflictError", "created"],
        ["ActionBlocked", "created"],
        ["StalePlanError", "created"],
    ), outcomes
    assert len(sim.orders_with_reference(plan.reference_id)) == 1
    assert sim.posts() - before == 1
    [row] = replacement_rows(pg_engine)
    assert row.status == "created"


def test_recording_a_created_order_while_a_refresh_writes_the_same_order_lands(
    engine: Engine, sim: SimApi
) -> None:
    """A refresh's transaction (the store order, then its 3PL order) is open when the execution records
    the 3PL order it created. Both take the write lock first (services.sync.apply), so the record waits
    for the refresh and lands: no deadlock, the row is `created`, the order stays usable."""
    settings, plan = _prepare(engine, sim, 70 if engine.dialect.name == "sqlite" else 170)
    order, warehouse = shipped_order(70 if engine.dialect.name == "sqlite" else 170)
    refreshed = threading.Event()
    outcomes: list[Any] = []

    def refresh() -> None:
        with engine.begin() as conn:
            apply_records(conn, POLICY, NOW, store_orders=[replace(order, note="refreshed")])
            refreshed.set()
            time.sleep(1.5)  # the execution records meanwhile: it must wait for this transaction
            apply_records(conn, POLICY, NOW, warehouse_orders=[replace(warehouse, status="Completed")])

    def create() -> None:
        refreshed.wait(10)
        outcomes.append(
            replacements.execute(
                engine,
                settings,
                POLICY,
                order=plan.order,
                items=plan.items,
                fingerprint=plan.fingerprint,
                confirmation=plan.order,
                actor=OPS,
            )
        )

    outcomes.extend(_run_together([refresh, create]))
    created = [o for o in outcomes if isinstance(o, records.Replacement)]
    assert len(created) == 1 and not [o for o in outcomes if isinstance(o, Exception)], outcomes
    [row] = replacement_rows(engine)
    assert (row.status, row.reference_id) == ("created", plan.reference_id)
    with engine.connect() as conn:
        note = conn.execute(text("SELECT note FROM store_order WHERE id = :id"), {"id": order.id}).scalar()
    assert note == "refreshed"


def test_eight_operators_and_two_refreshes_at_once_record_the_one_created_order(
    pg_engine: Engine, sim: SimApi
) -> None:
    """Executions refresh the order, reserve, create and record, while refreshes write the same order:
    every writer takes its locks in one order, so the one created order is recorded (no deadlock)."""
    from services import sync

    engine = pg_engine
    settings, plan = _prepare(engine, sim, 180)

    def execute(actor: Actor) -> Any:
        return replacements.execute(
            engine,
            settings,
            POLICY,
            order=plan.order,
            items=plan.items,
            fingerprint=plan.fingerprint,
            confirmation=plan.order,
            actor=actor,
        )

    def refresh() -> Any:
        return sync.refresh_order(engine, settings, POLICY, plan.order, sources=("3pl",), now=NOW)

    before = sim.posts()
    work = [lambda i=i: execute(OPS if i % 2 else ADMIN) for i in range(8)] + [refresh, refresh]
    outcomes = _run_together(work)
    errors = [
        o
        for o in outcomes
        if isinstance(o, Exception) and not isinstance(o, ConflictError | StalePlanError | ActionBlocked)
    ]
    assert not errors, errors
    created = [o for o in outcomes if isinstance(o, records.Replacement)]
    assert len(created) == 1, outcomes
    assert sim.posts() - before == 1
    [row] = replacement_rows(engine)
    assert (row.status, row.reference_id) == ("created", plan.reference_id)
