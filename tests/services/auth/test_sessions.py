"""Server-side sessions: what ends one, and cookies that are not ours."""

from __future__ import annotations

import base64
import json
from datetime import timedelta

import pytest
from sqlalchemy.engine import Engine

from db.session import session_scope
from services import auth
from services.auth import sessions
from services.errors import ConfigurationError
from services.permissions import Role
from tests.services.auth.support import ADMIN, NOW

IDLE = timedelta(minutes=30)
KEY = "kq3V9x_Qe7RzT1mLw8YbN2cF5hJ0sDpA4uGiXo6vEkM"


def _start(engine: Engine, username: str, at=NOW) -> str:  # type: ignore[no-untyped-def]
    with session_scope(engine) as session:
        user = auth.users.find_user(session, username)
        assert user is not None
        return sessions.start(session, user, via="password", now=at)


def _resume(engine: Engine, token: str | None, at=NOW, demo_mode: bool = True):  # type: ignore[no-untyped-def]
    with session_scope(engine) as session:
        return sessions.resume(session, token, now=at, idle=IDLE, demo_mode=demo_mode)


def test_a_session_resumes_until_signed_out_and_never_after(engine: Engine, demo: dict[str, str]) -> None:
    token = _start(engine, "ops")
    assert _resume(engine, token).username == "ops"
    with session_scope(engine) as session:
        assert sessions.revoke(session, token, now=NOW, reason="signed out") == "ops"
    assert _resume(engine, token) is None  # a copied cookie is worth nothing now


@pytest.mark.parametrize(
    "change",
    [
        lambda s: auth.reset_password(
            s, username="ops", password="a new long password", actor=ADMIN, now=NOW
        ),
        lambda s: auth.set_disabled(s, username="ops", disabled=True, actor=ADMIN, now=NOW),
        lambda s: auth.set_role(s, username="ops", role=Role.AGENT, actor=ADMIN, now=NOW),
    ],
    ids=["password reset", "disable", "role change"],
)
def test_admin_changes_end_the_users_sessions(engine: Engine, demo: dict[str, str], change) -> None:  # type: ignore[no-untyped-def]
    token = _start(engine, "ops")
    with session_scope(engine) as session:
        change(session)
    assert _resume(engine, token) is None


def test_disable_then_enable_does_not_bring_an_old_session_back(engine: Engine, demo: dict[str, str]) -> None:
    token = _start(engine, "ops")
    with session_scope(engine) as session:
        auth.set_disabled(session, username="ops", disabled=True, actor=ADMIN, now=NOW)
    with session_scope(engine) as session:
        auth.set_disabled(session, username="ops", disabled=False, actor=ADMIN, now=NOW)
    assert _resume(engine, token) is None


def test_idle_timeout_and_demo_users_outside_demo_mode(engine: Engine, demo: dict[str, str]) -> None:
    token = _start(engine, "agent")
    assert _resume(engine, token, NOW + timedelta(minutes=29)) is not None
    assert _resume(engine, token, NOW + timedelta(minutes=29 + 31)) is None
    other = _start(engine, "lead")
    assert _resume(engine, other, demo_mode=False) is None


def _jwt(header: dict, payload: dict) -> str:  # type: ignore[type-arg]
    def part(value: dict) -> str:  # type: ignore[type-arg]
        return base64.urlsafe_b64encode(json.dumps(value).encode()).rstrip(b"=").decode()

    return f"{part(header)}.{part(payload)}."


@pytest.mark.parametrize(
    "cookie",
    [
        None,
        "",
        "garbage",
        "a.b.c",
        _jwt({"alg": "none", "typ": "JWT"}, {"username": "admin", "exp_date": 9e12}),
        "token." + "0" * 64,
        12345,
        "x" * 5000,
    ],
)
def test_a_malformed_or_forged_cookie_means_signed_out(cookie: object) -> None:
    assert sessions.token_from_cookie(cookie, KEY) is None


def test_a_cookie_signed_with_another_key_is_refused(engine: Engine, demo: dict[str, str]) -> None:
    token = _start(engine, "ops")
    assert sessions.token_from_cookie(sessions.sign_cookie(token, KEY), KEY) == token
    assert sessions.token_from_cookie(sessions.sign_cookie(token, KEY[::-1]), KEY) is None


@pytest.mark.parametrize("key", ["a" * 32, "ab" * 20, "0123456789" * 4, "short"])
def test_low_entropy_cookie_keys_are_refused(key: str) -> None:
    with pytest.raises(ConfigurationError, match="COOKIE_KEY"):
        sessions.valid_cookie_key(key)


def test_a_random_cookie_key_is_accepted() -> None:
    import secrets

    key = secrets.token_urlsafe(32)
    assert sessions.valid_cookie_key(key) == key
