"""The audit log against someone who can write to the database but does not hold AUDIT_KEY.

First the database's own guards (triggers refuse UPDATE, DELETE, TRUNCATE and moving the head back,
even to the application's role); then, with those switched off as the owner could, each rewrite an
attacker would try: delete the tail and move the head back, delete from the middle and recompute the
chain, truncate, change an actor. Each is reported by `verify` or by the head kept outside the database.
"""

from __future__ import annotations

import hashlib
import json
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import text
from sqlalchemy.engine import Engine
from sqlalchemy.exc import DBAPIError
from sqlmodel import Session, select

from db.models.audit import GENESIS_HASH, AuditEntry
from db.session import session_scope
from services import audit, audit_head, audit_key
from services.errors import ConfigurationError
from tests.services.audit_tamper import drop_audit_guards

T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


def _append(engine: Engine, count: int) -> None:
    with session_scope(engine) as session:
        for i in range(count):
            audit.append(
                session,
                actor="olga" if i != 2 else "mallory",
                role="ops",
                action="sign_in",
                outcome="failed" if i == 2 else "ok",
                params={"i": i},
                at=T0 + timedelta(minutes=i),
            )


def _verify(engine: Engine) -> audit.ChainReport:
    with Session(engine) as session:
        return audit.verify(session)


def _kept_head(engine: Engine) -> audit_head.SignedHead:
    with Session(engine) as session:
        return audit_head.signed_head(session)


def _expect(engine: Engine, head: audit_head.SignedHead) -> audit.ChainReport:
    with Session(engine) as session:
        return audit_head.check_expected(session, head)


@pytest.mark.parametrize(
    "statement",
    [
        "UPDATE audit_entry SET actor = 'someone' WHERE id = 3",
        "DELETE FROM audit_entry WHERE id = 6",
        "DELETE FROM audit_entry",
        "DELETE FROM audit_head",
        "UPDATE audit_head SET last_id = 4",
        "UPDATE audit_head SET last_hash = 'f' WHERE id = 1",
    ],
)
def test_the_database_refuses_rewrites(engine: Engine, statement: str) -> None:
    _append(engine, 6)
    refused = r"append-only|only moves forward|cannot be deleted"
    with pytest.raises(DBAPIError, match=refused), engine.begin() as conn:
        conn.execute(text(statement))
    assert _verify(engine).ok


def test_postgres_refuses_truncate(pg_engine: Engine) -> None:
    _append(pg_engine, 3)
    for table in ("audit_entry", "audit_head"):
        with pytest.raises(DBAPIError, match="append-only"), pg_engine.begin() as conn:
            conn.execute(text(f"TRUNCATE {table}"))
    assert _verify(pg_engine).ok


def test_delete_the_tail_and_move_the_head_back(engine: Engine) -> None:
    _append(engine, 6)
    kept = _kept_head(engine)
    drop_audit_guards(engine)
    with engine.begin() as conn:
        conn.execute(text("DELETE FROM audit_entry WHERE id > 4"))
        four = conn.execute(text("SELECT hash FROM audit_entry WHERE id = 4")).scalar_one()
        conn.execute(text("UPDATE audit_head SET last_id = 4, last_hash = :h"), {"h": four})
    report = _verify(engine)
    assert not report.ok and "signature" in (report.reason or "")
    expected = _expect(engine, kept)
    assert not expected.ok and "fewer entries" in (expected.reason or "")


def test_delete_from_the_middle_and_recompute_the_chain(engine: Engine) -> None:
    """The failed sign-in (entry 3) goes, and the rest is re-chained as well as one can without the key."""
    _append(engine, 6)
    kept = _kept_head(engine)
    drop_audit_guards(engine)
    guessed_key = b"the attacker's guess at the key, 32+ bytes long"
    with engine.begin() as conn:
        conn.execute(text("DELETE FROM audit_entry WHERE id = 3"))
        rows = conn.execute(text("SELECT * FROM audit_entry ORDER BY id")).mappings().all()
        conn.execute(text("DELETE FROM audit_entry"))
        prev = GENESIS_HASH
        for new_id, row in enumerate(rows, start=1):
            at = row["at"] if isinstance(row["at"], datetime) else datetime.fromisoformat(row["at"])
            params = row["params"] if isinstance(row["params"], dict) else json.loads(row["params"])
            fields = dict(
                id=new_id,
                at=at.replace(tzinfo=UTC) if at.tzinfo is None else at,
                actor=row["actor"],
                role=row["role"],
                action=row["action"],
                order_name=row["order_name"],
                params=params,
                outcome=row["outcome"],
                detail=row["detail"],
                prev_hash=prev,
            )
            digest = audit.entry_hash(**fields, key=guessed_key)
            conn.execute(
                text(
                    "INSERT INTO audit_entry (id, at, actor, role, action, order_name, params, outcome,"
                    " detail, prev_hash, hash) VALUES (:id, :at, :actor, :role, :action, :order_name,"
                    " :params, :outcome, :detail, :prev_hash, :hash)"
                ),
                {**fields, "at": row["at"], "params": json.dumps(params), "hash": digest},
            )
            prev = digest
        conn.execute(
            text("UPDATE audit_head SET last_id = :n, last_hash = :h, signature = :s"),
            {"n": len(rows), "h": prev, "s": audit.head_signature(guessed_key, len(rows), prev, 0)},
        )
    report = _verify(engine)
    assert not report.ok
    assert not _expect(engine, kept).ok


