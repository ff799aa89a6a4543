"""Users, passwords and sign-in throttling, all in the database.

Passwords are stored as bcrypt hashes only. Streamlit-authenticator receives those hashes
(`authenticator_credentials`, to be used with `auto_hash=False`); `verify_password` serves the CLI and tests.

Throttle: after 5 consecutive failed sign-ins for a username, sign-in is refused for 30 s, doubling with
each further failure and capped at 15 minutes; a success resets it. Counters live in `login_throttle`,
keyed by username whether or not the user exists, so the throttle does not reveal which usernames exist.
"""

from __future__ import annotations

import math
import re
import secrets
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import lru_cache
from typing import Any

import bcrypt
from sqlalchemy import Table, delete, func, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlmodel import Session

from db.models.auth import AppUser, LoginThrottle
from services import audit
from services.errors import AuthenticationError, ConflictError, InputError, NotFoundError
from services.permissions import Actor, Permission, Role, require

__all__ = [
    "DEMO_USERNAMES",
    "UserInfo",
    "actor_for_email",
    "authenticator_credentials",
    "check_login_allowed",
    "create_user",
    "ensure_demo_users",
    "get_active_user",
    "list_users",
    "lock_seconds",
    "record_login",
    "reset_password",
    "role_for_email",
    "set_disabled",
    "set_role",
    "verify_password",
]

BCRYPT_ROUNDS = 12  # tests lower this; ~0.25 s per hash at 12
MIN_PASSWORD_LENGTH = 8
MAX_PASSWORD_BYTES = 72  # bcrypt ignores everything after 72 bytes: refuse rather than truncate silently
FREE_FAILURES = 5
FIRST_LOCK_S = 30
MAX_LOCK_S = 15 * 60
DEMO_USERNAMES = ("agent", "ops", "lead", "admin")
GENERIC_FAILURE = "Wrong username or password."

_USERNAME = re.compile(r"[a-z0-9_.-]{2,64}")
_USER = AppUser.__table__  # type: ignore[attr-defined]
_THROTTLE = LoginThrottle.__table__  # type: ignore[attr-defined]


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


def _info(user: AppUser) -> UserInfo:
    return UserInfo(
        user.username,
        user.display_name,
        user.email,
        Role(user.role),
        user.disabled,
        user.created_at,
        user.updated_at,
    )


def _actor(user: AppUser) -> Actor:
    return Actor(user.username, Role(user.role), user.display_name)


# --- validation and hashing -------------------------------------------------------------------------------


def _normal_username(username: str) -> str | None:
    name = username.strip().lower()
    return name if _USERNAME.fullmatch(name) else None


def _valid_username(username: str) -> str:
    name = _normal_username(username)
    if name is None:
        raise InputError(f"Usernames are 2–64 characters of a–z, 0–9, '_', '.', '-': {username[:70]!r}.")
    return name


def _valid_password(password: str) -> str:
    if len(password) < MIN_PASSWORD_LENGTH:
        raise InputError(f"Passwords need at least {MIN_PASSWORD_LENGTH} characters.")
    if len(password.encode("utf-8")) > MAX_PASSWORD_BYTES:
        raise InputError(f"Passwords may be at most {MAX_PASSWORD_BYTES} bytes long.")
    return password


def _valid_email(email: str | None) -> str | None:
    if email is None or not email.strip():
        return None
    email = email.strip().lower()
    if len(email) > 320 or not re.fullmatch(r"[^@\s]+@[^@\s]+", email):
        raise InputError(f"Not an email address: {email[:80]!r}.")
    return email


def _valid_role(role: Role | str) -> Role:
    try:
        return Role(role)
    except ValueError:
        raise InputError(f"Unknown role {role!r}; roles are {', '.join(Role)}.") from None


def _hash(password: str) -> str:
    return bcrypt.hashpw(password.encode("utf-8"), bcrypt.gensalt(BCRYPT_ROUNDS)).decode("ascii")


