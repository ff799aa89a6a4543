"""Replacements: preflight, dry run, roles, and every blocking check stopping execution (SQLite and PostgreSQL)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from sqlalchemy import update
from sqlalchemy.engine import Engine

from checks.results import Level
from checks.validations import ResendItem
from services import replacements, store
from services.errors import ActionBlocked, InputError, NotFoundError, PermissionDenied
from services.replacements.records import T_REPLACEMENT
from services.store import T_FULFILLMENT, T_LINE, T_ORDER, T_SHIPMENT
from tests.checks import factories as f
from tests.services.test_replacements_support import (
    ACTORS_IN_DB,
    ADMIN,
    AGENT,
    LEAD,
    NOW,
    OPS,
    POLICY,
    Counting,
    SimApi,
    audit_rows,
    count_rows,
    seed,
    session,
    settings_for,
    shipped_order,
    sim,
    stock,
)

__all__ = ["sim"]  # the module-scoped simulator fixture, imported for these tests

STORED = settings_for(None)


def _dry_run(
    engine: Engine, name: str, *, actor: Any = OPS, settings: Any = STORED, items: Any = None
) -> replacements.ReplacementPlan:
    with session(engine) as s:
        return replacements.dry_run(s, settings, POLICY, order=name, actor=actor, now=NOW, items=items)


ACTORS = ACTORS_IN_DB  # known to the database (tests/services/conftest.py)


# ---------------------------------------------------------------- preflight and dry run


def test_preflight_checks_the_shipped_items_on_the_stored_inventory_without_a_3pl(engine: Engine) -> None:
    order, warehouse = shipped_order(1)
    seed(engine, order, warehouse, inventory=(stock("TEE-M", 5),))
    with session(engine) as s:
        pre = replacements.preflight(s, STORED, POLICY, order="9001", actor=AGENT, now=NOW)
    assert pre.order == "#9001" and pre.actionable and pre.inventory_source == "stored"
    assert pre.items == (ResendItem(order.line_items[0].id, "TEE-M", "Item TEE-M", 2),)
    assert [r.code for r in pre.checks] == [
        "order.exists",
        "order.cancelled",
        "order.refunded",
        "order.shipped",
        "replacement.exists",
        "order.third_party",
        "inventory.available",
    ]
    assert pre.inventory == (stock("TEE-M", 5),)
    assert audit_rows(engine) == []  # a preflight is a read


def test_preflight_reads_inventory_live_from_the_3pl(engine: Engine, sim: SimApi) -> None:
    order, warehouse = shipped_order(2)
    seed(engine, order, warehouse, inventory=(stock("TEE-M", 0),))  # the stored copy says none
    with session(engine) as s:
        pre = replacements.preflight(s, settings_for(sim), POLICY, order="#9002", actor=OPS, now=NOW)
    assert pre.inventory_source == "live" and pre.actionable
    assert pre.inventory[0].sku == "TEE-M" and pre.inventory[0].total_fulfillable_quantity > 2


def test_preflight_of_an_unknown_order_is_order_exists_blocked(engine: Engine) -> None:
    with session(engine) as s:
        pre = replacements.preflight(s, STORED, POLICY, order="#404", actor=OPS, now=NOW)
    assert [(r.code, r.level) for r in pre.checks] == [("order.exists", Level.BLOCKED)]
    with pytest.raises(NotFoundError):
        _dry_run(engine, "#404")


def test_dry_run_builds_the_exact_request_and_writes_only_its_audit_entry(engine: Engine) -> None:
    order, warehouse = shipped_order(3)
    seed(engine, order, warehouse, inventory=(stock("TEE-M", 5),))
    plan = _dry_run(engine, "#9003", actor=AGENT)
    assert plan.payload == {
        "reference_id": f"{order.id}-R1",
        "order_number": "9003-R1",
        "shipping_method": "Standard",
        "type": "DTC",
        "recipient": {
            "name": "Dana Reyes",
            "address": {
                "address1": "41 Pier Road",
                "address2": "Apt 2",
                "city": "Portland",
                "state": "ME",
                "country": "US",
                "zip_code": "04101",
            },
            "email": "customer3@example.com",
            "phone_number": "+12075550142",
        },
        "products": [{"reference_id": "TEE-M", "sku": "TEE-M", "name": "Item TEE-M", "quantity": 2}],
        "tags": [{"name": "replacement_of", "value": "#9003"}],
    }
    assert plan.seq == 1 and plan.reference_id == f"{order.id}-R1" and plan.actionable
    assert len(plan.fingerprint) == 64
    with pytest.raises(Exception):  # noqa: B017 - frozen
        plan.fingerprint = "x"  # type: ignore[misc]
    assert count_rows(engine) == 0
    [entry] = audit_rows(engine)
    assert (entry.actor, entry.role, entry.action, entry.outcome, entry.order_name) == (
        "ann",
        "agent",
        "replacement.dry_run",
        "ok",
        "#9003",
    )
    assert entry.params is not None and entry.params["fingerprint"] == plan.fingerprint
    assert entry.params["reference_id"] == plan.reference_id and entry.params["inventory_source"] == "stored"


def test_fewer_items_may_be_picked_and_change_the_fingerprint(engine: Engine) -> None:
    order, warehouse = shipped_order(4)
    seed(engine, order, warehouse, inventory=(stock("TEE-M", 5),))
    full = _dry_run(engine, "#9004")
    again = _dry_run(engine, "#9004", items=full.items)
    one = _dry_run(engine, "#9004", items=(ResendItem(order.line_items[0].id, "TEE-M", "Item TEE-M", 1),))
    assert again.fingerprint == full.fingerprint  # the default items, picked explicitly, are the same plan
    assert one.payload["products"] == [
        {"reference_id": "TEE-M", "sku": "TEE-M", "name": "Item TEE-M", "quantity": 1}
    ]
    assert one.fingerprint != full.fingerprint


@pytest.mark.parametrize(
    "items, message",
    [
        ((), "at least one item"),
        ((ResendItem(0, "TEE-M", "Item TEE-M", 3),), "only shipped units"),  # more than shipped
        (
            (ResendItem(0, "TEE-M", "Item TEE-M", 1), ResendItem(0, "TEE-M", "Item TEE-M", 1)),
            "more than once",
        ),
    ],
)
def test_dry_run_refuses_items_that_cannot_be_resent(engine: Engine, items: Any, message: str) -> None:
    order, warehouse = shipped_order(5)
    seed(engine, order, warehouse, inventory=(stock("TEE-M", 5),))
    line_id = order.line_items[0].id
    items = tuple(ResendItem(line_id, i.sku, i.title, i.quantity) for i in items)
    with pytest.raises(InputError, match=message):
        _dry_run(engine, "#9005", items=items)


def test_the_next_number_follows_the_highest_existing_replacement(engine: Engine) -> None:
    order, warehouse = shipped_order(6)
    seed(
        engine,
        order,
        warehouse,
        f.replacement_order(2, id=91_000_006, reference_id=f"{order.id}-R2"),
        inventory=(stock("TEE-M", 5),),
    )
    plan = _dry_run(engine, "#9006")
    assert plan.seq == 3 and plan.reference_id == f"{order.id}-R3"
    assert not plan.actionable and [r.code for r in plan.blocked] == ["replacement.exists"]


# ---------------------------------------------------------------- roles (SPEC §7)


def test_lead_is_refused_a_preflight_and_a_dry_run_and_both_refusals_are_audited(engine: Engine) -> None:
    order, warehouse = shipped_order(7)
    seed(engine, order, warehouse, inventory=(stock("TEE-M", 5),))
    with session(engine) as s, pytest.raises(PermissionDenied):
        replacements.preflight(s, STORED, POLICY, order="#9007", actor=LEAD, now=NOW)
    with pytest.raises(PermissionDenied, match="lee"):
        _dry_run(engine, "#9007", actor=LEAD)
    assert [(e.actor, e.role, e.action, e.outcome, e.order_name) for e in audit_rows(engine)] == [
        ("lee", "lead", "replacement.preflight", "denied", "#9007"),
        ("lee", "lead", "replacement.dry_run", "denied", "#9007"),
    ]


def test_an_agent_calling_execute_directly_is_refused_and_the_refusal_is_audited(
    engine: Engine, sim: SimApi
) -> None:
    order, warehouse = shipped_order(8)
    seed(engine, order, warehouse)
    settings = settings_for(sim)
    plan = _dry_run(engine, "#9008", actor=AGENT, settings=settings)
    assert plan.actionable
    with pytest.raises(PermissionDenied, match="replacement_execute"):
        replacements.execute(
            engine,
            settings,
            POLICY,
            order="#9008",
            items=plan.items,
            fingerprint=plan.fingerprint,
            confirmation="#9008",
            actor=AGENT,
        )
    denied = audit_rows(engine, "replacement.execute")
    assert [(e.actor, e.role, e.outcome, e.order_name) for e in denied] == [
        ("ann", "agent", "denied", "#9008")
    ]
    assert denied[0].params is not None and denied[0].params["fingerprint"] == plan.fingerprint
    assert count_rows(engine) == 0 and sim.orders_with_reference(plan.reference_id) == []


def test_execute_needs_the_order_name_typed_exactly(engine: Engine, sim: SimApi) -> None:
    order, warehouse = shipped_order(9)
    seed(engine, order, warehouse)
    settings = settings_for(sim)
    plan = _dry_run(engine, "#9009", actor=ADMIN, settings=settings)
    for typed in ("9009", "#9008", ""):
        with pytest.raises(InputError, match="#9009"):
            replacements.execute(
                engine,
                settings,
                POLICY,
                order="#9009",
                items=plan.items,
                fingerprint=plan.fingerprint,
                confirmation=typed,
                actor=ADMIN,
            )
    assert [e.outcome for e in audit_rows(engine, "replacement.execute")] == ["failed"] * 3
    assert count_rows(engine) == 0 and sim.orders_with_reference(plan.reference_id) == []


# ---------------------------------------------------------------- each blocking check stops execution


def _set(table: Any, where: Any, **values: Any) -> Callable[[Engine, SimApi, Any], None]:
    def change(engine: Engine, sim: SimApi, order: Any) -> None:
        with engine.begin() as conn:
            conn.execute(update(table).where(where(table, order)).values(**values))
            store.reclassify(conn, [order.id], POLICY, NOW)

    return change


def _nothing_shipped(engine: Engine, sim: SimApi, order: Any) -> None:
    _set(T_FULFILLMENT, lambda t, o: t.c.order_id == o.id, status="failure")(engine, sim, order)
    _set(T_SHIPMENT, lambda t, o: t.c.id > 0, status="Processing")(engine, sim, order)


def _replacement_at_the_3pl(engine: Engine, sim: SimApi, order: Any) -> None:
    """Someone created `-R1` at the 3PL directly: the refresh before execution brings it in."""
    reply = sim.create(
        {
            "reference_id": f"{order.id}-R1",
            "shipping_method": "Standard",
            "type": "DTC",
            "recipient": {
                "name": "Dana Reyes",
                "address": {"address1": "41 Pier Road", "city": "Portland", "country": "US"},
            },
            "products": [{"reference_id": order.line_items[0].sku, "name": "Harbor Tee", "quantity": 1}],
        }
    )
    assert reply.status_code == 201, reply.text


def _out_of_stock(engine: Engine, sim: SimApi, order: Any) -> None:
    world, sku = sim.running.world, order.line_items[0].sku
    with world.lock:  # every warehouse commits all it has on hand
        for on_hand_committed in world.stock[sku].values():
            on_hand_committed[1] = on_hand_committed[0]
    assert world.fulfillable(sku) == 0


def _unchanged(engine: Engine, sim: SimApi, order: Any) -> None:
    """The situation is in the data from the start: the dry run already shows it blocked."""


# (case, SKU of the order: its own where stock changes, change after the dry run, the check that blocks)
SITUATIONS = [
    (
        "cancelled",
        "TEE-L",
        _set(T_ORDER, lambda t, o: t.c.id == o.id, cancelled_at=NOW, cancel_reason="customer"),
        "order.cancelled",
    ),
    (
        "refunded",
        "TEE-L",
        _set(T_ORDER, lambda t, o: t.c.id == o.id, financial_status="refunded"),
        "order.refunded",
    ),
    ("nothing shipped", "TEE-L", _nothing_shipped, "order.shipped"),
    ("replacement exists", "TEE-L", _replacement_at_the_3pl, "replacement.exists"),
    (
        "all third-party",
        "TEE-L",
        _set(T_LINE, lambda t, o: t.c.order_id == o.id, vendor=f.VENDOR),
        "order.third_party",
    ),
    ("out of stock", "APRON-SLT", _out_of_stock, "inventory.available"),
    ("unknown SKU", "TEE-SUNSET-M", _unchanged, "inventory.available"),
]


@pytest.mark.parametrize("case, sku, change, code", SITUATIONS, ids=[s[0] for s in SITUATIONS])
def test_each_blocking_check_stops_execution(
    engine: Engine, sim: SimApi, request: pytest.FixtureRequest, case: str, sku: str, change: Any, code: str
) -> None:
    n = 20 + [s[0] for s in SITUATIONS].index(case) + (100 if "postgres" in request.node.name else 0)
    order, warehouse = shipped_order(n, sku=sku, quantity=1)
    seed(engine, order, warehouse)
    settings = settings_for(sim)
    plan = _dry_run(engine, order.name, settings=settings)
    assert plan.actionable is (case != "unknown SKU")
    sent = Counting()
    with sim.stock_restored(), pytest.raises(ActionBlocked) as refused:
        change(engine, sim, order)
        replacements.execute(
            engine,
            settings,
            POLICY,
            order=order.name,
            items=plan.items,
            fingerprint=plan.fingerprint,
            confirmation=order.name,
            actor=OPS,
            transport=sent,
        )
    blocked = [r.code for r in refused.value.results if r.level is Level.BLOCKED]
    assert code in blocked and code in str(refused.value)
    assert sent.posts == 0 and sent.gets > 0  # stock was read live again; nothing was sent
    assert len(sim.orders_with_reference(f"{order.id}-R1")) == (1 if case == "replacement exists" else 0)
    assert count_rows(engine) == 0
    [entry] = audit_rows(engine, "replacement.execute")
    assert (entry.actor, entry.outcome, entry.order_name) == ("olga", "blocked", order.name)
    assert entry.params is not None and code in entry.params["blocked"]


def test_a_failed_record_does_not_count_as_a_replacement(engine: Engine) -> None:
    order, warehouse = shipped_order(40)
    seed(engine, order, warehouse, inventory=(stock("TEE-M", 5),))
    plan = _dry_run(engine, "#9040")
    with engine.begin() as conn:
        conn.execute(
            T_REPLACEMENT.insert().values(
                order_id=order.id,
                order_name="#9040",
                seq=1,
                reference_id=plan.reference_id,
                status="failed",
                items=[],
                payload=plan.payload,
                requested_by="olga",
                role="ops",
                requested_at=NOW,
                error="timeout",
            )
        )
        assert replacements.recorded_replacements(conn, order.id) == 0
    again = _dry_run(engine, "#9040")
    assert again.seq == 1 and again.fingerprint == plan.fingerprint and again.actionable
    with engine.begin() as conn:
        conn.execute(update(T_REPLACEMENT).values(status="pending"))
        assert replacements.recorded_replacements(conn, order.id) == 1
    assert [r.code for r in _dry_run(engine, "#9040").blocked] == ["replacement.exists"]
