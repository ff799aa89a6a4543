"""Changing users: admin only and audited (SPEC §7), plus the demo users a first start creates."""

from __future__ import annotations

import secrets
from collections.abc import Mapping
from datetime import datetime
from typing import Any

from sqlalchemy import delete, func, select
from sqlmodel import Session

from db.models.auth import AppUser
from services import audit
from services.auth.credentials import hash_password, valid_email, valid_password, valid_role, valid_username
from services.auth.users import THROTTLE, USER, UserInfo, find_user, insert_ignore, user_info, user_or_404
from services.errors import ConflictError
from services.permissions import Actor, Permission, Role, require

DEMO_USERNAMES = ("agent", "ops", "lead", "admin")


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
    return _done(
        session,
        actor,
        "user.create",
        {"username": user.username, "role": user.role, "email": user.email},
        user,
        now,
    )


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
    name = valid_username(username)
    checked_role = valid_role(role)
    checked_email = valid_email(email)
    valid_password(password)
    if find_user(session, name) is not None:
        raise ConflictError(f"The username {name!r} is taken.")
    if (
        checked_email is not None
        and session.execute(select(USER.c.id).where(USER.c.email == checked_email)).first()
    ):
        raise ConflictError(f"Another user already has the email {checked_email}.")
    user = AppUser(
        username=name,
        display_name=(display_name or "").strip() or None,
        email=checked_email,
        role=checked_role.value,
        password_hash=hash_password(password),
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
        .select_from(USER)
        .where(USER.c.role == Role.ADMIN.value, USER.c.disabled.is_(False))
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
    return actor, user_or_404(session, username)


def set_role(
    session: Session, *, username: str, role: Role | str, actor: Actor | None, now: datetime
) -> UserInfo:
    params = {"username": username, "role": str(role)}
    admin, user = _admin_change(
        session, actor=actor, action="user.set_role", username=username, params=params, now=now
    )
    new_role = valid_role(role)
    if new_role != Role.ADMIN:
        _refuse_last_admin(session, user, f"making them {new_role}")
    old_role = user.role
    user.role, user.updated_at = new_role.value, now
    session.flush()
    return _done(
        session,
        admin,
        "user.set_role",
        {"username": user.username, "role": new_role.value, "previous_role": old_role},
        user,
        now,
    )


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
    return _done(
        session,
        admin,
        "user.set_disabled",
        {"username": user.username, "disabled": bool(disabled)},
        user,
        now,
    )


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
    user.password_hash, user.updated_at = hash_password(valid_password(password)), now
    session.flush()
    session.execute(delete(THROTTLE).where(THROTTLE.c.username == user.username))
    return _done(session, admin, "user.reset_password", {"username": user.username}, user, now)


def ensure_demo_users(session: Session, now: datetime) -> dict[str, str]:
    """Create the demo users `agent`, `ops`, `lead`, `admin` (role = username) where missing.

    Returns {username: password} for the users created by this call only (empty when all existed), so the
    caller can write them to `.streamlit/secrets.toml`. Safe when two processes bootstrap at once.
    """
    created: dict[str, str] = {}
    existing = set(
        session.execute(select(USER.c.username).where(USER.c.username.in_(DEMO_USERNAMES))).scalars()
    )
    for name in DEMO_USERNAMES:
        if name in existing:  # skip the bcrypt work: pages may call this on every start
            continue
        password = secrets.token_urlsafe(12)
        values = {
            "username": name,
            "display_name": f"Demo {name}",
            "role": name,
            "password_hash": hash_password(password),
            "disabled": False,
            "created_at": now,
            "updated_at": now,
        }
        if insert_ignore(session, USER, values, key="username"):
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


def _done(
    session: Session, admin: Actor, action: str, params: dict[str, Any], user: AppUser, now: datetime
) -> UserInfo:
    """Audit an admin's change as done, and return the user as it now is."""
    audit.append(
        session, actor=admin.username, role=admin.role, action=action, outcome=audit.Outcome.OK,
        params=params, at=now,
    )  # fmt: skip
    return user_info(user)
