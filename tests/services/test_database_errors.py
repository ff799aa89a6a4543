"""Database failures: a real PostgreSQL deadlock is retried around a record that must land, and a
locked or deadlocked database is worded as one line (CLI and console)."""

from __future__ import annotations

import threading
import time

import pytest
from sqlalchemy import text
from sqlalchemy.engine import Engine
from sqlalchemy.exc import OperationalError

from services.database_errors import as_database_error, is_retryable, retry_on_conflict


def _rows(engine: Engine) -> None:
    with engine.begin() as conn:
        for key in ("a", "b"):
            conn.execute(text("INSERT INTO app_state (key, value) VALUES (:k, '0')"), {"k": key})


def _crossed(engine: Engine, first: str, second: str, both_hold: threading.Barrier, pause: float = 0) -> None:
    with engine.begin() as conn:
        conn.execute(text("UPDATE app_state SET value = value || '1' WHERE key = :k"), {"k": first})
        both_hold.wait(10)
        time.sleep(pause)
        conn.execute(text("UPDATE app_state SET value = value || '1' WHERE key = :k"), {"k": second})


def test_a_deadlocked_record_is_run_again_and_lands(pg_engine: Engine) -> None:
    """The record waits first, so PostgreSQL's deadlock check (after `deadlock_timeout`) picks it as the
    victim; `retry_on_conflict` runs it again once the other transaction is through."""
    _rows(pg_engine)
    both_hold = threading.Barrier(2)
    attempts: list[int] = []
    other = threading.Thread(target=_crossed, args=(pg_engine, "b", "a", both_hold, 0.3))

    def record() -> None:
        attempts.append(1)
        _crossed(pg_engine, "a", "b", both_hold if len(attempts) == 1 else threading.Barrier(1))

    other.start()
    retry_on_conflict(record)
    other.join(30)
    assert len(attempts) == 2  # deadlocked once, then landed
    with pg_engine.connect() as conn:
        values = dict(
            conn.execute(text("SELECT key, value FROM app_state WHERE key IN ('a', 'b')")).tuples().all()
        )
    assert values == {"a": "011", "b": "011"}  # both transactions committed, the record once


def test_a_deadlock_is_worded_for_people(pg_engine: Engine) -> None:
    _rows(pg_engine)
    both_hold = threading.Barrier(2)
    caught: list[BaseException] = []

    def one(first: str, second: str) -> None:
        try:
            _crossed(pg_engine, first, second, both_hold)
        except OperationalError as exc:
            caught.append(exc)

    threads = [threading.Thread(target=one, args=pair) for pair in (("a", "b"), ("b", "a"))]  # crossed
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    [deadlock] = caught
    assert is_retryable(deadlock)
    assert str(as_database_error(deadlock)).startswith("database: the database stopped a deadlock")


@pytest.mark.parametrize(
    ("said", "starts"),
    [
        ("database is locked", "database: the database is locked"),
        ("attempt to write a readonly database", "database: the database is read-only"),
    ],
)
def test_sqlite_failures_are_worded_for_people(said: str, starts: str) -> None:
    import sqlite3

    error = OperationalError("UPDATE x", {}, sqlite3.OperationalError(said))
    assert str(as_database_error(error)).startswith(starts)
    assert not is_retryable(error)
