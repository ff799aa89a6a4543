"""Changing users: admin only and audited, validated input, the last admin kept, demo users."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy.engine import Engine
from sqlmodel import Session

from db.session import session_scope
from services import audit, auth
from services.errors import AuthenticationError, ConflictError, InputError, NotFoundError, PermissionDenied
from services.permissions import Actor, Role
from tests.services.auth.support import ADMIN, NOW, PASSWORD, entries


def test_demo_users_one_per_role_created_once(engine: Engine, demo: dict[str, str]) -> None:
    assert set(demo) == {"agent", "ops", "lead", "admin"}
    assert len(set(demo.values())) == 4 and all(len(p) >= 12 for p in demo.values())
    with session_scope(engine) as session:
        assert auth.ensure_demo_users(session, NOW, demo_mode=True) == {}
        for name, password in demo.items():
            assert auth.verify_password(session, name, password, NOW) == Actor(
                name, Role(name), f"Demo {name}"
            )


def test_create_list_disable_reset(engine: Engine, demo: dict[str, str]) -> None:
    with session_scope(engine) as session:
        created = auth.create_user(
            session,
            username="Dana.K",
            password=PASSWORD,
            role="ops",
            display_name="Dana K",
            email="Dana@Example.com",
            actor=ADMIN,
            now=NOW,
        )
    assert (created.username, created.role, created.email, created.disabled) == (
        "dana.k",
        Role.OPS,
        "dana@example.com",
        False,
    )
    with Session(engine) as session:
        users = auth.list_users(session, actor=ADMIN)
        assert [u.username for u in users] == ["admin", "agent", "dana.k", "lead", "ops"]
        assert not any(hasattr(u, "password_hash") for u in users)
        assert auth.get_active_user(session, "dana.k") == Actor("dana.k", Role.OPS, "Dana K")

    later = NOW + timedelta(hours=1)
    with session_scope(engine) as session:
        assert auth.set_disabled(session, username="dana.k", disabled=True, actor=ADMIN, now=later).disabled
    with Session(engine) as session:
        assert auth.get_active_user(session, "dana.k") is None
        with pytest.raises(AuthenticationError):
            auth.verify_password(session, "dana.k", PASSWORD, later)

    with session_scope(engine) as session:
        info = auth.set_disabled(session, username="dana.k", disabled=False, actor=ADMIN, now=later)
        assert (info.disabled, info.updated_at) == (False, later)
        auth.reset_password(session, username="dana.k", password="a new passphrase", actor=ADMIN, now=later)
    with session_scope(engine) as session:
        assert auth.verify_password(session, "dana.k", "a new passphrase", later).username == "dana.k"
    with Session(engine) as session, pytest.raises(AuthenticationError):
        auth.verify_password(session, "dana.k", PASSWORD, later)

    admin_actions = [a for (actor, a, outcome) in entries(engine, actor="admin") if outcome == "ok"]
    assert admin_actions == ["user.create", "user.set_disabled", "user.set_disabled", "user.reset_password"]
    with Session(engine) as session:
        assert audit.verify(session).ok


def test_set_role_takes_effect_at_the_next_lookup(engine: Engine, demo: dict[str, str]) -> None:
    with session_scope(engine) as session:
        auth.set_role(session, username="agent", role=Role.LEAD, actor=ADMIN, now=NOW)
    with Session(engine) as session:
        active = auth.get_active_user(session, "agent")
        assert active is not None and active.role is Role.LEAD
        [entry] = audit.list_entries(session, action="user.set_role")
        assert entry.params == {"username": "agent", "role": "lead", "previous_role": "agent"}


@pytest.mark.parametrize("role", ["agent", "ops", "lead"])
def test_non_admins_may_not_manage_users(engine: Engine, demo: dict[str, str], role: str) -> None:
    actor = Actor(role, Role(role))
    calls = {
        "user.create": lambda s: auth.create_user(
            s, username="eve", password=PASSWORD, role="admin", actor=actor, now=NOW
        ),
        "user.set_role": lambda s: auth.set_role(s, username=role, role="admin", actor=actor, now=NOW),
        "user.set_disabled": lambda s: auth.set_disabled(
            s, username="admin", disabled=True, actor=actor, now=NOW
        ),
        "user.reset_password": lambda s: auth.reset_password(
            s, username="admin", password=PASSWORD, actor=actor, now=NOW
        ),
        "user.list": lambda s: auth.list_users(s, actor=actor),
    }
    for call in calls.values():
        with pytest.raises(PermissionDenied), session_scope(engine) as session:
            call(session)
    with Session(engine) as session:
        assert auth.get_active_user(session, "eve") is None
        assert auth.get_active_user(session, "admin") == Actor("admin", Role.ADMIN, "Demo admin")
        assert auth.get_active_user(session, role) == Actor(role, Role(role), f"Demo {role}")
        auth.verify_password(session, "admin", demo["admin"], NOW)
    assert [(a, o) for (_, a, o) in entries(engine, actor=role)] == [(a, "denied") for a in calls]


def test_anonymous_may_not_create_users(engine: Engine) -> None:
    with pytest.raises(PermissionDenied), session_scope(engine) as session:
        auth.create_user(session, username="eve", password=PASSWORD, role="admin", actor=None, now=NOW)
    assert entries(engine) == [("anonymous", "user.create", "denied")]


@pytest.mark.parametrize(
    ("username", "password", "role", "email", "error"),
    [
        ("x", PASSWORD, "ops", None, InputError),
        ("has space", PASSWORD, "ops", None, InputError),
        ("a" * 65, PASSWORD, "ops", None, InputError),
        ("dana", "short7!", "ops", None, InputError),
        ("dana", "é" * 37, "ops", None, InputError),  # 74 bytes: bcrypt would truncate
        ("dana", PASSWORD, "superuser", None, InputError),
        ("dana", PASSWORD, "ops", "not-an-email", InputError),
        ("OPS", PASSWORD, "ops", None, ConflictError),
    ],
)
def test_create_user_refuses_bad_input(
    engine: Engine,
    demo: dict[str, str],
    username: str,
    password: str,
    role: str,
    email: str | None,
    error: type[Exception],
) -> None:
    with pytest.raises(error), session_scope(engine) as session:
        auth.create_user(
            session, username=username, password=password, role=role, email=email, actor=ADMIN, now=NOW
        )


def test_emails_are_unique_and_map_to_roles(engine: Engine, demo: dict[str, str]) -> None:
    with session_scope(engine) as session:
        auth.create_user(
            session,
            username="lena",
            password=PASSWORD,
            role="lead",
            email="lena@shop.test",
            actor=ADMIN,
            now=NOW,
        )
    with pytest.raises(ConflictError), session_scope(engine) as session:
        auth.create_user(
            session,
            username="lena2",
            password=PASSWORD,
            role="ops",
            email="LENA@shop.test",
            actor=ADMIN,
            now=NOW,
        )
    with session_scope(engine) as session:
        assert auth.role_for_email(session, "  Lena@Shop.TEST ") is Role.LEAD
        assert auth.role_for_email(session, "nobody@shop.test") is None
        auth.set_disabled(session, username="lena", disabled=True, actor=ADMIN, now=NOW)
    with Session(engine) as session:
        assert auth.role_for_email(session, "lena@shop.test") is None


def test_the_last_active_admin_cannot_be_removed(engine: Engine, demo: dict[str, str]) -> None:
    with pytest.raises(ConflictError), session_scope(engine) as session:
        auth.set_disabled(session, username="admin", disabled=True, actor=ADMIN, now=NOW)
    with pytest.raises(ConflictError), session_scope(engine) as session:
        auth.set_role(session, username="admin", role="ops", actor=ADMIN, now=NOW)
    with session_scope(engine) as session:
        auth.create_user(session, username="root2", password=PASSWORD, role="admin", actor=ADMIN, now=NOW)
        auth.set_role(session, username="admin", role="ops", actor=ADMIN, now=NOW)
    with Session(engine) as session:
        assert auth.get_active_user(session, "admin") == Actor("admin", Role.OPS, "Demo admin")


def test_unknown_user_is_not_found(engine: Engine, demo: dict[str, str]) -> None:
    with pytest.raises(NotFoundError), session_scope(engine) as session:
        auth.set_role(session, username="ghost", role="ops", actor=ADMIN, now=NOW)