@lru_cache(maxsize=1)
def _dummy_hash() -> str:
    return _hash(secrets.token_urlsafe(16))


def _password_matches(password: str, password_hash: str) -> bool:
    try:
        return bcrypt.checkpw(password.encode("utf-8"), password_hash.encode("ascii"))
    except ValueError:  # a malformed stored hash matches nothing
        return False


def _audit_label(username: str) -> str:
    """What a failed sign-in records as actor: what was typed, clipped to fit."""
    typed = username.strip()
    return typed if len(typed) <= 64 else typed[:63] + "…"


# --- reading users ----------------------------------------------------------------------------------------


def _get(session: Session, username: str) -> AppUser | None:
    name = _normal_username(username)
    if name is None:
        return None
    return session.execute(select(AppUser).where(_USER.c.username == name)).scalar_one_or_none()


def _get_or_404(session: Session, username: str) -> AppUser:
    user = _get(session, username)
    if user is None:
        raise NotFoundError(f"No user {username!r}.")
    return user


def list_users(session: Session, *, actor: Actor | None) -> list[UserInfo]:
    """Every user, by username. Admin only (SPEC §7)."""
    require(session, actor, Permission.ADMINISTER, action="user.list")
    return [_info(u) for u in session.execute(select(AppUser).order_by(_USER.c.username)).scalars()]


def get_active_user(session: Session, username: str) -> Actor | None:
    """The signed-in user as an Actor, or None when missing or disabled (pages call this on every rerun)."""
    user = _get(session, username)
    return _actor(user) if user is not None and not user.disabled else None


def actor_for_email(session: Session, email: str) -> Actor | None:
    """The active user with this email (case-insensitive), for an OIDC sign-in; None when there is none."""
    if not email or not email.strip():
        return None
    user = session.execute(
        select(AppUser).where(_USER.c.email == email.strip().lower(), _USER.c.disabled.is_(False))
    ).scalar_one_or_none()
    return _actor(user) if user is not None else None


def role_for_email(session: Session, email: str) -> Role | None:
    actor = actor_for_email(session, email)
    return actor.role if actor is not None else None


def authenticator_credentials(session: Session) -> dict[str, Any]:
    """Active users in streamlit-authenticator 0.4's shape, with bcrypt hashes (use `auto_hash=False`)."""
    users = session.execute(
        select(AppUser).where(_USER.c.disabled.is_(False)).order_by(_USER.c.username)
    ).scalars()
    return {
        "usernames": {
            u.username: {
                "name": u.display_name or u.username,
                "email": u.email or "",
                "password": u.password_hash,
                "roles": [u.role],
            }
            for u in users
        }
    }


# --- changing users (admin only, audited) -----------------------------------------------------------------


def create_user(
    session: Session,
    *,
    username: str,
    password: str,
    role: Role | str,
    display_name: str | None = None,
    email: str | None = None,
    actor: Actor | None,
    now: datetime,
) -> UserInfo:
    """Add a user. Raises PermissionDenied (audited), InputError, or ConflictError for a taken username/email."""
    params: dict[str, Any] = {"username": username.strip().lower()[:64], "role": str(role)}
    require(session, actor, Permission.ADMINISTER, action="user.create", params=params, clock=lambda: now)
    assert actor is not None
    user = _new_user(
        session,
        username=username,
        password=password,
        role=role,
        display_name=display_name,
        email=email,
        now=now,
    )
    audit.append(
        session,
        actor=actor.username,
        role=actor.role,
        action="user.create",
        outcome=audit.Outcome.OK,
        params={"username": user.username, "role": user.role, "email": user.email},
        at=now,
    )
    return _info(user)


