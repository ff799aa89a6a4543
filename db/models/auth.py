"""Tables for people who sign in: users with a role, and the sign-in throttle."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Boolean, CheckConstraint, Column, Integer, String
from sqlmodel import Field, SQLModel

from db.types import UTCDateTime

ROLES = ("agent", "ops", "lead", "admin")


def _ts(*, nullable: bool = True) -> Any:
    return Field(default=None, sa_column=Column(UTCDateTime(), nullable=nullable))


class AppUser(SQLModel, table=True):
    """A person who may sign in. `password_hash` is bcrypt; the plain password is never stored."""

    __tablename__ = "app_user"
    __table_args__ = (CheckConstraint("role IN ('agent', 'ops', 'lead', 'admin')", name="ck_app_user_role"),)

    id: int | None = Field(default=None, sa_column=Column(Integer, primary_key=True, autoincrement=True))
    username: str = Field(sa_column=Column(String(64), nullable=False, unique=True))
    display_name: str | None = Field(default=None, sa_column=Column(String(128)))
    # Lower-cased; maps an OIDC sign-in to a role.
    email: str | None = Field(default=None, sa_column=Column(String(320), unique=True))
    role: str = Field(sa_column=Column(String(16), nullable=False))
    password_hash: str = Field(sa_column=Column(String(128), nullable=False))
    disabled: bool = Field(default=False, sa_column=Column(Boolean, nullable=False, default=False))
    created_at: datetime = _ts(nullable=False)
    updated_at: datetime = _ts(nullable=False)
    # Bumped by every password change: sessions started under an older one end.
    password_version: int = Field(default=1, sa_column=Column(Integer, nullable=False, default=1))
    # Created by the demo bootstrap: cannot sign in outside demo mode.
    is_demo: bool = Field(default=False, sa_column=Column(Boolean, nullable=False, default=False))


class LoginThrottle(SQLModel, table=True):
    """Consecutive failed sign-ins per key: a username (known or not, so the throttle reveals nothing),
    a client, or a username from one client (see services.auth.throttle)."""

    __tablename__ = "login_throttle"

    username: str = Field(sa_column=Column(String(200), primary_key=True))
    failed_count: int = Field(default=0, sa_column=Column(Integer, nullable=False, default=0))
    last_failed_at: datetime | None = _ts()
    locked_until: datetime | None = _ts()


class AuthSession(SQLModel, table=True):
    """One sign-in. The cookie carries a random token; only its SHA-256 is stored (a reader of the
    database cannot take over a session). Checked on every run (services.auth.sessions)."""

    __tablename__ = "auth_session"

    id: str = Field(sa_column=Column(String(64), primary_key=True))
    username: str = Field(sa_column=Column(String(64), nullable=False, index=True))
    role: str = Field(sa_column=Column(String(16), nullable=False))
    password_version: int = Field(sa_column=Column(Integer, nullable=False))
    via: str = Field(sa_column=Column(String(16), nullable=False))  # password | cookie | oidc
    client: str | None = Field(default=None, sa_column=Column(String(64)))
    created_at: datetime = _ts(nullable=False)
    last_seen_at: datetime = _ts(nullable=False)
    revoked_at: datetime | None = _ts()
    revoked_reason: str | None = Field(default=None, sa_column=Column(String(64)))
