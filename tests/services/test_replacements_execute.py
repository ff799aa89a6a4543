"""Executing a replacement against the simulated 3PL: once, recorded, and safe when the call goes wrong."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from typing import Any

import httpx
import pytest
from sqlalchemy import update
from sqlalchemy.engine import Engine

from checks.results import Level
from services import replacements, store, sync
from services.errors import ActionBlocked, ConfigurationError, SourceError, StalePlanError
from services.lookup.orders import find_order_id
from services.store import T_ORDER
from tests.services.test_replacements_support import (
    ACTORS_IN_DB,
    NOW,
    OPS,
    POLICY,
    SIM_CLOCK,
    AfterAccept,
    RacingWriter,
    ScriptFaultOnPost,
    SimApi,
    audit_rows,
    replacement_rows,
    seed,
    session,
    settings_for,
    shipped_order,
    sim,
)

ACTORS = ACTORS_IN_DB  # known to the database (tests/services/conftest.py)

__all__ = ["sim"]  # the module-scoped simulator fixture, imported for these tests


def _plan(engine: Engine, settings: Any, name: str) -> replacements.ReplacementPlan:
    with session(engine) as s:
        return replacements.dry_run(s, settings, POLICY, order=name, actor=OPS, now=NOW)


def _execute(engine: Engine, settings: Any, plan: replacements.ReplacementPlan, **kwargs: Any) -> Any:
    return replacements.execute(
        engine,
        settings,
        POLICY,
        order=plan.order,
        items=plan.items,
        fingerprint=plan.fingerprint,
        confirmation=plan.order,
        actor=OPS,
        **kwargs,
    )


def _order(engine: Engine, n: int) -> Any:
    order, warehouse = shipped_order(n)
    seed(engine, order, warehouse)
    return order


def test_execute_creates_one_3pl_order_records_it_and_then_blocks(engine: Engine, sim: SimApi) -> None:
    order = _order(engine, 50 if engine.dialect.name == "sqlite" else 150)
    settings = settings_for(sim)
    plan = _plan(engine, settings, order.name)
    created = _execute(engine, settings, plan)

    [at_3pl] = sim.orders_with_reference(plan.reference_id)
    assert at_3pl["products"][0]["sku"] == "TEE-M" and at_3pl["products"][0]["quantity"] == 2
    assert at_3pl["tags"] == [{"name": "replacement_of", "value": order.name}]
    assert at_3pl["recipient"]["address"]["zip_code"] == "04101"
    assert (created.status, created.resolution, created.warehouse_order_id) == (
        "created",
        "created",
        at_3pl["id"],
    )
    assert (created.seq, created.reference_id, created.requested_by, created.role) == (
        1,
        plan.reference_id,
        "olga",
        "ops",
    )
    assert created.items == plan.items and created.payload == plan.payload
    assert created.completed_at is not None and created.error is None
    with engine.connect() as conn:  # the 3PL order is in the store tables: the lookup page shows it
        [view] = store.load_views(conn, [order.id])
        assert [r.reference_id for r in view.replacements] == [plan.reference_id]
        assert replacements.recorded_replacements(conn, order.id) == 1
    [entry] = audit_rows(engine, "replacement.execute")
    assert (entry.actor, entry.role, entry.outcome, entry.order_name) == ("olga", "ops", "ok", order.name)
    assert entry.params is not None
    assert (
        entry.params["warehouse_order_id"] == at_3pl["id"]
        and entry.params["reference_id"] == plan.reference_id
    )

    with pytest.raises(ActionBlocked, match=r"replacement\.exists"):  # the same plan again: a double click
        _execute(engine, settings, plan)
    assert len(sim.orders_with_reference(plan.reference_id)) == 1
    assert len(replacement_rows(engine)) == 1


def test_a_duplicate_reference_422_records_the_order_that_exists(sqlite_engine: Engine, sim: SimApi) -> None:
    order = _order(sqlite_engine, 51)
    settings = settings_for(sim)
    plan = _plan(sqlite_engine, settings, order.name)
    created = _execute(sqlite_engine, settings, plan, transport=RacingWriter(sim))
    [at_3pl] = sim.orders_with_reference(plan.reference_id)
    assert (created.status, created.resolution, created.warehouse_order_id) == (
        "created",
        "duplicate_reference",
        at_3pl["id"],
    )
    [entry] = audit_rows(sqlite_engine, "replacement.execute")
    assert entry.outcome == "ok" and entry.params is not None
    assert entry.params["resolution"] == "duplicate_reference"


def test_a_timeout_after_the_3pl_accepted_records_the_order_it_created(
    sqlite_engine: Engine, sim: SimApi
) -> None:
    order = _order(sqlite_engine, 52)
    settings = settings_for(sim)
    plan = _plan(sqlite_engine, settings, order.name)
    transport = AfterAccept()
    created = _execute(sqlite_engine, settings, plan, transport=transport)
    [at_3pl] = sim.orders_with_reference(plan.reference_id)
    assert transport.posts == 1  # posted once, never re-posted after the timeout
    assert (created.status, created.resolution, created.warehouse_order_id) == (
        "created",
        "found_after_unknown_outcome",
        at_3pl["id"],
    )


def test_a_reply_cut_off_by_the_simulator_records_the_order_it_created(
    sqlite_engine: Engine, sim: SimApi
) -> None:
    order = _order(sqlite_engine, 53)
    settings = settings_for(sim)
    plan = _plan(sqlite_engine, settings, order.name)
    created = _execute(sqlite_engine, settings, plan, transport=ScriptFaultOnPost(sim, "truncated"))
    [at_3pl] = sim.orders_with_reference(plan.reference_id)
    assert (created.resolution, created.warehouse_order_id) == ("found_after_unknown_outcome", at_3pl["id"])


def test_a_timeout_before_acceptance_fails_and_the_retry_reuses_the_reference(
    engine: Engine, sim: SimApi
) -> None:
    order = _order(engine, 54 if engine.dialect.name == "sqlite" else 154)
    settings = settings_for(sim)
    plan = _plan(engine, settings, order.name)
    with pytest.raises(SourceError, match="same reference"):
        _execute(engine, settings, plan, transport=AfterAccept(forward_post=False))
    [failed] = replacement_rows(engine)
    assert (failed.status, failed.reference_id) == (
        "failed",
        plan.reference_id,
    ) and "no reply" in failed.error
    assert sim.orders_with_reference(plan.reference_id) == []
    assert [e.outcome for e in audit_rows(engine, "replacement.execute")] == ["failed"]

    retry = _plan(engine, settings, order.name)  # a failed record is not a replacement: same number
    assert (retry.reference_id, retry.fingerprint, retry.actionable) == (
        plan.reference_id,
        plan.fingerprint,
        True,
    )
    created = _execute(engine, settings, retry)
    [row] = replacement_rows(engine)
    assert (row.id, row.status, created.id) == (failed.id, "created", failed.id)
    assert len(sim.orders_with_reference(plan.reference_id)) == 1


class _LateAccept(AfterAccept):
    """The 3PL accepts, the reply is lost, and the order is not visible to the lookup yet."""

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        if request.method == "GET" and "ReferenceIds" in str(request.url) and self.posts:
            return httpx.Response(200, json=[], request=request)
        return super().handle_request(request)


def test_an_order_accepted_after_the_lookup_is_found_before_any_second_post(
    sqlite_engine: Engine, sim: SimApi
) -> None:
    order = _order(sqlite_engine, 55)
    settings = settings_for(sim)
    plan = _plan(sqlite_engine, settings, order.name)
    with pytest.raises(SourceError):
        _execute(sqlite_engine, settings, plan, transport=_LateAccept())
    retry = _plan(sqlite_engine, settings, order.name)
    with pytest.raises(ActionBlocked, match=r"replacement\.exists"):  # the refresh finds `-R1` at the 3PL
        _execute(sqlite_engine, settings, retry)
    assert len(sim.orders_with_reference(plan.reference_id)) == 1


def test_a_plan_made_stale_by_a_change_in_the_database_is_refused(engine: Engine, sim: SimApi) -> None:
    order = _order(engine, 56 if engine.dialect.name == "sqlite" else 156)
    settings = settings_for(sim)
    plan = _plan(engine, settings, order.name)
    with engine.begin() as conn:  # the customer moved: the request would go to the old address
        address = {
            "name": "Dana Reyes",
            "address1": "9 Harbor St",
            "city": "Bath",
            "province_code": "ME",
            "country_code": "US",
            "zip": "04530",
        }
        conn.execute(update(T_ORDER).where(T_ORDER.c.id == order.id).values(shipping_address=address))
    with pytest.raises(StalePlanError, match="preview it again"):
        _execute(engine, settings, plan)
    assert replacement_rows(engine) == [] and sim.orders_with_reference(plan.reference_id) == []
    [entry] = audit_rows(engine, "replacement.execute")
    assert entry.outcome == "failed" and entry.params is not None and entry.params["reason"] == "stale_plan"
    fresh = _plan(engine, settings, order.name)
    assert fresh.payload["recipient"]["address"]["address1"] == "9 Harbor St"
    assert _execute(engine, settings, fresh).status == "created"


def test_a_plan_made_stale_by_a_sync_from_the_simulator_is_refused(sqlite_engine: Engine) -> None:
    """#2106 of the seeded world ships in two parts; the second leaves between the preview and Create."""
    from sandbox.server import start_in_thread

    with start_in_thread(seed=7, orders=120, clock=SIM_CLOCK) as running:
        api = SimApi(running)
        settings = settings_for(running, only_3pl=False)
        # On a worker thread: after the e2e tests, Playwright's event loop runs in this one.
        with ThreadPoolExecutor(1) as pool:
            pool.submit(sync.refresh_order, sqlite_engine, settings, POLICY, "#2106", now=NOW).result()
        plan = _plan(sqlite_engine, settings, "#2106")
        assert plan.actionable and [r.level for r in plan.checks if r.code == "order.shipped"] == [Level.INFO]
        api.control("POST", "/clock", {"set": "2026-11-20T19:30:00Z"})
        with pytest.raises(StalePlanError):
            _execute(sqlite_engine, settings, plan)
        with sqlite_engine.connect() as conn:  # the refresh before execution brought the second shipment in
            order_id = find_order_id(conn, "#2106")
            assert order_id is not None
            [view] = store.load_views(conn, [order_id])
        assert view.warehouse is not None and view.warehouse.is_shipped
        assert api.orders_with_reference(plan.reference_id) == []
        api.http.close()


def test_execute_without_a_3pl_names_the_missing_setting(sqlite_engine: Engine) -> None:
    order = _order(sqlite_engine, 57)
    plan = _plan(sqlite_engine, settings_for(None), order.name)
    with pytest.raises(ConfigurationError, match="SHIPBOB_API_URL"):
        _execute(sqlite_engine, settings_for(None), plan)
    assert [e.outcome for e in audit_rows(sqlite_engine, "replacement.execute")] == ["failed"]
    assert replacement_rows(sqlite_engine) == []
