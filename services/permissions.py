"""Roles, permissions and the one check every service calls (SPEC §7).

Pages hide what a role may not use; the services still call `require`, which refuses and audits. It does
not trust the role an `Actor` carries: it reads the user's role from the database (a missing or disabled
user holds nothing). The one exception is the CLI's `system` actor (`os_user` set), which stands for
whoever holds the database credentials.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import select
from sqlmodel import Session

from services import audit
from services.errors import PermissionDenied

__all__ = [
    "GRANTS",
    "SYSTEM_ACTOR",
    "Actor",
    "Permission",
    "Role",
    "allowed",
    "audit_as",
    "require",
    "stored_role",
]

SYSTEM_ACTOR = "system"


class Role(StrEnum):
    AGENT = "agent"
    OPS = "ops"
    LEAD = "lead"
    ADMIN = "admin"


class Permission(StrEnum):
    LOOKUP = "lookup"  # look up orders, see checks, AI summary, per-order sync
    QUEUES = "queues"  # overdue queue, informational view, claim an order
    REPLACEMENT_DRY_RUN = "replacement_dry_run"
    REPLACEMENT_EXECUTE = "replacement_execute"
    FIX_DRY_RUN = "fix_dry_run"  # SPEC §7: the same roles as a replacement's
    FIX_EXECUTE = "fix_execute"
    BULK_SYNC = "bulk_sync"
    METRICS = "metrics"  # SLA metrics and exports
    ADMINISTER = "administer"  # users, roles, audit log, SLA policy


_EVERYONE = frozenset(Role)

# SPEC §7, row by row.
GRANTS: Mapping[Permission, frozenset[Role]] = {
    Permission.LOOKUP: _EVERYONE,
    Permission.QUEUES: _EVERYONE,
    Permission.REPLACEMENT_DRY_RUN: frozenset({Role.AGENT, Role.OPS, Role.ADMIN}),
    Permission.REPLACEMENT_EXECUTE: frozenset({Role.OPS, Role.ADMIN}),
    Permission.FIX_DRY_RUN: frozenset({Role.AGENT, Role.OPS, Role.ADMIN}),
    Permission.FIX_EXECUTE: frozenset({Role.OPS, Role.ADMIN}),
    Permission.BULK_SYNC: frozenset({Role.OPS, Role.ADMIN}),
    Permission.METRICS: frozenset({Role.OPS, Role.LEAD, Role.ADMIN}),
    Permission.ADMINISTER: frozenset({Role.ADMIN}),
}


@dataclass(frozen=True)
class Actor:
    """Who is acting: the signed-in user as the services see them."""

    username: str
    role: Role
    display_name: str | None = None
    # Set only for the `system` actor of the CLI (whoever holds the database credentials): the OS user.
    os_user: str | None = None


def _as_role(role: Role | str | None) -> Role | None:
    if role is None or isinstance(role, Role):
        return role
    try:
        return Role(role)
    except ValueError:
        return None


def allowed(role: Role | str | None, permission: Permission) -> bool:
    """True when `role` holds `permission`; an unknown role or None holds nothing."""
    known = _as_role(role)
    return known is not None and known in GRANTS[Permission(permission)]


def stored_role(session: Session, actor: Actor | None) -> Role | None:
    """The role the database gives `actor` now: None for no actor, an unknown or a disabled user."""
    if actor is None:
        return None
    if actor.os_user is not None and actor.username == SYSTEM_ACTOR:
        return Role.ADMIN
    from db.models.auth import AppUser

    table = AppUser.__table__  # type: ignore[attr-defined]
    row = session.execute(
        select(table.c.role, table.c.disabled).where(table.c.username == actor.username)
    ).first()
    return None if row is None or row.disabled else _as_role(row.role)


def require(
    session: Session,
    actor: Actor | None,
    permission: Permission,
    *,
    action: str,
    order: str | None = None,
    params: Mapping[str, Any] | None = None,
    clock: Callable[[], datetime] = audit.utcnow,
) -> None:
    """Return when `actor` may do `action`; otherwise audit a `denied` entry and raise PermissionDenied.

    The denial is written in its own transaction, so it stays recorded when the caller rolls back (see
    `audit.run_detached`). No entry is written when the action is allowed: the caller audits the outcome.
    """
    role = stored_role(session, actor)
    if role is not None and allowed(role, permission):
        return
    username = actor.username if actor is not None else "anonymous"
    at = clock()
    detail = f"requires the {Permission(permission)} permission"

    def write_denial(own: Session) -> None:
        audit.append(
            own,
            actor=username,
            role=str(role) if role is not None else None,
            action=action,
            outcome=audit.Outcome.DENIED,
            order=order,
            params=params,
            detail=detail,
            at=at,
        )

    try:
        audit.run_detached(session, write_denial)
    except Exception:  # the refusal matters more than its record; the log says why it is missing
        audit.log.exception("could not audit a denied %s by %s", action, username)
    if actor is None:
        message = f"Sign in first: {action} needs the {permission} permission."
    else:
        message = (
            f"{username} ({role or 'no active role'}) may not {action}: it needs the {permission} permission."
        )
    raise PermissionDenied(message, actor=username, role=str(role) if role else None, action=action)


def audit_as(
    session: Session,
    actor: Actor,
    *,
    action: str,
    outcome: str,
    at: datetime,
    order: str | None = None,
    params: Mapping[str, Any] | None = None,
    detail: str | None = None,
) -> None:
    """Audit what `actor` did: a person under their name and role; the command line's `system` actor
    with no role and the operating-system user who ran it."""
    cli = actor.os_user is not None
    audit.append(
        session,
        actor=actor.username,
        role=None if cli else str(actor.role),
        action=action,
        outcome=outcome,
        order=order,
        params={**(params or {}), "os_user": actor.os_user} if cli else params,
        detail=detail,
        at=at,
    )
