"""`order-recon fix`: the dry run prints the plan, execute signs the user in and runs it; exit codes."""

from __future__ import annotations

import io
import json
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

from db.migrate import upgrade
from db.session import make_engine, session_scope
from services import cli
from services.auth import create_user
from services.cli.system import system_actor
from services.sync import sync_all
from tests.services.fixes.support import World, audit_rows, fix_rows
from tests.services.sources.simulator import Sim, simulator

pytestmark = pytest.mark.timeout(180)
PASSWORD = "correct horse battery"


@pytest.fixture(scope="module")
def running() -> Iterator[Sim]:
    with simulator(orders=1000, seed=7) as sim:  # the world of tests/services/fixes/support.py
        yield sim


@pytest.fixture
def world(running: Sim, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> World:
    url = f"sqlite:///{tmp_path / 'cli.db'}"
    for name, value in running.running.settings().items():
        monkeypatch.setenv(name, value)
    monkeypatch.setenv("DATABASE_URL", url)
    engine = make_engine(url)
    upgrade(engine)
    with session_scope(engine) as session:
        for username, role in (("olga", "ops"), ("ann", "agent")):
            create_user(
                session,
                username=username,
                password=PASSWORD,
                role=role,
                actor=system_actor(),
                now=datetime.now(UTC),
            )
    settings = running.settings(database_url=url)
    # The CLI evaluates at the real clock; sync there too, so stored and refreshed data agree.
    sync_all(engine, settings, settings.policy(), now=datetime.now(UTC), full=True)
    return World(engine, running)


def _dry_run(name: str, kind: str, capsys: pytest.CaptureFixture[str]) -> dict[str, object]:
    assert cli.main(["fix", name, kind, "--dry-run", "--json"]) == 0
    plan: dict[str, object] = json.loads(capsys.readouterr().out)
    return plan


def test_dry_run_then_execute_as_an_ops_user(
    world: World, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    name = world.pick("cancel-at-3pl")
    plan = _dry_run(name, "cancel-at-3pl", capsys)
    assert plan["actionable"] is True and plan["request"]["path"].endswith(":cancel")  # type: ignore[index]
    assert cli.main(["fix", name, "cancel-at-3pl", "--dry-run"]) == 0
    text = capsys.readouterr().out
    assert f"fingerprint: {plan['fingerprint']}" in text and "request: shipbob POST /2026-07/order/" in text
    before = world.calls("cancel-at-3pl")

    monkeypatch.setattr("sys.stdin", io.StringIO(PASSWORD + "\n"))
    code = cli.main(
        ["fix", name, "cancel-at-3pl", "--execute", "--fingerprint", str(plan["fingerprint"]), "--as", "olga"]
    )
    out, err = capsys.readouterr()
    assert code == 0, err
    assert f"cancel-at-3pl of {name} done (sent) by olga" in out and "cancelled_not_stopped" not in out
    assert world.calls("cancel-at-3pl") - before == 1
    assert [(a.actor, a.role, a.outcome) for a in audit_rows(world.engine, "fix.execute")] == [
        ("olga", "ops", "ok")
    ]

    # Run again: the discrepancy is gone, so a check blocks: exit 3, code and message on stderr.
    monkeypatch.setattr("sys.stdin", io.StringIO(PASSWORD + "\n"))
    code = cli.main(
        ["fix", name, "cancel-at-3pl", "--execute", "--fingerprint", str(plan["fingerprint"]), "--as", "olga"]
    )
    assert code == 3
    assert "blocked: fix.applies:" in capsys.readouterr().err
    assert world.calls("cancel-at-3pl") - before == 1


def test_exit_codes_for_bad_input_a_refused_role_and_a_wrong_password(
    world: World, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    name = world.pick("send-to-3pl")
    plan = _dry_run(name, "send-to-3pl", capsys)
    fingerprint = str(plan["fingerprint"])
    assert cli.main(["fix", name, "mend-it", "--dry-run"]) == 2  # unknown kind
    assert cli.main(["fix", "#1", "send-to-3pl", "--dry-run"]) == 2  # unknown order
    assert cli.main(["fix", name, "send-to-3pl", "--execute", "--fingerprint", "abc", "--as", "olga"]) == 2
    capsys.readouterr()
    monkeypatch.setattr("sys.stdin", io.StringIO("wrong password\n"))
    assert (
        cli.main(["fix", name, "send-to-3pl", "--execute", "--fingerprint", fingerprint, "--as", "olga"]) == 2
    )
    monkeypatch.setattr("sys.stdin", io.StringIO(PASSWORD + "\n"))
    assert (
        cli.main(["fix", name, "send-to-3pl", "--execute", "--fingerprint", fingerprint, "--as", "ann"]) == 1
    )
    assert "may not fix.execute" in capsys.readouterr().err
    assert fix_rows(world.engine) == []
    assert [(a.actor, a.outcome) for a in audit_rows(world.engine, "fix.execute")] == [("ann", "denied")]


def test_a_source_failure_exits_1(
    world: World, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    name = world.pick("push-tracking")
    plan = _dry_run(name, "push-tracking", capsys)
    monkeypatch.setenv("SHOPIFY_ACCESS_TOKEN", "revoked")
    monkeypatch.setattr("sys.stdin", io.StringIO(PASSWORD + "\n"))
    code = cli.main(
        ["fix", name, "push-tracking", "--execute", "--fingerprint", str(plan["fingerprint"]), "--as", "olga"]
    )
    assert code == 1
    err = capsys.readouterr().err
    assert err.startswith("error: ") and "shopify" in err and err.count("\n") == 1


def test_discrepancies_and_queue_filtered_by_has_a_fix(
    world: World, capsys: pytest.CaptureFixture[str]
) -> None:
    assert cli.main(["discrepancies", "--has-fix", "--json"]) == 0
    codes = {row["code"] for row in json.loads(capsys.readouterr().out)}
    assert codes and codes <= {"cancelled_not_stopped", "missing_at_3pl", "tracking_mismatch"}
    assert cli.main(["queue", "--has-fix", "--json"]) == 0
    rows = json.loads(capsys.readouterr().out)
    assert rows and all({"missing_at_3pl", "tracking_mismatch"} & set(r["discrepancies"]) for r in rows)
