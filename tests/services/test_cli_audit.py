"""`order-recon audit verify` / `audit export`, run as real processes against a SQLite file."""

from __future__ import annotations

import csv
import os
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import text

from db.migrate import upgrade
from db.session import make_engine, session_scope
from services import audit

ROOT = Path(__file__).resolve().parents[2]
T0 = datetime(2026, 11, 20, 15, 0, tzinfo=UTC)


def run(db: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "DATABASE_URL": f"sqlite:///{db}", "PYTHONPATH": str(ROOT)}
    env.pop("ORDER_RECON_CONFIG", None)
    return subprocess.run(
        [sys.executable, "-m", "services.cli", *args],
        capture_output=True,
        text=True,
        env=env,
        cwd=db.parent,  # not the checkout: its `.streamlit/secrets.toml` is the developer's
        timeout=120,
    )


@pytest.fixture
def db(tmp_path: Path) -> Path:
    path = tmp_path / "audit.db"
    engine = make_engine(f"sqlite:///{path}")
    upgrade(engine)
    with session_scope(engine) as session:
        for i, (actor, action, outcome) in enumerate(
            [
                ("olga", "sign_in", "ok"),
                ("olga", "replacement.execute", "ok"),
                ("ann", "replacement.execute", "denied"),
            ]
        ):
            audit.append(
                session,
                actor=actor,
                role="ops",
                action=action,
                outcome=outcome,
                order="#2006",
                params={"i": i},
                at=T0 + timedelta(minutes=i),
            )
    engine.dispose()
    return path


def test_verify_export_and_an_edited_row(db: Path, tmp_path: Path) -> None:
    """Three processes: verify (intact), export (which audits itself), verify after a row was edited."""
    intact = run(db, "audit", "verify")
    assert intact.returncode == 0, intact.stderr
    assert "intact: 3 entries" in intact.stdout

    out = tmp_path / "audit.csv"
    exported = run(db, "audit", "export", "--out", str(out))
    assert exported.returncode == 0, exported.stderr
    rows = list(csv.DictReader(out.open(newline="")))
    assert [(r["id"], r["actor"], r["action"], r["outcome"]) for r in rows] == [
        ("1", "olga", "sign_in", "ok"),
        ("2", "olga", "replacement.execute", "ok"),
        ("3", "ann", "replacement.execute", "denied"),
    ]
    assert "Exported 3 audit entries" in exported.stdout

    engine = make_engine(f"sqlite:///{db}")
    with engine.begin() as conn:  # someone turns a denied attempt into a success
        conn.execute(text("UPDATE audit_entry SET outcome = 'ok' WHERE id = 3"))
    engine.dispose()
    broken = run(db, "audit", "verify")
    assert broken.returncode == 1, broken.stdout + broken.stderr
    assert "entry 3 was changed" in broken.stdout
    assert "First bad entry: entry 3:" in broken.stdout and "actor=ann" in broken.stdout
    assert "2 entries before it are intact" in broken.stdout
