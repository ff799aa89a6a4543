"""The audit log: chaining, tamper detection, concurrent appends, filters and CSV export."""

from __future__ import annotations

import csv
import io
import itertools
import multiprocessing
import os
import threading
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import func, select, text
from sqlalchemy.engine import Engine
from sqlmodel import Session

from db.models.audit import GENESIS_HASH, AuditEntry
from db.session import make_engine, session_scope
from services import audit
from services.errors import InputError
from tests.services.audit_tamper import drop_audit_guards

T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


def _append_many(engine: Engine, count: int, *, actor: str = "olga", start: datetime = T0) -> None:
    with session_scope(engine) as session:
        for i in range(count):
            audit.append(
                session,
                actor=actor,
                role="ops",
                action="order.sync" if i % 2 == 0 else "replacement.execute",
                outcome="ok" if i % 3 else "failed",
                order=f"#{1000 + i}",
                params={"i": i, "note": "ünïcode", "nested": {"b": 2, "a": [1, 2]}},
                detail=f"step {i}",
                at=start + timedelta(minutes=i),
            )


def _verify(engine: Engine) -> audit.ChainReport:
    with Session(engine) as session:
        return audit.verify(session)


def _schema(engine: Engine) -> str | None:
    if engine.dialect.name != "postgresql":
        return None
    with engine.connect() as conn:
        return str(conn.execute(text("SELECT current_schema()")).scalar_one())


def test_appended_entries_chain_and_verify(engine: Engine) -> None:
    _append_many(engine, 7)
    report = _verify(engine)
    assert report == audit.ChainReport(ok=True, checked=7, first_bad_id=None, reason=None)
    with Session(engine) as session:
        entries = list(reversed(audit.list_entries(session)))
    assert [e.id for e in entries] == list(range(1, 8))
    assert entries[0].prev_hash == GENESIS_HASH
    assert all(later.prev_hash == earlier.hash for earlier, later in itertools.pairwise(entries))
    assert all(len(e.hash) == 64 and int(e.hash, 16) >= 0 for e in entries)
    assert entries[3].params == {"i": 3, "note": "ünïcode", "nested": {"a": [1, 2], "b": 2}}
    assert entries[3].at == T0 + timedelta(minutes=3)


def test_empty_log_verifies(engine: Engine) -> None:
    assert _verify(engine) == audit.ChainReport(True, 0)


def test_params_are_stored_in_the_form_that_is_hashed(engine: Engine) -> None:
    with session_scope(engine) as session:
        audit.append(
            session,
            actor="admin",
            role="admin",
            action="policy.edit",
            outcome="ok",
            params={"effective": T0, "day": T0.date(), "tags": {"b", "a"}},
            at=T0,
        )
    with Session(engine) as session:
        [entry] = audit.list_entries(session)
    assert entry.params == {
        "day": "2026-03-02",
        "effective": "2026-03-02T09:00:00.000000+00:00",
        "tags": ["a", "b"],
    }
    assert _verify(engine).ok


@pytest.mark.parametrize(
    "tamper",
    [
        "UPDATE audit_entry SET params = '{\"i\": 99}' WHERE id = 4",
        "UPDATE audit_entry SET actor = 'mallory' WHERE id = 4",
        "UPDATE audit_entry SET outcome = 'ok' WHERE id = 4",
        "UPDATE audit_entry SET detail = NULL WHERE id = 4",
        "UPDATE audit_entry SET order_name = '#1' WHERE id = 4",
    ],
)
def test_an_edited_row_is_reported(engine: Engine, tamper: str) -> None:
    _append_many(engine, 6)
    drop_audit_guards(engine)
    with engine.begin() as conn:
        assert conn.execute(text(tamper)).rowcount == 1
    report = _verify(engine)
    assert (report.ok, report.first_bad_id, report.checked) == (False, 4, 3)
    assert report.reason and "4" in report.reason


def test_an_edited_timestamp_is_reported(engine: Engine) -> None:
    _append_many(engine, 6)
    drop_audit_guards(engine)
    with Session(engine) as session:
        session.execute(
            AuditEntry.__table__.update()  # type: ignore[attr-defined]
            .where(AuditEntry.__table__.c.id == 2)  # type: ignore[attr-defined]
            .values(at=T0 + timedelta(seconds=1))
        )
        session.commit()
    assert (_verify(engine).ok, _verify(engine).first_bad_id) == (False, 2)


