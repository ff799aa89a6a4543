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
from services.auth import sessions
from services.auth.credentials import hash_password, valid_email, valid_password, valid_role, valid_username
from services.auth.users import THROTTLE, USER, UserInfo, find_user, insert_ignore, user_info, user_or_404
from services.errors import ConflictError
from services.permissions import Actor, Permission, Role, audit_as, require

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
    if old_role != new_role.value:
        sessions.revoke_user(session, user.username, now=now, reason="role changed")
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
    if disabled:
        sessions.revoke_user(session, user.username, now=now, reason="user disabled")
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
    """Set a new password (never audited in any form), end the user's sessions and clear their throttle."""
    admin, user = _admin_change(
        session,
        actor=actor,
        action="user.reset_password",
        username=username,
        params={"username": username},
        now=now,
    )
    _set_password(session, user, password, now)
    return _done(session, admin, "user.reset_password", {"username": user.username}, user, now)


def _set_password(session: Session, user: AppUser, password: str, now: datetime) -> None:
    user.password_hash, user.updated_at = hash_password(valid_password(password)), now
    user.password_version = (user.password_version or 1) + 1
    session.flush()
    sessions.revoke_user(session, user.username, now=now, reason="password changed")
    session.execute(delete(THROTTLE).where(THROTTLE.c.username == user.username))


def ensure_demo_users(
    session: Session, now: datetime, *, demo_mode: bool, fresh_passwords: bool = False
) -> dict[str, str]:
    """In demo mode, create the demo users `agent`, `ops`, `lead`, `admin` (role = username) where missing;
    outside demo mode, create nothing. With `fresh_passwords`, existing demo users get new passwords too.

    Returns {username: password} for the users created or reset by this call, for the caller to show once:
    only the hashes are stored, never the passwords. Safe when two processes bootstrap at once.
    """
    if not demo_mode:
        return {}
    passwords: dict[str, str] = {}
    existing = {
        u.username: u
        for u in session.execute(select(AppUser).where(USER.c.username.in_(DEMO_USERNAMES))).scalars()
    }
    for name in DEMO_USERNAMES:
        password = secrets.token_urlsafe(12)
        user = existing.get(name)
        if user is not None:  # skip the bcrypt work unless asked: pages may call this on every start
            if fresh_passwords and user.is_demo:
                _set_password(session, user, password, now)
                passwords[name] = password
                _system_audit(session, "user.reset_password", {"username": name, "demo": True}, now)
            continue
        values = {
            "username": name,
            "display_name": f"Demo {name}",
            "role": name,
            "password_hash": hash_password(password),
            "disabled": False,
            "is_demo": True,
            "password_version": 1,
            "created_at": now,
            "updated_at": now,
        }
        if insert_ignore(session, USER, values, key="username"):
            passwords[name] = password
            _system_audit(session, "user.create", {"username": name, "role": name, "demo": True}, now)
    return passwords


def _system_audit(session: Session, action: str, params: dict[str, Any], now: datetime) -> None:
    from services.cli.system import SYSTEM_ACTOR, system_params

    audit.append(
        session,
        actor=SYSTEM_ACTOR,
        role=None,
        action=action,
        outcome=audit.Outcome.OK,
        params={**params, **system_params()},
        at=now,
    )


def _done(
    session: Session, admin: Actor, action: str, params: dict[str, Any], user: AppUser, now: datetime
) -> UserInfo:
    """Audit an admin's change as done, and return the user as it now is."""
    audit_as(session, admin, action=action, outcome=audit.Outcome.OK, params=params, at=now)
    return user_info(user)
