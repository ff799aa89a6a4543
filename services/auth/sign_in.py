"""Signing in: password checks, and the throttle that locks a username after repeated failures."""

from __future__ import annotations

import math
from datetime import datetime, timedelta

from sqlalchemy import delete, select, update
from sqlmodel import Session

from services import audit
from services.auth.credentials import dummy_hash, normal_username, password_matches
from services.auth.users import THROTTLE, actor_of, find_user, insert_ignore
from services.errors import AuthenticationError, InputError
from services.permissions import Actor

FREE_FAILURES = 5
FIRST_LOCK_S = 30
MAX_LOCK_S = 15 * 60
GENERIC_FAILURE = "Wrong username or password."


def _audit_label(username: str) -> str:
    """What a failed sign-in records as actor: what was typed, clipped to fit."""
    typed = username.strip()
    return typed if len(typed) <= 64 else typed[:63] + "…"


def lock_seconds(consecutive_failures: int) -> int:
    """How long sign-in is refused after this many failures in a row: 0, then 30 s doubling, at most 15 min."""
    if consecutive_failures < FREE_FAILURES:
        return 0
    doublings = min(consecutive_failures - FREE_FAILURES, 16)
    return min(FIRST_LOCK_S * 2**doublings, MAX_LOCK_S)


def check_login_allowed(session: Session, username: str, now: datetime) -> None:
    """Raise AuthenticationError while the username is throttled; call before checking a password."""
    name = normal_username(username)
    if name is None:
        return
    locked_until = session.execute(
        select(THROTTLE.c.locked_until).where(THROTTLE.c.username == name)
    ).scalar_one_or_none()
    if locked_until is not None and now < locked_until:
        wait = max(1, math.ceil((locked_until - now).total_seconds()))
        raise AuthenticationError(f"Too many failed sign-ins for {name}; try again in {wait} s")


def record_login(
    session: Session, *, username: str, success: bool, now: datetime, reason: str | None = None
) -> None:
    """Count a sign-in attempt and audit `sign_in` ok/failed, in the caller's transaction.

    A success clears the throttle; a failure adds one and, from the fifth in a row, sets `locked_until`.
    `reason` (e.g. "wrong password", "unknown user") goes to the audit entry's detail, not to the person.
    """
    name = normal_username(username)
    user = find_user(session, name) if name else None
    role = user.role if user is not None else None
    if success:
        if name is None:
            raise InputError(f"Not a username: {username[:70]!r}.")
        session.execute(delete(THROTTLE).where(THROTTLE.c.username == name))
        audit.append(session, actor=name, role=role, action="sign_in", outcome=audit.Outcome.OK, at=now)
        return
    details = [reason] if reason else []
    if name is not None:
        insert_ignore(session, THROTTLE, {"username": name, "failed_count": 0}, key="username")
        failures = session.execute(
            update(THROTTLE)
            .where(THROTTLE.c.username == name)
            .values(failed_count=THROTTLE.c.failed_count + 1, last_failed_at=now)
            .returning(THROTTLE.c.failed_count)
        ).scalar_one()
        locked_s = lock_seconds(failures)
        if locked_s:
            session.execute(
                update(THROTTLE)
                .where(THROTTLE.c.username == name)
                .values(locked_until=now + timedelta(seconds=locked_s))
            )
        details.append(f"{failures} in a row" + (f"; locked for {locked_s} s" if locked_s else ""))
    audit.append(
        session,
        actor=name or _audit_label(username) or "(empty)",
        role=role,
        action="sign_in",
        outcome=audit.Outcome.FAILED,
        detail="; ".join(details) or None,
        at=now,
    )


def verify_password(session: Session, username: str, password: str, now: datetime) -> Actor:
    """Check a sign-in and record it; returns the Actor, or raises AuthenticationError.

    The message is generic (it does not say whether the user exists). A failure is recorded in its own
    transaction, so the throttle counts it even when the caller rolls back on the exception.
    """
    check_login_allowed(session, username, now)
    user = find_user(session, username)
    matches = password_matches(password, user.password_hash if user is not None else dummy_hash())
    if user is not None and matches and not user.disabled:
        record_login(session, username=user.username, success=True, now=now)
        return actor_of(user)
    reason = "unknown user" if user is None else ("disabled user" if user.disabled else "wrong password")

    def record_failure(own: Session) -> None:
        record_login(own, username=username, success=False, now=now, reason=reason)

    audit.run_detached(session, record_failure)
    raise AuthenticationError(GENERIC_FAILURE)