def _new_user(
    session: Session,
    *,
    username: str,
    password: str,
    role: Role | str,
    display_name: str | None,
    email: str | None,
    now: datetime,
) -> AppUser:
    name = _valid_username(username)
    checked_role = _valid_role(role)
    checked_email = _valid_email(email)
    _valid_password(password)
    if _get(session, name) is not None:
        raise ConflictError(f"The username {name!r} is taken.")
    if (
        checked_email is not None
        and session.execute(select(_USER.c.id).where(_USER.c.email == checked_email)).first()
    ):
        raise ConflictError(f"Another user already has the email {checked_email}.")
    user = AppUser(
        username=name,
        display_name=(display_name or "").strip() or None,
        email=checked_email,
        role=checked_role.value,
        password_hash=_hash(password),
        disabled=False,
        created_at=now,
        updated_at=now,
    )
    session.add(user)
    session.flush()
    return user


def _refuse_last_admin(session: Session, user: AppUser, change: str) -> None:
    if user.role != Role.ADMIN or user.disabled:
        return
    active_admins = session.execute(
        select(func.count())
        .select_from(_USER)
        .where(_USER.c.role == Role.ADMIN.value, _USER.c.disabled.is_(False))
    ).scalar_one()
    if active_admins <= 1:
        raise ConflictError(f"{user.username} is the last active admin: {change} would lock everyone out.")


def _admin_change(
    session: Session,
    *,
    actor: Actor | None,
    action: str,
    username: str,
    params: Mapping[str, Any],
    now: datetime,
) -> tuple[Actor, AppUser]:
    require(session, actor, Permission.ADMINISTER, action=action, params=params, clock=lambda: now)
    assert actor is not None
    return actor, _get_or_404(session, username)


def set_role(
    session: Session, *, username: str, role: Role | str, actor: Actor | None, now: datetime
) -> UserInfo:
    params = {"username": username, "role": str(role)}
    admin, user = _admin_change(
        session, actor=actor, action="user.set_role", username=username, params=params, now=now
    )
    new_role = _valid_role(role)
    if new_role != Role.ADMIN:
        _refuse_last_admin(session, user, f"making them {new_role}")
    old_role = user.role
    user.role, user.updated_at = new_role.value, now
    session.flush()
    audit.append(
        session,
        actor=admin.username,
        role=admin.role,
        action="user.set_role",
        outcome=audit.Outcome.OK,
        params={"username": user.username, "role": new_role.value, "previous_role": old_role},
        at=now,
    )
    return _info(user)


def set_disabled(
    session: Session, *, username: str, disabled: bool, actor: Actor | None, now: datetime
) -> UserInfo:
    """Disable or re-enable a user; a disabled user loses access at their next interaction."""
    params = {"username": username, "disabled": bool(disabled)}
    admin, user = _admin_change(
        session, actor=actor, action="user.set_disabled", username=username, params=params, now=now
    )
    if disabled:
        _refuse_last_admin(session, user, "disabling them")
    user.disabled, user.updated_at = bool(disabled), now
    session.flush()
    audit.append(
        session,
        actor=admin.username,
        role=admin.role,
        action="user.set_disabled",
        outcome=audit.Outcome.OK,
        params={"username": user.username, "disabled": bool(disabled)},
        at=now,
    )
    return _info(user)


def reset_password(
    session: Session, *, username: str, password: str, actor: Actor | None, now: datetime
) -> UserInfo:
    """Set a new password (never audited in any form) and clear the user's sign-in throttle."""
    admin, user = _admin_change(
        session,
        actor=actor,
        action="user.reset_password",
        username=username,
        params={"username": username},
        now=now,
    )
    user.password_hash, user.updated_at = _hash(_valid_password(password)), now
    session.flush()
    session.execute(delete(_THROTTLE).where(_THROTTLE.c.username == user.username))
    audit.append(
        session,
        actor=admin.username,
        role=admin.role,
        action="user.reset_password",
        outcome=audit.Outcome.OK,
        params={"username": user.username},
        at=now,
    )
    return _info(user)


