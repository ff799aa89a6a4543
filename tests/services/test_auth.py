"""Users in the database, bcrypt passwords, credentials for streamlit-authenticator, sign-in throttling."""

from __future__ import annotations

import json
import os
from datetime import UTC, datetime, timedelta
from typing import Any

import bcrypt
import pytest
from sqlalchemy import text
from sqlalchemy.engine import Engine
from sqlmodel import Session

from db.session import make_engine, session_scope
from services import audit, auth
from services.errors import AuthenticationError, ConflictError, InputError, NotFoundError, PermissionDenied
from services.permissions import Actor, Role

NOW = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
ADMIN = Actor("admin", Role.ADMIN)
PASSWORD = "correct horse battery"


@pytest.fixture(autouse=True)
def _fast_bcrypt(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(auth, "BCRYPT_ROUNDS", 4)


@pytest.fixture
def demo(engine: Engine) -> dict[str, str]:
    with session_scope(engine) as session:
        return auth.ensure_demo_users(session, NOW)


def _reopened(engine: Engine) -> Engine:
    """A second engine on the same database, as another process would have."""
    url = engine.url.render_as_string(hide_password=False)
    if engine.dialect.name != "postgresql":
        return make_engine(url)
    with engine.connect() as conn:
        schema = conn.execute(text("SELECT current_schema()")).scalar_one()
    return make_engine(os.environ["TEST_DATABASE_URL"], connect_args={"options": f"-csearch_path={schema}"})


def _entries(engine: Engine, **filters: Any) -> list[tuple[str, str, str]]:
    with Session(engine) as session:
        return [(e.actor, e.action, e.outcome) for e in reversed(audit.list_entries(session, **filters))]


# --- users -------------------------------------------------------------------------------------------------


def test_demo_users_one_per_role_created_once(engine: Engine, demo: dict[str, str]) -> None:
    assert set(demo) == {"agent", "ops", "lead", "admin"}
    assert len(set(demo.values())) == 4 and all(len(p) >= 12 for p in demo.values())
    with session_scope(engine) as session:
        assert auth.ensure_demo_users(session, NOW) == {}
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
        assert "dana.k" not in auth.authenticator_credentials(session)["usernames"]
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

    admin_actions = [a for (actor, a, outcome) in _entries(engine, actor="admin") if outcome == "ok"]
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
    assert [(a, o) for (_, a, o) in _entries(engine, actor=role)] == [(a, "denied") for a in calls]


def test_anonymous_may_not_create_users(engine: Engine) -> None:
    with pytest.raises(PermissionDenied), session_scope(engine) as session:
        auth.create_user(session, username="eve", password=PASSWORD, role="admin", actor=None, now=NOW)
    assert _entries(engine) == [("anonymous", "user.create", "denied")]


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


# --- passwords are only ever bcrypt hashes ----------------------------------------------------------------


def test_passwords_are_stored_and_handed_out_as_bcrypt_hashes(engine: Engine, demo: dict[str, str]) -> None:
    with session_scope(engine) as session:
        auth.create_user(session, username="dana", password=PASSWORD, role="ops", actor=ADMIN, now=NOW)
    with engine.connect() as conn:
        stored = dict(conn.execute(text("SELECT username, password_hash FROM app_user")).tuples().all())
    plain = {**demo, "dana": PASSWORD}
    for name, password in plain.items():
        assert stored[name].startswith("$2") and password not in stored[name]
        assert bcrypt.checkpw(password.encode(), stored[name].encode())
    with Session(engine) as session:
        credentials = auth.authenticator_credentials(session)
    assert set(credentials) == {"usernames"}
    assert credentials["usernames"]["dana"] == {
        "name": "dana",
        "email": "",
        "password": stored["dana"],
        "roles": ["ops"],
    }
    assert credentials["usernames"]["lead"]["roles"] == ["lead"]
    dumped = json.dumps(credentials)
    assert not any(password in dumped for password in plain.values())
    assert set(credentials["usernames"]) == set(plain)


def test_credentials_are_prehashed_for_streamlit_authenticator(engine: Engine, demo: dict[str, str]) -> None:
    from streamlit_authenticator.utilities.hasher import Hasher

    with Session(engine) as session:
        credentials = auth.authenticator_credentials(session)
    for name, user in credentials["usernames"].items():
        assert Hasher.is_hash(user["password"])
        assert Hasher.check_pw(demo[name], user["password"])


# --- sign-in and throttling -------------------------------------------------------------------------------


def _fail(engine: Engine, username: str, at: datetime, times: int = 1) -> None:
    for _ in range(times):
        with pytest.raises(AuthenticationError) as raised, session_scope(engine) as session:
            auth.verify_password(session, username, "wrong password", at)
        assert str(raised.value) == auth.GENERIC_FAILURE


def _locked_for(engine: Engine, username: str, at: datetime) -> str | None:
    with Session(engine) as session:
        try:
            auth.check_login_allowed(session, username, at)
        except AuthenticationError as exc:
            return str(exc)
    return None


@pytest.mark.parametrize(
    ("failures", "seconds"),
    [(1, 0), (4, 0), (5, 30), (6, 60), (7, 120), (9, 480), (10, 900), (11, 900), (500, 900)],
)
def test_lock_duration_doubles_and_is_capped(failures: int, seconds: int) -> None:
    assert auth.lock_seconds(failures) == seconds


def test_five_failures_lock_for_thirty_seconds(engine: Engine, demo: dict[str, str]) -> None:
    _fail(engine, "ops", NOW, times=4)
    assert _locked_for(engine, "ops", NOW) is None
    _fail(engine, "ops", NOW)
    assert _locked_for(engine, "ops", NOW) == "Too many failed sign-ins for ops; try again in 30 s"
    assert _locked_for(engine, "ops", NOW + timedelta(seconds=29.5)) == (
        "Too many failed sign-ins for ops; try again in 1 s"
    )
    with pytest.raises(AuthenticationError, match="Too many"), Session(engine) as session:
        auth.verify_password(session, "ops", demo["ops"], NOW + timedelta(seconds=10))  # even the right one
    assert _locked_for(engine, "ops", NOW + timedelta(seconds=30)) is None
    assert _locked_for(engine, "agent", NOW) is None  # other users are not affected


def test_each_further_failure_doubles_up_to_fifteen_minutes(engine: Engine, demo: dict[str, str]) -> None:
    at = NOW
    _fail(engine, "lead", at, times=5)
    expected = [60, 120, 240, 480, 900, 900, 900]
    for seconds in expected:
        at = at + timedelta(minutes=16)  # past any lock
        _fail(engine, "lead", at)
        assert (
            _locked_for(engine, "lead", at) == f"Too many failed sign-ins for lead; try again in {seconds} s"
        )
        assert _locked_for(engine, "lead", at + timedelta(seconds=seconds)) is None


def test_success_resets_the_throttle(engine: Engine, demo: dict[str, str]) -> None:
    _fail(engine, "agent", NOW, times=5)
    _fail(engine, "agent", NOW + timedelta(seconds=30))  # the sixth: locked for 60 s
    after = NOW + timedelta(minutes=2)
    with session_scope(engine) as session:
        assert auth.verify_password(session, "agent", demo["agent"], after).role is Role.AGENT
    _fail(engine, "agent", after, times=4)
    assert _locked_for(engine, "agent", after) is None
    _fail(engine, "agent", after)
    assert _locked_for(engine, "agent", after) == "Too many failed sign-ins for agent; try again in 30 s"


def test_throttle_state_survives_a_new_engine(engine: Engine, demo: dict[str, str]) -> None:
    _fail(engine, "ops", NOW, times=5)
    engine.dispose()
    other = _reopened(engine)
    try:
        assert _locked_for(other, "OPS", NOW + timedelta(seconds=5)) == (
            "Too many failed sign-ins for ops; try again in 25 s"
        )
    finally:
        other.dispose()


def test_unknown_usernames_are_throttled_alike(engine: Engine, demo: dict[str, str]) -> None:
    _fail(engine, "nobody", NOW, times=5)
    assert _locked_for(engine, "nobody", NOW) == "Too many failed sign-ins for nobody; try again in 30 s"


def test_record_login_counts_and_audits(engine: Engine, demo: dict[str, str]) -> None:
    """The streamlit-authenticator path: the page checks, the widget verifies, the page records."""
    with session_scope(engine) as session:
        for _ in range(5):
            auth.record_login(session, username="ops", success=False, now=NOW, reason="wrong password")
    assert _locked_for(engine, "ops", NOW) is not None
    with session_scope(engine) as session:
        auth.record_login(session, username="ops", success=True, now=NOW + timedelta(minutes=1))
    assert _locked_for(engine, "ops", NOW + timedelta(minutes=1)) is None
    assert _entries(engine, action="sign_in") == [("ops", "sign_in", "failed")] * 5 + [
        ("ops", "sign_in", "ok")
    ]
    with Session(engine) as session:
        [locked] = audit.list_entries(session, outcome="failed", limit=1)
        assert locked.detail == "wrong password; 5 in a row; locked for 30 s"
        assert locked.role == "ops"


def test_failed_sign_ins_of_odd_usernames_are_audited_verbatim(engine: Engine) -> None:
    _fail(engine, "=cmd|' /C calc'!A0", NOW)
    _fail(engine, "x" * 200, NOW)
    actors = [a for (a, _, _) in _entries(engine, action="sign_in")]
    assert actors[0] == "=cmd|' /C calc'!A0"
    assert len(actors[1]) == 64
