"""Signing in: password checks behind the throttle (services.auth.throttle), each attempt audited.

`verify_password` reserves the attempt and commits that before bcrypt runs, then records the outcome in
a transaction of its own: the caller's transaction neither holds the throttle's rows during bcrypt nor
can roll the count back. Demo users sign in only in demo mode.
"""

from __future__ import annotations

from datetime import datetime

from sqlmodel import Session

from db.session import session_scope
from services import audit
from services.audit import _engine_of
from services.auth import throttle
from services.auth.credentials import dummy_hash, normal_username, password_matches
from services.auth.throttle import FREE_FAILURES, lock_seconds
from services.auth.users import actor_of, find_user
from services.errors import AuthenticationError
from services.permissions import Actor

GENERIC_FAILURE = "Wrong username or password."

__all__ = [
    "FREE_FAILURES",
    "GENERIC_FAILURE",
    "check_login_allowed",
    "lock_seconds",
    "verify_password",
]


def _audit_label(username: str) -> str:
    """What a failed sign-in records as actor: what was typed, clipped to fit."""
    typed = username.strip()
    return typed if len(typed) <= 64 else typed[:63] + "…"


def _key(username: str) -> str:
    return normal_username(username) or ("?" + _audit_label(username).lower())[:64]


def check_login_allowed(session: Session, username: str, now: datetime, client: str | None = None) -> None:
    """Raise AuthenticationError while this username (from this client) is held back."""
    throttle.check(session, _key(username), client, now)


def _audit(
    session: Session,
    username: str,
    *,
    success: bool,
    now: datetime,
    reason: str | None = None,
    counts: list[int] | None = None,
    via: str = "password",
) -> None:
    name = normal_username(username)
    user = find_user(session, name) if name else None
    details = [reason] if reason else []
    if counts:
        locked = lock_seconds(counts[0])
        details.append(f"{counts[0]} in a row" + (f"; locked for {locked} s" if locked else ""))
    audit.append(
        session,
        actor=name or _audit_label(username) or "(empty)",
        role=user.role if user is not None else None,
        action="sign_in",
        outcome=audit.Outcome.OK if success else audit.Outcome.FAILED,
        params={"via": via} if via != "password" else None,
        detail="; ".join(details) or None,
        at=now,
    )


def verify_password(
    session: Session,
    username: str,
    password: str,
    now: datetime,
    *,
    client: str | None = None,
    demo_mode: bool | None = None,
) -> Actor:
    """Check a sign-in and record it; returns the Actor, or raises AuthenticationError.

    The message is generic (it does not say whether the user exists). The attempt is counted before the
    password is checked, in its own committed transaction, so parallel guesses are throttled too.
    """
    if demo_mode is None:
        from services.settings import get_settings

        demo_mode = get_settings().demo_mode
    engine = _engine_of(session)
    key = _key(username)
    try:
        with session_scope(engine) as own:
            counts = throttle.reserve(own, key, client, now)
    except AuthenticationError as refused:
        with session_scope(engine) as own:
            _audit(own, username, success=False, now=now, reason=str(refused), via="password")
        raise
    user = find_user(session, username)
    matches = password_matches(password, user.password_hash if user is not None else dummy_hash())
    allowed = user is not None and not user.disabled and (demo_mode or not user.is_demo)
    if user is not None and matches and allowed:
        with session_scope(engine) as own:
            throttle.release(own, user.username, client)
            _audit(own, user.username, success=True, now=now)
        return actor_of(user)
    if user is None:
        reason = "unknown user"
    elif user.disabled:
        reason = "disabled user"
    elif not allowed:
        reason = "demo user outside demo mode"
    else:
        reason = "wrong password"
    with session_scope(engine) as own:
        _audit(own, username, success=False, now=now, reason=reason, counts=counts)
    raise AuthenticationError(GENERIC_FAILURE)
