"""Stored classifications follow the policy and the rules: a database classified by older rules is redone once."""

from __future__ import annotations

from dataclasses import replace

import pytest
from sqlalchemy import delete, select
from sqlalchemy.engine import Engine

from services import store
from services.errors import PolicyNotApplied
from services.policy_change import (
    POLICY_KEY,
    T_STATE,
    ensure_policy,
    get_state,
    in_step,
    require_in_step,
    set_state,
    stored_fingerprint,
)
from tests.services.test_replacements_support import NOW, POLICY, audit_rows, seed, shipped_order


def test_a_database_classified_by_older_rules_gains_the_new_discrepancy(engine: Engine) -> None:
    order, shipped = shipped_order(71, cancelled_at=NOW, fulfillments=(), fulfillment_status=None)
    waiting = replace(
        shipped,
        status="Processing",
        shipments=tuple(replace(s, status="Processing") for s in shipped.shipments),
    )
    seed(engine, order, waiting)
    with engine.begin() as conn:
        assert set(conn.scalars(select(store.T_DISC.c.code))) == {"cancelled_not_stopped"}
        # What an older version left: no such discrepancy stored, its bare policy fingerprint as the state.
        conn.execute(delete(store.T_DISC))
        set_state(conn, POLICY_KEY, POLICY.fingerprint(), NOW)
        assert ensure_policy(conn, POLICY, NOW) == 1
        assert set(conn.scalars(select(store.T_DISC.c.code))) == {"cancelled_not_stopped"}
        assert ensure_policy(conn, POLICY, NOW) == 0  # once only
        assert get_state(conn, POLICY_KEY) != POLICY.fingerprint()


def test_a_store_is_in_step_only_with_the_policy_its_orders_were_classified_by(engine: Engine) -> None:
    other = replace(POLICY, handling_days=POLICY.handling_days + 1)
    with engine.begin() as conn:
        assert in_step(conn, POLICY) and in_step(conn, other)  # no orders: nothing to disagree with
    order, shipped = shipped_order(72)
    seed(engine, order, shipped)
    with engine.begin() as conn:
        assert not in_step(conn, POLICY)  # orders, and no record of the policy they follow
        with pytest.raises(PolicyNotApplied, match="order-recon policy apply"):
            require_in_step(conn, POLICY)
        assert ensure_policy(conn, POLICY, NOW) == 1
        assert in_step(conn, POLICY) and not in_step(conn, other)
        with pytest.raises(PolicyNotApplied):
            require_in_step(conn, other)
        require_in_step(conn, POLICY)
        assert ensure_policy(conn, other, NOW) == 1
        assert in_step(conn, other) and not in_step(conn, POLICY)


def test_every_reclassification_is_audited_and_setting_the_first_policy_of_an_empty_store_is_not(
    engine: Engine,
) -> None:
    with engine.begin() as conn:
        assert ensure_policy(conn, POLICY, NOW) == 0
    assert audit_rows(engine, "policy.change") == []
    order, shipped = shipped_order(73)
    seed(engine, order, shipped)
    with engine.begin() as conn:
        conn.execute(delete(T_STATE))  # an older store: orders, no policy recorded
        assert ensure_policy(conn, POLICY, NOW) == 1
        other = replace(POLICY, handling_days=POLICY.handling_days + 1)
        assert ensure_policy(conn, other, NOW) == 1
    first, second = audit_rows(engine, "policy.change")
    assert first.actor == "system" and first.params["from"] is None and first.params["reclassified"] == 1
    assert second.params["from"] == stored_fingerprint(POLICY)
    assert second.params["to"] == stored_fingerprint(other)
