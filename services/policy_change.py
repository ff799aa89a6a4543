"""Keep stored classifications in step with the SLA policy: a change reclassifies every order once."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Table, select
from sqlalchemy.engine import Connection

from checks.policy import SlaPolicy
from db.models import AppState
from services import store

T_STATE: Table = AppState.__table__  # type: ignore[attr-defined]
POLICY_KEY = "policy_fingerprint"
# Bumped when the rules themselves change what is stored (a new discrepancy code): stored
# classifications made by older rules are then redone once, as after a policy change.
RULES_VERSION = "2"  # 2: cancelled_not_stopped


def get_state(conn: Connection, key: str) -> str | None:
    return conn.scalar(select(T_STATE.c.value).where(T_STATE.c.key == key))


def set_state(conn: Connection, key: str, value: str, now: datetime) -> None:
    store.upsert(conn, T_STATE, [{"key": key, "value": value, "updated_at": now}], ["key"])


def ensure_policy(conn: Connection, policy: SlaPolicy, now: datetime) -> int:
    """Reclassify every order when the stored classifications follow another policy.

    Returns how many orders were reclassified (0 when nothing changed). A change from one policy to
    another is audited here (`policy.change`, actor `system` naming the OS user), in the same transaction.
    """
    fingerprint = f"{policy.fingerprint()}+rules{RULES_VERSION}"
    current = get_state(conn, POLICY_KEY)
    if current == fingerprint:
        return 0
    changed = store.reclassify_all(conn, policy, now) if current is not None or _has_orders(conn) else 0
    set_state(conn, POLICY_KEY, fingerprint, now)
    if current is not None:
        _audit_change(conn, current, fingerprint, changed, now)
    return changed


def _audit_change(conn: Connection, before: str, after: str, reclassified: int, now: datetime) -> None:
    from sqlmodel import Session

    from services import audit
    from services.cli.system import SYSTEM_ACTOR, system_params

    with Session(bind=conn) as session:
        audit.append(
            session,
            actor=SYSTEM_ACTOR,
            role=None,
            action="policy.change",
            outcome=audit.Outcome.OK,
            params={"from": before, "to": after, "reclassified": reclassified, **system_params()},
            at=now,
        )
        session.flush()


def _has_orders(conn: Connection) -> Any:
    return conn.execute(select(store.T_ORDER.c.id).limit(1)).first() is not None
