"""The `replacement` table: count, list, reserve and settle the console's replacement records.

Everything here runs on a `Connection` inside the caller's transaction. `reserve` is the exactly-once
gate: the unique (order_id, seq) lets one caller insert (or take over a `failed` row) and refuses the
rest with ConflictError, whatever the interleaving of threads, tabs or processes.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any

from sqlalchemy import Table, func, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Connection

from checks.validations import ResendItem
from db.models.replacements import CREATED, FAILED, PENDING
from db.models.replacements import Replacement as ReplacementRow
from services.errors import ConflictError
from services.permissions import Actor

T_REPLACEMENT: Table = ReplacementRow.__table__  # type: ignore[attr-defined]

# Rows that count as "a replacement exists": a `failed` row does not (its order was never created).
LIVE_STATUSES = (PENDING, CREATED)


@dataclass(frozen=True)
class Replacement:
    """One console replacement record. `resolution` is set by `execute` only: how the 3PL order was
    found (`created`, `duplicate_reference`, `found_after_unknown_outcome`)."""

    id: int
    order_id: int
    order_name: str
    seq: int
    reference_id: str
    status: str  # pending | created | failed
    items: tuple[ResendItem, ...]
    payload: dict[str, Any]
    requested_by: str
    role: str
    requested_at: datetime
    warehouse_order_id: int | None = None
    completed_at: datetime | None = None
    error: str | None = None
    resolution: str | None = None

    def with_resolution(self, resolution: str) -> Replacement:
        return replace(self, resolution=resolution)


def items_as_json(items: Sequence[ResendItem]) -> list[dict[str, Any]]:
    return [
        {"line_item_id": i.line_item_id, "sku": i.sku, "title": i.title, "quantity": i.quantity}
        for i in items
    ]


def items_from_json(raw: Sequence[dict[str, Any]]) -> tuple[ResendItem, ...]:
    return tuple(
        ResendItem(int(i["line_item_id"]), i.get("sku"), str(i.get("title", "")), int(i["quantity"]))
        for i in raw
    )


def _from_row(row: Any) -> Replacement:
    return Replacement(
        id=row.id,
        order_id=row.order_id,
        order_name=row.order_name,
        seq=row.seq,
        reference_id=row.reference_id,
        status=row.status,
        items=items_from_json(row.items),
        payload=dict(row.payload),
        requested_by=row.requested_by,
        role=row.role,
        requested_at=row.requested_at,
        warehouse_order_id=row.warehouse_order_id,
        completed_at=row.completed_at,
        error=row.error,
    )


def recorded_replacements(conn: Connection, order_id: int) -> int:
    """Replacements the console recorded for the order that exist or are being created (not `failed`)."""
    query = (
        select(func.count())
        .select_from(T_REPLACEMENT)
        .where(T_REPLACEMENT.c.order_id == order_id, T_REPLACEMENT.c.status.in_(LIVE_STATUSES))
    )
    return int(conn.execute(query).scalar_one())


def replacements_for(conn: Connection, order_id: int) -> list[Replacement]:
    """Every console record for the order, oldest first."""
    rows = conn.execute(
        select(T_REPLACEMENT).where(T_REPLACEMENT.c.order_id == order_id).order_by(T_REPLACEMENT.c.seq)
    )
    return [_from_row(r) for r in rows]


def get(conn: Connection, replacement_id: int) -> Replacement:
    row = conn.execute(select(T_REPLACEMENT).where(T_REPLACEMENT.c.id == replacement_id)).one()
    return _from_row(row)


def highest_live_seq(conn: Connection, order_id: int) -> int:
    """The highest seq of the order's pending or created records (0 when none)."""
    query = select(func.max(T_REPLACEMENT.c.seq)).where(
        T_REPLACEMENT.c.order_id == order_id, T_REPLACEMENT.c.status.in_(LIVE_STATUSES)
    )
    return int(conn.execute(query).scalar_one() or 0)


def _held(row: Any) -> str:
    who = f"{row.requested_by} ({row.role})"
    if row.status == PENDING:
        return f"is already being created by {who}"
    return f"was already created by {who}" + (
        f" as 3PL order {row.warehouse_order_id}" if row.warehouse_order_id else ""
    )


