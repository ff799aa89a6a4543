"""Server-side sessions: one row per sign-in, checked on every run, revoked by what takes a right away.

The browser's cookie carries a random token signed with `COOKIE_KEY`; the table stores only the token's
SHA-256, so neither a copy of the database nor a guessed value opens a session. `resume` accepts a session
only while it is not revoked, the user exists, is enabled (a demo user only in demo mode), still has the
password version and the role it signed in with, and it was used within the idle timeout.

Sign-out revokes the one session; a password change, a disable and a role change revoke all of a user's.
A malformed, forged or unknown cookie means "signed out", never an error.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from datetime import datetime, timedelta

from sqlalchemy import select, update
from sqlmodel import Session

from db.models.auth import AppUser, AuthSession
from services.audit_key import check_random_key
from services.auth.users import USER, actor_of
from services.permissions import Actor

SESSION = AuthSession.__table__  # type: ignore[attr-defined]
TOKEN_BYTES = 32
TOUCH_EVERY = timedelta(seconds=60)  # last_seen_at is written at most this often (fewer writes per run)


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def sign_cookie(token: str, cookie_key: str) -> str:
    mac = hmac.new(cookie_key.encode("utf-8"), token.encode("utf-8"), hashlib.sha256).hexdigest()
    return f"{token}.{mac}"


def token_from_cookie(value: object, cookie_key: str) -> str | None:
    """The token of a well-formed cookie signed with `cookie_key`; None for anything else."""
    if not isinstance(value, str) or value.count(".") != 1 or len(value) > 200:
        return None
    token, mac = value.split(".")
    if not token or not mac:
        return None
    return token if hmac.compare_digest(sign_cookie(token, cookie_key), value) else None


def start(
    session: Session, user: AppUser | Actor, *, via: str, now: datetime, client: str | None = None
) -> str:
    """Open a session for `user` and return its token (to be put in the cookie, signed)."""
    row = user if isinstance(user, AppUser) else _user(session, user.username)
    if row is None:
        raise ValueError(f"no user {user.username!r}")
    token = secrets.token_urlsafe(TOKEN_BYTES)
    session.add(
        AuthSession(
            id=_digest(token),
            username=row.username,
            role=row.role,
            password_version=row.password_version,
            via=via,
            client=(client or None) and client[:64],
            created_at=now,
            last_seen_at=now,
        )
    )
    session.flush()
    return token


def _user(session: Session, username: str) -> AppUser | None:
    return session.execute(select(AppUser).where(USER.c.username == username)).scalar_one_or_none()


def resume(
    session: Session, token: str | None, *, now: datetime, idle: timedelta, demo_mode: bool
) -> Actor | None:
    """The Actor of a live session, or None (and the session is revoked when it just ended)."""
    if not token:
        return None
    row = session.get(AuthSession, _digest(token))
    if row is None or row.revoked_at is not None:
        return None
    user = _user(session, row.username)
    reason = _ended(row, user, now=now, idle=idle, demo_mode=demo_mode)
    if reason is not None:
        row.revoked_at, row.revoked_reason = now, reason
        session.flush()
        return None
    if now - row.last_seen_at >= TOUCH_EVERY:
        row.last_seen_at = now
        session.flush()
    assert user is not None
    return actor_of(user)


def _ended(
    row: AuthSession, user: AppUser | None, *, now: datetime, idle: timedelta, demo_mode: bool
) -> str | None:
    if user is None:
        return "user removed"
    if user.disabled:
        return "user disabled"
    if user.is_demo and not demo_mode:
        return "demo user outside demo mode"
    if user.password_version != row.password_version:
        return "password changed"
    if user.role != row.role:
        return "role changed"
    if now - row.last_seen_at > idle:
        return "idle timeout"
    return None


def why_ended(session: Session, token: str | None) -> str | None:
    """The reason a session was revoked ("signed out", "user disabled", …), or None."""
    row = session.get(AuthSession, _digest(token)) if token else None
    return row.revoked_reason if row is not None else None


def revoke(session: Session, token: str | None, *, now: datetime, reason: str) -> str | None:
    """End one session; returns its username (None when there was no live session)."""
    if not token:
        return None
    row = session.get(AuthSession, _digest(token))
    if row is None or row.revoked_at is not None:
        return None
    row.revoked_at, row.revoked_reason = now, reason
    session.flush()
    return row.username


def revoke_user(session: Session, username: str, *, now: datetime, reason: str) -> int:
    """End every live session of `username`; returns how many."""
    result = session.execute(
        update(SESSION)
        .where(SESSION.c.username == username, SESSION.c.revoked_at.is_(None))
        .values(revoked_at=now, revoked_reason=reason)
        .returning(SESSION.c.id)
    )
    return len(result.all())


def valid_cookie_key(key: str | None) -> str:
    """`COOKIE_KEY`, refused when shorter than 32 characters or low in entropy (ConfigurationError)."""
    return check_random_key("COOKIE_KEY", key or "")
