"""`order-recon policy apply`: after a policy change every order is reclassified once, audited; again, nothing."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlmodel import Session

from db.migrate import upgrade
from db.session import make_engine
from services import audit
from services.cli import main
from services.policy_change import in_step
from services.settings import DEFAULT_POLICY_PATH, Settings
from services.snapshot import import_snapshot
from tests.conftest import SMALL_STORE


def test_apply_reclassifies_once_and_is_audited(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    url = f"sqlite:///{tmp_path / 'policy.db'}"
    engine = make_engine(url)
    upgrade(engine)
    import_snapshot(SMALL_STORE, engine=engine, policy=Settings().policy(), now=datetime.now(UTC))
    changed = tmp_path / "sla.toml"
    changed.write_text(DEFAULT_POLICY_PATH.read_text().replace("\nhandling_days = 1", "\nhandling_days = 2"))
    monkeypatch.setenv("DATABASE_URL", url)
    monkeypatch.setenv("ORDER_RECON_CONFIG", str(changed))
    policy = Settings(order_recon_config=changed).policy()
    with engine.connect() as conn:
        assert not in_step(conn, policy)

    assert main(["policy", "apply"]) == 0
    first = capsys.readouterr().out
    assert main(["policy", "apply"]) == 0
    second = capsys.readouterr().out

    with engine.connect() as conn:
        assert in_step(conn, policy)
    with Session(engine) as session:
        [entry] = [e for e in audit.list_entries(session) if e.action == "policy.change"]
    engine.dispose()
    reclassified = (entry.params or {})["reclassified"]
    assert reclassified > 0 and entry.actor == "system"
    assert first.startswith(
        f"Reclassified {reclassified} order(s) under the SLA policy {policy.fingerprint()}"
    )
    assert second.startswith("The stored orders already follow the SLA policy")
