"""The `guided_fix` table: reserve a fix under its unique key before the call, then record what happened.

Everything here runs on a `Connection` inside the caller's transaction. `reserve` is the exactly-once gate:
the unique `fix_key` lets one caller insert (or take over a `failed` row) and refuses the rest with
ConflictError, whatever the interleaving of threads, tabs or processes.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Table, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Connection

from db.models.fixes import DONE, FAILED, PENDING
from db.models.fixes import GuidedFix as GuidedFixRow
from services.errors import ConflictError
from services.permissions import Actor

T_FIX: Table = GuidedFixRow.__table__  # type: ignore[attr-defined]


@dataclass(frozen=True)
class FixRecord:
    id: int
    fix_key: str
    kind: str
    order_id: int
    order_name: str
    status: str  # pending | done | failed
    request: dict[str, Any]
    fingerprint: str
    requested_by: str
    role: str
    requested_at: datetime
    completed_at: datetime | None = None
    resolution: str | None = None
    error: str | None = None


def _from_row(row: Any) -> FixRecord:
    return FixRecord(**{k: getattr(row, k) for k in FixRecord.__dataclass_fields__})


def get(conn: Connection, fix_id: int) -> FixRecord:
    return _from_row(conn.execute(select(T_FIX).where(T_FIX.c.id == fix_id)).one())


def by_key(conn: Connection, fix_key: str) -> FixRecord | None:
    row = conn.execute(select(T_FIX).where(T_FIX.c.fix_key == fix_key)).first()
    return None if row is None else _from_row(row)


def fixes_for(conn: Connection, order_id: int) -> list[FixRecord]:
    rows = conn.execute(select(T_FIX).where(T_FIX.c.order_id == order_id).order_by(T_FIX.c.id))
    return [_from_row(r) for r in rows]


def reserve(
    conn: Connection,
    *,
    fix_key: str,
    kind: str,
    order_id: int,
    order_name: str,
    request: dict[str, Any],
    fingerprint: str,
    actor: Actor,
    now: datetime,
) -> FixRecord:
    """Claim the fix as `pending` for `actor`; the caller commits before any call to the target.

    Inserts the row, or takes over a `failed` one with the same key. Raises ConflictError naming who holds
    it when the row is pending or done.
    """
    values = {
        "fix_key": fix_key,
        "kind": kind,
        "order_id": order_id,
        "order_name": order_name,
        "status": PENDING,
        "request": request,
        "fingerprint": fingerprint,
        "requested_by": actor.username,
        "role": str(actor.role),
        "requested_at": now,
        "completed_at": None,
        "resolution": None,
        "error": None,
    }
    dialect = postgresql if conn.dialect.name == "postgresql" else sqlite
    inserted = conn.execute(
        dialect.insert(T_FIX).values(**values).on_conflict_do_nothing().returning(T_FIX.c.id)
    ).first()
    if inserted is None:
        inserted = conn.execute(
            update(T_FIX)
            .where(T_FIX.c.fix_key == fix_key, T_FIX.c.status == FAILED)
            .values(**{k: v for k, v in values.items() if k != "fix_key"})
            .returning(T_FIX.c.id)
        ).first()
    if inserted is None:
        held = by_key(conn, fix_key)
        who = f"{held.requested_by} ({held.role})" if held is not None else "another request"
        doing = (
            "is already being sent by" if held is None or held.status == PENDING else "was already done by"
        )
        raise ConflictError(f"This fix of {order_name} {doing} {who}.")
    return get(conn, int(inserted[0]))


def resolve(
    conn: Connection, fix_id: int, *, done: bool, resolution: str | None, error: str | None, now: datetime
) -> bool:
    """Set a `pending` row `done` or `failed`; False when it was no longer pending (nothing changes)."""
    changed = conn.execute(
        update(T_FIX)
        .where(T_FIX.c.id == fix_id, T_FIX.c.status == PENDING)
        .values(
            status=DONE if done else FAILED,
            resolution=resolution,
            error=None if error is None else error[:2000],
            completed_at=now,
        )
        .returning(T_FIX.c.id)
    ).first()
    return changed is not None


__all__ = ["T_FIX", "FixRecord", "by_key", "fixes_for", "get", "reserve", "resolve"]
