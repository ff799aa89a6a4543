"""The throttle under parallel guesses, a success racing failures, and a lockout aimed at an admin."""

from __future__ import annotations

import threading
from datetime import timedelta

import pytest
from sqlalchemy import func, select
from sqlalchemy.engine import Engine
from sqlmodel import Session

from db.models.auth import AppUser
from db.session import session_scope
from services import audit, auth
from services.auth import credentials
from services.errors import AuthenticationError
from tests.services.auth.support import NOW, entries, reopened


def _attempts(engine: Engine, username: str, passwords: list[str], client: str | None = None) -> list[str]:
    """Run one sign-in per password in parallel threads; each result is 'ok', 'wrong', 'throttled' or
    an unexpected exception's name."""
    results: list[str] = []
    barrier = threading.Barrier(len(passwords))
    others = reopened(engine)

    def attempt(password: str) -> None:
        barrier.wait()
        try:
            with session_scope(others) as session:
                auth.verify_password(session, username, password, NOW, client=client)
            results.append("ok")
        except AuthenticationError as exc:
            results.append("throttled" if "Too many" in str(exc) else "wrong")
        except Exception as exc:  # the bug this guards against: NoResultFound under a racing success
            results.append(type(exc).__name__)

    threads = [threading.Thread(target=attempt, args=(p,)) for p in passwords]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    others.dispose()
    return results


def test_forty_parallel_guesses_reach_bcrypt_no_more_than_five_times(
    engine: Engine, demo: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    checked = []
    real = credentials.password_matches

    def counting(password: str, password_hash: str) -> bool:
        checked.append(password)
        return real(password, password_hash)

    monkeypatch.setattr(auth.sign_in, "password_matches", counting)
    results = _attempts(engine, "admin", [f"guess-{i}" for i in range(40)])
    assert len(checked) == auth.FREE_FAILURES
    assert sorted(set(results)) == ["throttled", "wrong"] and results.count("wrong") == 5
    # every attempt is audited, the refused ones too
    assert len(entries(engine, action="sign_in", outcome="failed")) == 40


def test_a_success_racing_failures_leaves_every_failure_counted(engine: Engine, demo: dict[str, str]) -> None:
    results = _attempts(engine, "ops", [demo["ops"], "wrong-1", "wrong-2", "wrong-3"])
    assert sorted(results) == ["ok", "wrong", "wrong", "wrong"]
    assert len(entries(engine, action="sign_in", outcome="failed")) == 3


def test_guessing_from_one_address_does_not_keep_the_admin_out_at_another(
    engine: Engine, demo: dict[str, str]
) -> None:
    at = NOW
    for i in range(12):  # each guess as soon as the delay allows: the attacker's address is held back
        with pytest.raises(AuthenticationError), session_scope(engine) as session:
            auth.verify_password(session, "admin", f"guess-{i}", at, client="203.0.113.9")
        at += timedelta(seconds=auth.lock_seconds(i + 1))
    with Session(engine) as session, pytest.raises(AuthenticationError, match="Too many"):
        auth.check_login_allowed(session, "admin", at - timedelta(seconds=1), client="203.0.113.9")
    with session_scope(engine) as session:  # the admin, elsewhere, at that same moment
        actor = auth.verify_password(
            session, "admin", demo["admin"], at - timedelta(seconds=1), client="198.51.100.7"
        )
    assert actor.username == "admin"


def test_one_address_guessing_many_usernames_is_held_back(engine: Engine, demo: dict[str, str]) -> None:
    for i in range(20):
        with pytest.raises(AuthenticationError), session_scope(engine) as session:
            auth.verify_password(session, f"user{i}", "guess", NOW, client="203.0.113.50")
    with pytest.raises(AuthenticationError, match="this address"), session_scope(engine) as session:
        auth.verify_password(session, "agent", demo["agent"], NOW, client="203.0.113.50")


def test_demo_users_cannot_sign_in_outside_demo_mode(engine: Engine, demo: dict[str, str]) -> None:
    with pytest.raises(AuthenticationError, match="Wrong username"), session_scope(engine) as session:
        auth.verify_password(session, "admin", demo["admin"], NOW, demo_mode=False)
    with Session(engine) as session:
        [entry] = audit.list_entries(session, action="sign_in", outcome="failed")
    assert entry.detail and entry.detail.startswith("demo user outside demo mode")


def test_demo_users_are_not_created_outside_demo_mode(engine: Engine) -> None:
    with session_scope(engine) as session:
        assert auth.ensure_demo_users(session, NOW, demo_mode=False) == {}
    with Session(engine) as session:
        assert session.execute(select(func.count()).select_from(AppUser)).scalar_one() == 0