def ensure_demo_users(session: Session, now: datetime) -> dict[str, str]:
    """Create the demo users `agent`, `ops`, `lead`, `admin` (role = username) where missing.

    Returns {username: password} for the users created by this call only (empty when all existed), so the
    caller can write them to `.streamlit/secrets.toml`. Safe when two processes bootstrap at once.
    """
    created: dict[str, str] = {}
    existing = set(
        session.execute(select(_USER.c.username).where(_USER.c.username.in_(DEMO_USERNAMES))).scalars()
    )
    for name in DEMO_USERNAMES:
        if name in existing:  # skip the bcrypt work: pages may call this on every start
            continue
        password = secrets.token_urlsafe(12)
        values = {
            "username": name,
            "display_name": f"Demo {name}",
            "role": name,
            "password_hash": _hash(password),
            "disabled": False,
            "created_at": now,
            "updated_at": now,
        }
        if _insert_ignore(session, _USER, values, key="username"):
            created[name] = password
            audit.append(
                session,
                actor="system",
                role=None,
                action="user.create",
                outcome=audit.Outcome.OK,
                params={"username": name, "role": name, "demo": True},
                at=now,
            )
    return created


def _insert_ignore(session: Session, table: Table, values: Mapping[str, Any], *, key: str) -> bool:
    """INSERT … ON CONFLICT (key) DO NOTHING; True when the row was inserted."""
    dialect_insert: Any = (
        postgresql.insert if session.get_bind().dialect.name == "postgresql" else sqlite.insert
    )
    statement = dialect_insert(table).values(**values).on_conflict_do_nothing(index_elements=[key])
    # RETURNING, not rowcount: with an implicit RETURNING, psycopg reports rowcount -1.
    return session.execute(statement.returning(table.c[key])).first() is not None


# --- signing in -------------------------------------------------------------------------------------------


def lock_seconds(consecutive_failures: int) -> int:
    """How long sign-in is refused after this many failures in a row: 0, then 30 s doubling, at most 15 min."""
    if consecutive_failures < FREE_FAILURES:
        return 0
    doublings = min(consecutive_failures - FREE_FAILURES, 16)
    return min(FIRST_LOCK_S * 2**doublings, MAX_LOCK_S)


def check_login_allowed(session: Session, username: str, now: datetime) -> None:
    """Raise AuthenticationError while the username is throttled; call before checking a password."""
    name = _normal_username(username)
    if name is None:
        return
    locked_until = session.execute(
        select(_THROTTLE.c.locked_until).where(_THROTTLE.c.username == name)
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
    name = _normal_username(username)
    user = _get(session, name) if name else None
    role = user.role if user is not None else None
    if success:
        if name is None:
            raise InputError(f"Not a username: {username[:70]!r}.")
        session.execute(delete(_THROTTLE).where(_THROTTLE.c.username == name))
        audit.append(session, actor=name, role=role, action="sign_in", outcome=audit.Outcome.OK, at=now)
        return
    details = [reason] if reason else []
    if name is not None:
        _insert_ignore(session, _THROTTLE, {"username": name, "failed_count": 0}, key="username")
        failures = session.execute(
            update(_THROTTLE)
            .where(_THROTTLE.c.username == name)
            .values(failed_count=_THROTTLE.c.failed_count + 1, last_failed_at=now)
            .returning(_THROTTLE.c.failed_count)
        ).scalar_one()
        locked_s = lock_seconds(failures)
        if locked_s:
            session.execute(
                update(_THROTTLE)
                .where(_THROTTLE.c.username == name)
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
    user = _get(session, username)
    matches = _password_matches(password, user.password_hash if user is not None else _dummy_hash())
    if user is not None and matches and not user.disabled:
        record_login(session, username=user.username, success=True, now=now)
        return _actor(user)
    reason = "unknown user" if user is None else ("disabled user" if user.disabled else "wrong password")

    def record_failure(own: Session) -> None:
        record_login(own, username=username, success=False, now=now, reason=reason)

    audit.run_detached(session, record_failure)
    raise AuthenticationError(GENERIC_FAILURE)
