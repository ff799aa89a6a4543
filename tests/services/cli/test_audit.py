"""`order-recon audit verify` / `audit export`, run as real processes against a SQLite file."""

from __future__ import annotations

import csv
import subprocess
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import text

from db.migrate import upgrade
from db.session import make_engine, session_scope
from services import audit
from tests.services.audit_tamper import drop_audit_guards
from tests.services.cli.support import run_cli

T0 = datetime(2026, 11, 20, 15, 0, tzinfo=UTC)


def run(db: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return run_cli(db, *args)


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
    rows = [r for r in csv.DictReader(out.open(newline="")) if not r["id"].startswith("#")]
    assert [(r["id"], r["actor"], r["action"], r["outcome"]) for r in rows] == [
        ("1", "olga", "sign_in", "ok"),
        ("2", "olga", "replacement.execute", "ok"),
        ("3", "ann", "replacement.execute", "denied"),
    ]
    assert "Exported 3 audit entries" in exported.stdout

    engine = make_engine(f"sqlite:///{db}")
    drop_audit_guards(engine)
    with engine.begin() as conn:  # someone turns a denied attempt into a success
        conn.execute(text("UPDATE audit_entry SET outcome = 'ok' WHERE id = 3"))
    engine.dispose()
    broken = run(db, "audit", "verify")
    assert broken.returncode == 1, broken.stdout + broken.stderr
    assert "entry 3 was changed" in broken.stdout
    assert "First bad entry: entry 3:" in broken.stdout and "actor=ann" in broken.stdout
    assert "2 entries before it are intact" in broken.stdout


def test_head_and_verify_against_a_kept_head(db: Path, tmp_path: Path) -> None:
    """`audit head` prints a signed head; after the tail is cut and the head moved back, `verify` fails,
    and `verify --expect-head` names the missing entry."""
    printed = run(db, "audit", "head")
    assert printed.returncode == 0, printed.stderr
    kept = tmp_path / "head.json"
    kept.write_text(printed.stdout)
    assert '"sequence": 3' in printed.stdout and '"signature"' in printed.stdout
    ok = run(db, "audit", "verify", "--expect-head", str(kept))
    assert ok.returncode == 0 and "kept head (entry 3) is in the log" in ok.stdout

    engine = make_engine(f"sqlite:///{db}")
    drop_audit_guards(engine)
    with engine.begin() as conn:
        conn.execute(text("DELETE FROM audit_entry WHERE id = 3"))
        two = conn.execute(text("SELECT hash FROM audit_entry WHERE id = 2")).scalar_one()
        conn.execute(text("UPDATE audit_head SET last_id = 2, last_hash = :h"), {"h": two})
    engine.dispose()
    broken = run(db, "audit", "verify")
    assert broken.returncode == 1 and "signature does not match" in broken.stdout
    bad = tmp_path / "not-a-head.json"
    bad.write_text("{}")
    refused = run(db, "audit", "verify", "--expect-head", str(bad))
    assert refused.returncode == 2 and "not an audit head" in refused.stderr


def test_export_ends_with_the_signed_head(db: Path, tmp_path: Path) -> None:
    out = tmp_path / "audit.csv"
    assert run(db, "audit", "export", "--out", str(out)).returncode == 0
    last = out.read_text().splitlines()[-1]
    assert last.startswith("# audit-head ") and '"sequence": 4' in last  # the export's own entry included
    kept = tmp_path / "from-export.json"
    kept.write_text(out.read_text())
    assert run(db, "audit", "verify", "--expect-head", str(kept)).returncode == 0
