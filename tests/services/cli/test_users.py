"""`order-recon users …`: the first admin from the shell, passwords from stdin only, every change audited
as the `system` actor naming the OS user; and a policy change audited the same way."""

from __future__ import annotations

import io
import json
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlmodel import Session

from db.session import make_engine
from services import audit, auth
from services.cli import main
from services.cli.system import os_user
from services.errors import AuthenticationError

PASSWORD = "first admin's long password"


@pytest.fixture
def db(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    url = f"sqlite:///{tmp_path / 'users.db'}"
    monkeypatch.setenv("DATABASE_URL", url)
    monkeypatch.setattr(auth.credentials, "BCRYPT_ROUNDS", 4)
    return url


def _cli(monkeypatch: pytest.MonkeyPatch, *args: str, stdin: str = "") -> int:
    monkeypatch.setattr("sys.stdin", io.StringIO(stdin))
    return main(list(args))


def _entries(url: str) -> list[audit.AuditEntry]:  # type: ignore[name-defined]
    engine = make_engine(url)
    try:
        with Session(engine) as session:
            return list(reversed(audit.list_entries(session)))
    finally:
        engine.dispose()


def test_the_first_admin_is_added_from_stdin_and_can_sign_in(
    db: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    assert _cli(monkeypatch, "users", "add", "Root", "--role", "admin", stdin=PASSWORD + "\n") == 0
    assert "Added root (admin)" in capsys.readouterr().out
    engine = make_engine(db)
    try:
        with Session(engine) as session:
            actor = auth.verify_password(session, "root", PASSWORD, datetime.now(UTC), demo_mode=False)
        assert actor.role == "admin"
    finally:
        engine.dispose()
    [entry] = [e for e in _entries(db) if e.action == "user.create"]
    assert entry.actor == "system" and (entry.params or {})["os_user"] == os_user()
    assert PASSWORD not in json.dumps(entry.params)


def test_there_is_no_password_argument(db: str, monkeypatch: pytest.MonkeyPatch) -> None:
    assert _cli(monkeypatch, "users", "add", "root", "--role", "admin", "--password", PASSWORD) == 2
    assert _cli(monkeypatch, "users", "add", "root", "--role", "admin", stdin="") == 2  # nothing on stdin


def test_list_disable_enable_reset_and_set_role(
    db: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    _cli(monkeypatch, "users", "add", "root", "--role", "admin", stdin=PASSWORD)
    _cli(monkeypatch, "users", "add", "dana", "--role", "ops", stdin="dana's long password")
    assert _cli(monkeypatch, "users", "disable", "dana") == 0
    capsys.readouterr()
    assert _cli(monkeypatch, "users", "list", "--json") == 0
    users = {u["username"]: u for u in json.loads(capsys.readouterr().out)}
    assert users["dana"]["disabled"] is True and users["root"]["role"] == "admin"
    assert _cli(monkeypatch, "users", "enable", "dana") == 0
    assert _cli(monkeypatch, "users", "reset-password", "dana", stdin="another long password") == 0
    assert _cli(monkeypatch, "users", "set-role", "dana", "lead") == 0
    assert _cli(monkeypatch, "users", "set-role", "root", "agent") == 1  # the last admin stays
    actions = [(e.actor, e.action) for e in _entries(db) if e.action.startswith("user.")]
    assert actions == [
        ("system", "user.create"),
        ("system", "user.create"),
        ("system", "user.set_disabled"),
        ("system", "user.set_disabled"),
        ("system", "user.reset_password"),
        ("system", "user.set_role"),
    ]
    engine = make_engine(db)
    try:
        with Session(engine) as session, pytest.raises(AuthenticationError):
            auth.verify_password(session, "dana", "dana's long password", datetime.now(UTC), demo_mode=False)
    finally:
        engine.dispose()


def test_a_policy_change_is_audited(db: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from services.settings import DEFAULT_POLICY_PATH

    assert _cli(monkeypatch, "users", "list") == 0  # sets the packaged policy: not a change
    changed = tmp_path / "sla.toml"
    changed.write_text(DEFAULT_POLICY_PATH.read_text().replace("\nhandling_days = 1", "\nhandling_days = 2"))
    assert changed.read_text() != DEFAULT_POLICY_PATH.read_text()
    monkeypatch.setenv("ORDER_RECON_CONFIG", str(changed))
    assert _cli(monkeypatch, "users", "list") == 0
    [entry] = [e for e in _entries(db) if e.action == "policy.change"]
    assert entry.actor == "system" and (entry.params or {})["os_user"] == os_user()
