"""Signing in: the throttle (five free failures, then 30 s doubling to 15 minutes) and its audit."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest
from sqlalchemy.engine import Engine
from sqlmodel import Session

from db.session import session_scope
from services import audit, auth
from services.errors import AuthenticationError
from services.permissions import Role
from tests.services.auth.support import NOW, entries, reopened


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
    with Session(engine) as session:  # the audit says which failure locked the user, and for how long
        details = [e.detail for e in audit.list_entries(session, actor="ops", outcome="failed")]
    assert details[0] == "Too many failed sign-ins for ops; try again in 20 s"  # newest first
    assert details[1].endswith("5 in a row; locked for 30 s") and details[2].endswith("4 in a row")


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
    other = reopened(engine)
    try:
        assert _locked_for(other, "OPS", NOW + timedelta(seconds=5)) == (
            "Too many failed sign-ins for ops; try again in 25 s"
        )
    finally:
        other.dispose()


def test_unknown_usernames_are_throttled_alike(engine: Engine, demo: dict[str, str]) -> None:
    _fail(engine, "nobody", NOW, times=5)
    assert _locked_for(engine, "nobody", NOW) == "Too many failed sign-ins for nobody; try again in 30 s"


def test_failed_sign_ins_of_odd_usernames_are_audited_verbatim(engine: Engine) -> None:
    _fail(engine, "=cmd|' /C calc'!A0", NOW)
    _fail(engine, "x" * 200, NOW)
    actors = [a for (a, _, _) in entries(engine, action="sign_in")]
    assert actors[0] == "=cmd|' /C calc'!A0"
    assert len(actors[1]) == 64