def test_a_downgrade_to_plain_hashes_is_caught_by_the_kept_head(engine: Engine) -> None:
    """Without the key, the best forgery is to re-chain every entry with plain SHA-256 and call them all
    'from before the key'. Inside the database that looks whole; the head kept outside does not."""
    _append(engine, 6)
    kept = _kept_head(engine)
    drop_audit_guards(engine)
    with Session(engine) as session:
        rows = session.exec(select(AuditEntry).order_by(AuditEntry.id)).all()  # type: ignore[arg-type]
        prev = GENESIS_HASH
        for row in rows:
            if row.id == 3:
                row.outcome = "ok"  # the failed sign-in becomes a success
            row.prev_hash = prev
            row.hash = prev = audit.entry_hash(
                id=row.id, at=row.at, actor=row.actor, role=row.role, action=row.action,
                order_name=row.order_name, params=row.params, outcome=row.outcome, detail=row.detail,
                prev_hash=row.prev_hash, legacy=True,
            )  # fmt: skip
        session.commit()
        session.execute(
            text("UPDATE audit_head SET last_hash = :h, legacy_until = 6, signature = NULL, key_id = NULL"),
            {"h": prev},
        )
        session.commit()
    assert _verify(engine).ok  # the documented limit of a check inside the database
    expected = _expect(engine, kept)
    assert not expected.ok and "another hash" in (expected.reason or "")


def test_truncate(engine: Engine) -> None:
    _append(engine, 4)
    kept = _kept_head(engine)
    drop_audit_guards(engine)
    with engine.begin() as conn:
        conn.execute(text("DELETE FROM audit_entry"))
    report = _verify(engine)  # the signed head still says entry 4
    assert not report.ok and "removed" in (report.reason or "")
    with engine.begin() as conn:  # and the head reset to an empty log as well
        conn.execute(
            text("UPDATE audit_head SET last_id = 0, last_hash = :g, signature = NULL, key_id = NULL"),
            {"g": GENESIS_HASH},
        )
    assert _verify(engine).ok  # inside the database an empty log looks new…
    expected = _expect(engine, kept)  # …the head kept elsewhere does not
    assert not expected.ok and "entry 4 is missing" in (expected.reason or "")


def test_change_an_actor(engine: Engine) -> None:
    _append(engine, 5)
    drop_audit_guards(engine)
    with engine.begin() as conn:
        conn.execute(text("UPDATE audit_entry SET actor = 'olga' WHERE id = 3"))
    report = _verify(engine)
    assert (report.ok, report.first_bad_id) == (False, 3)
    # recomputing that one hash as a plain SHA-256, as the log used to be, does not help
    with Session(engine) as session:
        row = session.execute(text("SELECT * FROM audit_entry WHERE id = 3")).mappings().one()
    assert hashlib.sha256(b"x").hexdigest() != row["hash"]


def test_a_kept_head_with_a_forged_signature_is_refused(engine: Engine) -> None:
    _append(engine, 3)
    kept = _kept_head(engine)
    forged = audit_head.SignedHead(2, kept.hash, kept.at, kept.signature)
    report = _expect(engine, forged)
    assert not report.ok and "signature" in (report.reason or "")
    assert _expect(engine, kept).ok


def test_another_key_is_named_as_such(engine: Engine) -> None:
    _append(engine, 2)
    with Session(engine) as session:
        report = audit.verify(session, key=b"another key entirely, also thirty-two bytes")
    assert not report.ok and "AUDIT_KEY is not the key" in (report.reason or "")


def test_outside_demo_mode_the_key_is_required(engine: Engine, monkeypatch: pytest.MonkeyPatch) -> None:
    from services.settings import get_settings

    monkeypatch.delenv("AUDIT_KEY")
    monkeypatch.setenv("DEMO_MODE", "false")
    get_settings.cache_clear()
    with pytest.raises(ConfigurationError, match="AUDIT_KEY"), session_scope(engine) as session:
        audit.append(session, actor="a", role=None, action="x", outcome="ok", at=T0)
    monkeypatch.setenv("AUDIT_KEY", "a" * 40)
    get_settings.cache_clear()
    with pytest.raises(ConfigurationError, match="low in entropy"):
        audit_key.current_key()