def test_a_deleted_middle_row_is_reported(engine: Engine) -> None:
    _append_many(engine, 6)
    drop_audit_guards(engine)
    with engine.begin() as conn:
        conn.execute(text("DELETE FROM audit_entry WHERE id = 3"))
    report = _verify(engine)
    assert not report.ok and report.first_bad_id == 4
    assert report.reason and "3" in report.reason


def test_a_deleted_last_row_is_reported(engine: Engine) -> None:
    _append_many(engine, 6)
    drop_audit_guards(engine)
    with engine.begin() as conn:
        conn.execute(text("DELETE FROM audit_entry WHERE id = 6"))
    report = _verify(engine)
    assert (report.ok, report.checked, report.first_bad_id) == (False, 5, 6)


def test_a_relinked_row_is_reported(engine: Engine) -> None:
    """Rewriting a row with a fresh, self-consistent hash still breaks the link of the row after it."""
    _append_many(engine, 5)
    drop_audit_guards(engine)
    with Session(engine) as session:
        row = session.get(AuditEntry, 2)
        assert row is not None
        forged = audit.entry_hash(
            id=2,
            at=row.at,
            actor="mallory",
            role=row.role,
            action=row.action,
            order_name=row.order_name,
            params=row.params,
            outcome=row.outcome,
            detail=row.detail,
            prev_hash=row.prev_hash,
        )
    with engine.begin() as conn:
        conn.execute(text("UPDATE audit_entry SET actor = 'mallory', hash = :h WHERE id = 2"), {"h": forged})
    report = _verify(engine)
    assert (report.ok, report.first_bad_id) == (False, 3)


def test_an_inserted_row_is_reported(engine: Engine) -> None:
    _append_many(engine, 3)
    drop_audit_guards(engine)
    with Session(engine) as session:
        last = session.get(AuditEntry, 3)
        assert last is not None
        session.add(
            AuditEntry(
                id=4,
                at=T0,
                actor="mallory",
                role="admin",
                action="user.create",
                outcome="ok",
                prev_hash=last.hash,
                hash="f" * 64,
            )
        )
        session.commit()
    report = _verify(engine)
    assert (report.ok, report.first_bad_id) == (False, 4)


def test_a_rolled_back_append_leaves_the_chain_intact(engine: Engine) -> None:
    _append_many(engine, 2)
    with Session(engine) as session:
        audit.append(session, actor="olga", role="ops", action="order.sync", outcome="ok", at=T0)
        session.rollback()
    _append_many(engine, 2)
    report = _verify(engine)
    assert report.ok and report.checked == 4


def test_append_refuses_bad_input(engine: Engine) -> None:
    with Session(engine) as session:
        with pytest.raises(InputError):
            audit.append(session, actor="a", role=None, action="x", outcome="ok", at=T0.replace(tzinfo=None))
        with pytest.raises(InputError):
            audit.append(
                session, actor="a", role=None, action="x", outcome="ok", params={"f": object()}, at=T0
            )
        with pytest.raises(InputError):
            audit.append(session, actor="", role=None, action="x", outcome="ok", at=T0)
        with pytest.raises(InputError):
            audit.append(session, actor="a", role=None, action="x" * 65, outcome="ok", at=T0)


def test_concurrent_appends_from_threads_chain(engine: Engine) -> None:
    threads, per_thread = 4, 15
    barrier = threading.Barrier(threads)
    errors: list[BaseException] = []

    def worker(n: int) -> None:
        try:
            barrier.wait()
            for i in range(per_thread):
                with session_scope(engine) as session:
                    audit.append(
                        session,
                        actor=f"t{n}",
                        role="ops",
                        action="order.sync",
                        outcome="ok",
                        params={"i": i},
                        at=T0,
                    )
        except BaseException as exc:  # surfaced below
            errors.append(exc)

    pool = [threading.Thread(target=worker, args=(n,)) for n in range(threads)]
    for t in pool:
        t.start()
    for t in pool:
        t.join()
    assert errors == []
    report = _verify(engine)
    assert report.ok and report.checked == threads * per_thread
    with Session(engine) as session:
        for n in range(threads):
            assert audit.count_entries(session, actor=f"t{n}") == per_thread


