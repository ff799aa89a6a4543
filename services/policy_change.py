"""Keep stored classifications in step with the SLA policy: a change reclassifies every order once.

The reclassification runs at start-up (`make run`) and from the CLI (`order-recon policy apply`, and
before any other command), never inside a console render: the console only asks `require_in_step`.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Table, select
from sqlalchemy.engine import Connection

from checks.policy import SlaPolicy
from db.models import AppState
from services import store
from services.errors import PolicyNotApplied

T_STATE: Table = AppState.__table__  # type: ignore[attr-defined]
POLICY_KEY = "policy_fingerprint"
# Bumped when the rules themselves change what is stored (a new discrepancy code): stored
# classifications made by older rules are then redone once, as after a policy change.
RULES_VERSION = "2"  # 2: cancelled_not_stopped


def get_state(conn: Connection, key: str) -> str | None:
    return conn.scalar(select(T_STATE.c.value).where(T_STATE.c.key == key))


def set_state(conn: Connection, key: str, value: str, now: datetime) -> None:
    store.upsert(conn, T_STATE, [{"key": key, "value": value, "updated_at": now}], ["key"])


def stored_fingerprint(policy: SlaPolicy) -> str:
    """What `POLICY_KEY` holds once the stored classifications follow `policy` and these rules."""
    return f"{policy.fingerprint()}+rules{RULES_VERSION}"


def in_step(conn: Connection, policy: SlaPolicy) -> bool:
    """Whether the stored classifications follow `policy` (a store without orders always does)."""
    current = get_state(conn, POLICY_KEY)
    return current == stored_fingerprint(policy) or (current is None and not _has_orders(conn))


def require_in_step(conn: Connection, policy: SlaPolicy) -> None:
    """Refuse to serve classifications made under another policy or older rules, saying what to run."""
    if not in_step(conn, policy):
        raise PolicyNotApplied(
            "The orders were classified under another SLA policy or an older version of the rules. "
            "Run `order-recon policy apply` once: it reclassifies every order and records it in the audit "
            "log. The console opens when that is done.",
            setting="ORDER_RECON_CONFIG",
        )


def ensure_policy(conn: Connection, policy: SlaPolicy, now: datetime) -> int:
    """Reclassify every order when the stored classifications follow another policy.

    Returns how many orders were reclassified (0 when nothing changed). A reclassification is audited
    here (`policy.change`, actor `system` naming the OS user), in the same transaction; so is a change of
    policy on a store without orders. Setting the first policy of an empty store is not a change.
    """
    fingerprint = stored_fingerprint(policy)
    current = get_state(conn, POLICY_KEY)
    if current == fingerprint:
        return 0
    changed = store.reclassify_all(conn, policy, now) if current is not None or _has_orders(conn) else 0
    set_state(conn, POLICY_KEY, fingerprint, now)
    if current is not None or changed:
        _audit_change(conn, current, fingerprint, changed, now)
    return changed


def _audit_change(conn: Connection, before: str | None, after: str, reclassified: int, now: datetime) -> None:
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
