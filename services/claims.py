"""Claims on orders: one person works an overdue order at a time (the queue's "mine" and "unclaimed"
filters are `services.queue`'s).

A claim is a row in `order_claim` keyed by the order, so the database refuses a second claimant even when
two people click at once. Claiming and releasing are audited; both need the `queues` permission, and a
claim held by someone else may only be released by an admin.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Table, delete, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Connection
from sqlmodel import Session

from db.models.claims import OrderClaim
from services import audit
from services.errors import ConflictError, NotFoundError
from services.lookup.orders import find_order_id, normalize_name
from services.permissions import Actor, Permission, Role, require

__all__ = [
    "Claim",
    "claim",
    "claims_for",
    "my_claims",
    "release",
]


T_CLAIM: Table = OrderClaim.__table__  # type: ignore[attr-defined]


@dataclass(frozen=True)
class Claim:
    order_id: int
    username: str
    claimed_at: datetime


def _order_id(session: Session, order: str) -> int:
    order_id = find_order_id(session.connection(), order)
    if order_id is None:
        raise NotFoundError(f"No order {normalize_name(order)} in the store data.")
    return order_id


def _holder(session: Session, order_id: int) -> Claim | None:
    row = session.execute(select(T_CLAIM).where(T_CLAIM.c.order_id == order_id)).first()
    return Claim(row.order_id, row.username, row.claimed_at) if row is not None else None


def claim(session: Session, *, order: str, actor: Actor | None, now: datetime) -> Claim:
    """Claim `order` for `actor`. Claiming one's own claim again is a no-op; someone else's raises ConflictError."""
    name = normalize_name(order)
    require(session, actor, Permission.QUEUES, action="order.claim", order=name, clock=lambda: now)
    assert actor is not None
    order_id = _order_id(session, name)
    dialect = postgresql if session.get_bind().dialect.name == "postgresql" else sqlite
    inserted = session.execute(
        dialect.insert(T_CLAIM)
        .values(order_id=order_id, username=actor.username, claimed_at=now)
        .on_conflict_do_nothing(index_elements=["order_id"])
        .returning(T_CLAIM.c.order_id)
    ).first()
    holder = _holder(session, order_id)
    assert holder is not None
    if holder.username != actor.username:
        raise ConflictError(f"{name} is already claimed by {holder.username}.")
    if inserted:
        audit.append(
            session,
            actor=actor.username,
            role=actor.role,
            action="order.claim",
            outcome=audit.Outcome.OK,
            order=name,
            at=now,
        )
    return holder


def release(session: Session, *, order: str, actor: Actor | None, now: datetime) -> None:
    """Release the claim on `order`: by its holder, or by an admin (audited with the holder's name)."""
    name = normalize_name(order)
    require(session, actor, Permission.QUEUES, action="order.release", order=name, clock=lambda: now)
    assert actor is not None
    holder = _holder(session, _order_id(session, name))
    if holder is None:
        return
    if holder.username != actor.username and actor.role != Role.ADMIN:
        raise ConflictError(f"{name} is claimed by {holder.username}; only they or an admin may release it.")
    session.execute(delete(T_CLAIM).where(T_CLAIM.c.order_id == holder.order_id))
    audit.append(
        session,
        actor=actor.username,
        role=actor.role,
        action="order.release",
        outcome=audit.Outcome.OK,
        order=name,
        params={"holder": holder.username},
        at=now,
    )


def claims_for(conn: Connection, order_ids: Sequence[int]) -> dict[int, Claim]:
    """The claims on a few orders (a page of the queue)."""
    if not order_ids:
        return {}
    rows = conn.execute(select(T_CLAIM).where(T_CLAIM.c.order_id.in_(list(order_ids))))
    return {r.order_id: Claim(r.order_id, r.username, r.claimed_at) for r in rows}


def my_claims(conn: Connection, username: str) -> list[Claim]:
    rows = conn.execute(select(T_CLAIM).where(T_CLAIM.c.username == username).order_by(T_CLAIM.c.claimed_at))
    return [Claim(r.order_id, r.username, r.claimed_at) for r in rows]
