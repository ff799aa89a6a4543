"""Reading users: who someone is, as pages and the sign-in see them (never a password hash)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Table, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlmodel import Session

from db.models.auth import AppUser, LoginThrottle
from services.auth.credentials import normal_username
from services.errors import NotFoundError
from services.permissions import Actor, Permission, Role, require

USER = AppUser.__table__  # type: ignore[attr-defined]
THROTTLE = LoginThrottle.__table__  # type: ignore[attr-defined]


@dataclass(frozen=True)
class UserInfo:
    """A user as pages may see one: never the password hash."""

    username: str
    display_name: str | None
    email: str | None
    role: Role
    disabled: bool
    created_at: datetime
    updated_at: datetime


def user_info(user: AppUser) -> UserInfo:
    return UserInfo(
        user.username,
        user.display_name,
        user.email,
        Role(user.role),
        user.disabled,
        user.created_at,
        user.updated_at,
    )


def actor_of(user: AppUser) -> Actor:
    return Actor(user.username, Role(user.role), user.display_name)


def find_user(session: Session, username: str) -> AppUser | None:
    name = normal_username(username)
    if name is None:
        return None
    return session.execute(select(AppUser).where(USER.c.username == name)).scalar_one_or_none()


def user_or_404(session: Session, username: str) -> AppUser:
    user = find_user(session, username)
    if user is None:
        raise NotFoundError(f"No user {username!r}.")
    return user


def list_users(session: Session, *, actor: Actor | None) -> list[UserInfo]:
    """Every user, by username. Admin only (SPEC §7)."""
    require(session, actor, Permission.ADMINISTER, action="user.list")
    return [user_info(u) for u in session.execute(select(AppUser).order_by(USER.c.username)).scalars()]


def get_active_user(session: Session, username: str) -> Actor | None:
    """The signed-in user as an Actor, or None when missing or disabled (pages call this on every rerun)."""
    user = find_user(session, username)
    return actor_of(user) if user is not None and not user.disabled else None


def actor_for_email(session: Session, email: str) -> Actor | None:
    """The active user with this email (case-insensitive), for an OIDC sign-in; None when there is none."""
    if not email or not email.strip():
        return None
    user = session.execute(
        select(AppUser).where(USER.c.email == email.strip().lower(), USER.c.disabled.is_(False))
    ).scalar_one_or_none()
    return actor_of(user) if user is not None else None


def role_for_email(session: Session, email: str) -> Role | None:
    actor = actor_for_email(session, email)
    return actor.role if actor is not None else None


def insert_ignore(session: Session, table: Table, values: Mapping[str, Any], *, key: str) -> bool:
    """INSERT … ON CONFLICT (key) DO NOTHING; True when the row was inserted."""
    dialect_insert: Any = (
        postgresql.insert if session.get_bind().dialect.name == "postgresql" else sqlite.insert
    )
    statement = dialect_insert(table).values(**values).on_conflict_do_nothing(index_elements=[key])
    # RETURNING, not rowcount: with an implicit RETURNING, psycopg reports rowcount -1.
    return session.execute(statement.returning(table.c[key])).first() is not None