def _append_in_process(url: str, schema: str | None, label: str, count: int, barrier: Any) -> None:
    kwargs: dict[str, Any] = {"connect_args": {"options": f"-csearch_path={schema}"}} if schema else {}
    engine = make_engine(url, **kwargs)
    barrier.wait()
    for i in range(count):
        with session_scope(engine) as session:
            audit.append(
                session, actor=label, role="ops", action="order.sync", outcome="ok", params={"i": i}, at=T0
            )
    engine.dispose()


def test_concurrent_appends_from_processes_chain(pg_engine: Engine) -> None:
    url = os.environ["TEST_DATABASE_URL"]
    context = multiprocessing.get_context("spawn")
    barrier = context.Barrier(2)
    processes = [
        context.Process(target=_append_in_process, args=(url, _schema(pg_engine), f"p{n}", 25, barrier))
        for n in range(2)
    ]
    for p in processes:
        p.start()
    for p in processes:
        p.join(timeout=120)
    assert [p.exitcode for p in processes] == [0, 0]
    report = _verify(pg_engine)
    assert report.ok and report.checked == 50
    with Session(pg_engine) as session:
        assert audit.count_entries(session, actor="p0") == audit.count_entries(session, actor="p1") == 25


def test_list_and_count_filters(engine: Engine) -> None:
    _append_many(engine, 6, actor="olga")
    _append_many(engine, 3, actor="ann", start=T0 + timedelta(hours=1))
    with Session(engine) as session:
        newest_first = audit.list_entries(session)
        assert [e.id for e in newest_first] == list(range(9, 0, -1))
        by_ann = audit.list_entries(session, actor="ann")
        assert {e.actor for e in by_ann} == {"ann"} and len(by_ann) == 3
        assert audit.count_entries(session, action="order.sync") == 5
        assert [e.order_name for e in audit.list_entries(session, order="#1002")] == ["#1002", "#1002"]
        assert audit.count_entries(session, outcome="failed") == 2 + 1
        window = audit.list_entries(session, since=T0 + timedelta(minutes=2), until=T0 + timedelta(minutes=4))
        assert [e.order_name for e in window] == ["#1003", "#1002"]
        assert (
            audit.count_entries(session, since=T0 + timedelta(minutes=2), until=T0 + timedelta(minutes=4))
            == 2
        )
        assert audit.count_entries(session, actor="olga", outcome="ok", action="replacement.execute") == 2
        page = audit.list_entries(session, limit=4, offset=4)
        assert [e.id for e in page] == [5, 4, 3, 2]
        assert audit.count_entries(session, actor="nobody") == 0


def test_export_csv_has_header_and_rows(engine: Engine, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(audit, "PAGE_SIZE", 2)  # several pages
    _append_many(engine, 5)
    with session_scope(engine) as session:
        audit.append(session, actor='=HYPERLINK("x")', role=None, action="sign_in", outcome="failed", at=T0)
    out = io.StringIO()
    with Session(engine) as session:
        written = audit.export_csv(session, out)
        assert audit.export_csv(session, io.StringIO(), actor="olga", action="order.sync") == 3
    rows = list(csv.reader(io.StringIO(out.getvalue())))
    assert rows[0] == list(audit.CSV_COLUMNS)
    assert written == len(rows) - 1 == 6
    assert [r[0] for r in rows[1:]] == ["1", "2", "3", "4", "5", "6"]
    first = dict(zip(rows[0], rows[1], strict=True))
    assert first["actor"] == "olga" and first["order"] == "#1000" and first["outcome"] == "failed"
    assert first["at"] == "2026-03-02T09:00:00.000000+00:00"
    assert first["params"] == '{"i":0,"nested":{"a":[1,2],"b":2},"note":"ünïcode"}'
    assert first["prev_hash"] == GENESIS_HASH and len(first["hash"]) == 64
    assert rows[6][2].startswith("'=")  # a formula typed as a username is not run by a spreadsheet


def test_there_are_no_update_or_delete_functions() -> None:
    assert not {n for n in audit.__all__ if n.startswith(("update", "delete", "edit", "remove", "truncate"))}


def test_count_matches_rows(engine: Engine) -> None:
    _append_many(engine, 4)
    with Session(engine) as session:
        assert audit.count_entries(session) == 4
        assert session.execute(select(func.count()).select_from(AuditEntry)).scalar_one() == 4
