"""Stored classifications follow the policy and the rules: a database classified by older rules is redone once."""

from __future__ import annotations

from dataclasses import replace

from sqlalchemy import delete, select
from sqlalchemy.engine import Engine

from services import store
from services.policy_change import POLICY_KEY, ensure_policy, get_state, set_state
from tests.services.test_replacements_support import NOW, POLICY, seed, shipped_order


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
