"""`make run`'s supervisor: secrets written once, demo users kept, database synced, no streamlit import."""

from __future__ import annotations

import subprocess
import sys
import tomllib
from pathlib import Path

import pytest
from sqlalchemy import func, select

from db.session import make_engine
from services import auth, demo
from services.store import T_ORDER

SOURCES = {
    "SHOPIFY_SHOP_URL": "http://127.0.0.1:8787/shopify",
    "SHOPIFY_ACCESS_TOKEN": "shpat_x",
    "SHIPBOB_API_URL": "http://127.0.0.1:8787/shipbob",
    "SHIPBOB_TOKEN": "sbx_x",
    "EASYPOST_API_URL": "http://127.0.0.1:8787/easypost",
    "EASYPOST_API_KEY": "EZAK_x",
}


def test_secrets_are_written_once_with_random_keys_and_no_password(tmp_path: Path) -> None:
    path = tmp_path / ".streamlit" / "secrets.toml"
    assert demo.write_secrets(path, SOURCES)
    first = tomllib.loads(path.read_text())
    assert (
        len(first["cookie_key"]) >= 32 and first["demo_mode"] is True and first["cookie_expiry_days"] == 0.5
    )
    assert len(first["audit_key"]) >= 32 and first["audit_key"] != first["cookie_key"]
    assert first["shopify_shop_url"] == SOURCES["SHOPIFY_SHOP_URL"] and "demo_users" not in first
    assert path.stat().st_mode & 0o777 == 0o600

    assert not demo.write_secrets(path, {**SOURCES, "SHOPIFY_ACCESS_TOKEN": "other"})
    assert tomllib.loads(path.read_text()) == first


def test_an_old_secrets_file_loses_its_passwords_and_gains_an_audit_key(tmp_path: Path) -> None:
    path = tmp_path / "secrets.toml"
    path.write_text(demo.render_secrets({"cookie_key": "c" * 48, "demo_users": {"admin": "pw-in-clear"}}))
    path.chmod(0o644)
    assert demo.write_secrets(path, SOURCES)
    current = tomllib.loads(path.read_text())
    assert "demo_users" not in current and "pw-in-clear" not in path.read_text()
    assert current["cookie_key"] == "c" * 48 and len(current["audit_key"]) >= 32
    assert path.stat().st_mode & 0o777 == 0o600  # a new file swapped in, created private


def test_the_supervisor_does_not_import_streamlit() -> None:
    code = "import sys, services.demo; sys.exit(1 if 'streamlit' in sys.modules else 0)"
    assert subprocess.run([sys.executable, "-c", code], check=False).returncode == 0


def test_streamlit_runs_headless_on_the_port() -> None:
    command = demo.streamlit_command(8501)
    assert command[1:4] == ["-m", "streamlit", "run"] and "Home.py" in command
    assert command[command.index("--server.headless") + 1] == "true"
    assert command[command.index("--server.port") + 1] == "8501"
    assert command[command.index("--server.address") + 1] == "127.0.0.1"  # loopback unless asked


def test_prepare_database_syncs_and_is_idempotent(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from sandbox.server import start_in_thread

    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr(auth.credentials, "BCRYPT_ROUNDS", 4)
    url = f"sqlite:///{tmp_path / 'demo.db'}"
    monkeypatch.setenv("DATABASE_URL", url)
    with start_in_thread(orders=60, seed=3) as simulator:
        created = demo.prepare_database(simulator.settings())
        assert sorted(created) == sorted(auth.DEMO_USERNAMES)
        again = demo.prepare_database(simulator.settings())  # fresh passwords, shown once more
        assert sorted(again) == sorted(auth.DEMO_USERNAMES) and again != created
    engine = make_engine(url)
    with engine.connect() as conn:
        assert conn.scalar(select(func.count()).select_from(T_ORDER)) > 0
    engine.dispose()


def test_webhook_secrets_are_generated_once_and_added_to_an_older_file(tmp_path: Path) -> None:
    path = tmp_path / ".streamlit" / "secrets.toml"
    fresh = demo.webhook_secrets(path)
    assert set(fresh) == set(demo.WEBHOOK_SECRET_NAMES) and fresh["SHIPBOB_WEBHOOK_SECRET"].startswith(
        "whsec_"
    )
    assert demo.write_secrets(path, SOURCES)  # a file from before webhooks: no webhook secrets in it
    assert demo.add_missing_secrets(path, fresh)
    assert demo.webhook_secrets(path) == fresh  # kept from now on
    assert path.stat().st_mode & 0o777 == 0o600  # still private after the keys were added
    assert not demo.add_missing_secrets(path, fresh)


def test_the_demo_console_follows_the_world_through_webhooks(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import time
    from datetime import UTC, datetime

    from sandbox.server import start_in_thread
    from services.store import T_CLASS

    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr(auth.credentials, "BCRYPT_ROUNDS", 4)
    url = f"sqlite:///{tmp_path / 'demo.db'}"
    monkeypatch.setenv("DATABASE_URL", url)
    with start_in_thread(orders=600, seed=3, clock="2026-11-20T15:00:00Z") as simulator:
        sources = {**simulator.settings(), **demo.webhook_secrets(tmp_path / "secrets.toml")}
        demo.prepare_database(sources)
        receiver = demo.start_receiver(0, sources)
        try:
            simulator.start_webhooks(
                f"{receiver.base_url}/webhooks",
                {s: sources[f"{s.upper()}_WEBHOOK_SECRET"] for s in ("shopify", "shipbob", "easypost")},
            )
            engine = make_engine(url)
            started = datetime.now(UTC)
            simulator.sim.clock.advance(6 * 3600)  # the world moves on: orders placed, shipped, delivered
            deadline = time.monotonic() + 10
            with engine.connect() as conn:
                while time.monotonic() < deadline:
                    fresh = conn.scalar(select(func.count()).where(T_CLASS.c.classified_at >= started))
                    if fresh:
                        break
                    time.sleep(0.05)
            engine.dispose()
            assert fresh, "no order was reclassified from a webhook"
            assert simulator.webhooks.counts["sent"] > 0
        finally:
            receiver.stop()