def reserve(
    conn: Connection,
    *,
    order_id: int,
    order_name: str,
    seq: int,
    reference_id: str,
    items: Sequence[ResendItem],
    payload: dict[str, Any],
    actor: Actor,
    now: datetime,
) -> Replacement:
    """Claim replacement `seq` of the order as `pending` for `actor`; the caller commits before any 3PL call.

    Inserts the row, or takes over a `failed` row with the same (order_id, seq) (the retry rule). Raises
    ConflictError naming who holds it when the row is pending or created.
    """
    values = {
        "order_id": order_id,
        "order_name": order_name,
        "seq": seq,
        "reference_id": reference_id,
        "status": PENDING,
        "items": items_as_json(items),
        "payload": payload,
        "requested_by": actor.username,
        "role": str(actor.role),
        "requested_at": now,
        "warehouse_order_id": None,
        "completed_at": None,
        "error": None,
    }
    # RETURNING, not rowcount: with an implicit RETURNING, psycopg reports rowcount -1.
    dialect = postgresql if conn.dialect.name == "postgresql" else sqlite
    inserted = conn.execute(
        dialect.insert(T_REPLACEMENT).values(**values).on_conflict_do_nothing().returning(T_REPLACEMENT.c.id)
    ).first()
    if inserted is None:
        retaken = conn.execute(
            update(T_REPLACEMENT)
            .where(
                T_REPLACEMENT.c.order_id == order_id,
                T_REPLACEMENT.c.seq == seq,
                T_REPLACEMENT.c.reference_id == reference_id,
                T_REPLACEMENT.c.status == FAILED,
            )
            .values(**{k: v for k, v in values.items() if k not in ("order_id", "seq", "reference_id")})
            .returning(T_REPLACEMENT.c.id)
        ).first()
        if retaken is None:
            row = conn.execute(
                select(T_REPLACEMENT).where(
                    (T_REPLACEMENT.c.reference_id == reference_id)
                    | ((T_REPLACEMENT.c.order_id == order_id) & (T_REPLACEMENT.c.seq == seq))
                )
            ).first()
            held = _held(row) if row is not None else "is held by another request"
            raise ConflictError(f"Replacement {reference_id} of {order_name} {held}.")
    row = conn.execute(select(T_REPLACEMENT).where(T_REPLACEMENT.c.reference_id == reference_id)).one()
    return _from_row(row)


def mark_created(conn: Connection, replacement_id: int, *, warehouse_order_id: int, now: datetime) -> None:
    conn.execute(
        update(T_REPLACEMENT)
        .where(T_REPLACEMENT.c.id == replacement_id)
        .values(status=CREATED, warehouse_order_id=warehouse_order_id, completed_at=now, error=None)
    )


def pending_for(conn: Connection, order_id: int) -> list[Replacement]:
    """The order's replacements still `pending` (being created, or left so by a process that died)."""
    return [r for r in replacements_for(conn, order_id) if r.status == PENDING]


def resolve_pending(
    conn: Connection,
    replacement_id: int,
    *,
    warehouse_order_id: int | None,
    error: str | None,
    now: datetime,
) -> bool:
    """Set a `pending` row `created` (with the 3PL order) or `failed` (with `error`); False when the row
    was no longer pending (its execution answered meanwhile), and then nothing changes."""
    status = CREATED if warehouse_order_id is not None else FAILED
    done = conn.execute(
        update(T_REPLACEMENT)
        .where(T_REPLACEMENT.c.id == replacement_id, T_REPLACEMENT.c.status == PENDING)
        .values(
            status=status,
            warehouse_order_id=warehouse_order_id,
            completed_at=now,
            error=None if error is None else error[:2000],
        )
        .returning(T_REPLACEMENT.c.id)
    ).first()
    return done is not None


def mark_failed(conn: Connection, replacement_id: int, *, error: str, now: datetime) -> None:
    conn.execute(
        update(T_REPLACEMENT)
        .where(T_REPLACEMENT.c.id == replacement_id)
        .values(status=FAILED, completed_at=now, error=error[:2000])
    )


__all__ = [
    "LIVE_STATUSES",
    "T_REPLACEMENT",
    "Replacement",
    "get",
    "highest_live_seq",
    "items_as_json",
    "items_from_json",
    "mark_created",
    "mark_failed",
    "pending_for",
    "recorded_replacements",
    "replacements_for",
    "reserve",
    "resolve_pending",
]
