"""Named run locks: one holder at a time, across threads and processes; a lock dies with its process."""

from __future__ import annotations

import multiprocessing
import os
import threading
import time
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import text
from sqlalchemy.engine import Engine

from db.session import make_engine
from services.errors import ConflictError
from services.locks import LOCK_NAMESPACE, named_lock


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
                    " AND classid = CAST(:namespace AS oid)"
                    " AND objid = CAST(hashtext(current_schema() || ':' || :name) AS oid)"
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
    acquired, releasing = threading.Event(), threading.Event()

    def holder() -> None:
        with named_lock(engine, "sync:wait"):
            acquired.set()
            time.sleep(0.5)
            releasing.set()  # the last thing done while holding it

    thread = threading.Thread(target=holder)
    thread.start()
    assert acquired.wait(10)
    with named_lock(engine, "sync:wait", wait=True, timeout_s=10):
        assert releasing.is_set()  # an order, not a duration: holds however loaded the machine is
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


def test_a_lock_dies_with_its_process(engine: Engine) -> None:
    """kill -9 skips every cleanup: the next holder must not wait for an expiry (SQLite's lock is the
    file's, PostgreSQL's the session's)."""
    context = multiprocessing.get_context("spawn")
    acquired, release = context.Event(), context.Event()
    url, schema = _process_target(engine)
    process = context.Process(target=_hold_in_process, args=(url, schema, "sync:crash", acquired, release))
    process.start()
    assert acquired.wait(60)
    with pytest.raises(ConflictError), named_lock(engine, "sync:crash"):
        pass
    process.kill()
    process.join(30)
    with named_lock(engine, "sync:crash", wait=True, timeout_s=2):
        pass


def test_a_sqlite_lock_is_a_file_beside_the_database(sqlite_engine: Engine) -> None:
    database = Path(str(sqlite_engine.url.database))
    with named_lock(sqlite_engine, "sync:shopify"):
        lock = database.with_name(f"{database.name}.sync_shopify.lock")
        assert lock.is_file() and str(os.getpid()) in lock.read_text()
