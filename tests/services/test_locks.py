"""Named run locks: one holder at a time, across threads and processes; stale SQLite locks expire."""

from __future__ import annotations

import multiprocessing
import os
import threading
import time
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import text
from sqlalchemy.engine import Engine

from db.session import make_engine
from services.errors import ConflictError
from services.locks import LOCK_NAMESPACE, named_lock

T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


class Clock:
    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now


def test_a_second_acquirer_is_refused(engine: Engine) -> None:
    with named_lock(engine, "sync:shopify") as held:
        assert held.name == "sync:shopify"
        with (
            pytest.raises(ConflictError, match=r"^sync:shopify is already running$"),
            named_lock(engine, "sync:shopify"),
        ):
            pytest.fail("acquired a held lock")
        with named_lock(engine, "sync:shipbob"):  # another name is independent
            pass


def test_released_after_the_block_even_on_error(engine: Engine) -> None:
    with named_lock(engine, "sync:easypost"):
        pass
    with pytest.raises(RuntimeError), named_lock(engine, "sync:easypost"):
        raise RuntimeError("the sync failed")
    with named_lock(engine, "sync:easypost") as held:
        held.refresh()
        assert _advisory_locks_held(engine, "sync:easypost") in (None, 1)
    # A pooled connection that kept a PostgreSQL advisory lock would let this process re-enter it unnoticed.
    assert _advisory_locks_held(engine, "sync:easypost") in (None, 0)


def _advisory_locks_held(engine: Engine, name: str) -> int | None:
    if engine.dialect.name != "postgresql":
        return None
    with engine.connect() as conn:
        return int(
            conn.execute(
                text(
                    "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND granted"
                    " AND classid = CAST(:namespace AS oid) AND objid = CAST(hashtext(:name) AS oid)"
                    " AND objsubid = 2"
                ),
                {"namespace": LOCK_NAMESPACE, "name": name},
            ).scalar_one()
        )


def test_held_across_threads(engine: Engine) -> None:
    acquired, release = threading.Event(), threading.Event()

    def holder() -> None:
        with named_lock(engine, "sync:bulk"):
            acquired.set()
            release.wait(10)

    thread = threading.Thread(target=holder)
    thread.start()
    try:
        assert acquired.wait(10)
        with pytest.raises(ConflictError), named_lock(engine, "sync:bulk"):
            pass
    finally:
        release.set()
        thread.join()
    with named_lock(engine, "sync:bulk"):
        pass


def test_waiting_acquirer_gets_it_when_released(engine: Engine) -> None:
    acquired = threading.Event()

    def holder() -> None:
        with named_lock(engine, "sync:wait"):
            acquired.set()
            time.sleep(0.5)

    thread = threading.Thread(target=holder)
    thread.start()
    assert acquired.wait(10)
    started = time.monotonic()
    with named_lock(engine, "sync:wait", wait=True, timeout_s=10):
        assert time.monotonic() - started >= 0.2
    thread.join()


def test_waiting_gives_up_after_the_timeout(engine: Engine) -> None:
    with named_lock(engine, "sync:slow"):
        started = time.monotonic()
        with pytest.raises(ConflictError), named_lock(engine, "sync:slow", wait=True, timeout_s=0.5):
            pass
        assert 0.4 <= time.monotonic() - started < 5


def _hold_in_process(url: str, schema: str | None, name: str, acquired: Any, release: Any) -> None:
    kwargs: dict[str, Any] = {"connect_args": {"options": f"-csearch_path={schema}"}} if schema else {}
    engine = make_engine(url, **kwargs)
    with named_lock(engine, name):
        acquired.set()
        release.wait(30)
    engine.dispose()


def _process_target(engine: Engine) -> tuple[str, str | None]:
    if engine.dialect.name != "postgresql":
        return engine.url.render_as_string(hide_password=False), None
    with engine.connect() as conn:
        schema = str(conn.execute(text("SELECT current_schema()")).scalar_one())
    return os.environ["TEST_DATABASE_URL"], schema


def test_held_across_processes(engine: Engine) -> None:
    context = multiprocessing.get_context("spawn")
    acquired, release = context.Event(), context.Event()
    url, schema = _process_target(engine)
    process = context.Process(target=_hold_in_process, args=(url, schema, "sync:shopify", acquired, release))
    process.start()
    try:
        assert acquired.wait(60), "the other process did not take the lock"
        with pytest.raises(ConflictError), named_lock(engine, "sync:shopify"):
            pass
    finally:
        release.set()
        process.join(60)
    assert process.exitcode == 0
    with named_lock(engine, "sync:shopify"):
        pass


def test_postgres_lock_dies_with_its_process(pg_engine: Engine) -> None:
    context = multiprocessing.get_context("spawn")
    acquired, release = context.Event(), context.Event()
    url, schema = _process_target(pg_engine)
    process = context.Process(target=_hold_in_process, args=(url, schema, "sync:crash", acquired, release))
    process.start()
    assert acquired.wait(60)
    process.kill()
    process.join(30)
    with named_lock(pg_engine, "sync:crash", wait=True, timeout_s=10):
        pass


def test_a_stale_sqlite_lock_expires(sqlite_engine: Engine) -> None:
    clock = Clock(T0)
    crashed = named_lock(sqlite_engine, "sync:shopify", clock=clock)
    stale = crashed.__enter__()  # a holder that never exits
    clock.now = T0 + timedelta(minutes=14, seconds=59)
    with pytest.raises(ConflictError), named_lock(sqlite_engine, "sync:shopify", clock=clock):
        pass
    clock.now = T0 + timedelta(minutes=15)
    with named_lock(sqlite_engine, "sync:shopify", clock=clock):
        with pytest.raises(ConflictError, match="taken over"):
            stale.refresh()
        crashed.__exit__(None, None, None)  # the old holder's release must not free the new holder's lock
        with pytest.raises(ConflictError), named_lock(sqlite_engine, "sync:shopify", clock=clock):
            pass


def test_refresh_keeps_a_long_sqlite_run_locked(sqlite_engine: Engine) -> None:
    clock = Clock(T0)
    with named_lock(sqlite_engine, "sync:bulk", clock=clock) as held:
        clock.now = T0 + timedelta(minutes=10)
        held.refresh()
        clock.now = T0 + timedelta(minutes=20)
        with pytest.raises(ConflictError), named_lock(sqlite_engine, "sync:bulk", clock=clock):
            pass
        clock.now = T0 + timedelta(minutes=25)
        with named_lock(sqlite_engine, "sync:bulk", clock=clock):
            pass
