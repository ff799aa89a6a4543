"""A sync killed (SIGKILL) or stopped (SIGTERM) part-way, on SQLite and PostgreSQL: nothing of it is
left running, its lock dies with it, and the next sync starts at once and resumes the pass."""

from __future__ import annotations

import os
import queue
import signal
import subprocess
import threading
import time
from collections.abc import Iterator

import pytest
from sqlalchemy import select
from sqlalchemy.engine import Engine

from services.sync.runs import T_RUN
from tests.services.sources.simulator import Sim, simulator
from tests.services.sync_processes import cli_env, database_url, group_members, kill_group, start_cli

pytestmark = pytest.mark.timeout(300)


@pytest.fixture(scope="module")
def module_sim() -> Iterator[Sim]:
    with simulator(orders=1200) as running:
        yield running


@pytest.fixture
def sim(module_sim: Sim) -> Iterator[Sim]:
    module_sim.faults(latency_ms=250)  # a page every quarter second or so: time to stop it part-way
    yield module_sim
    module_sim.clear_faults()


def _lines(stream: object) -> queue.Queue[str]:
    lines: queue.Queue[str] = queue.Queue()

    def read() -> None:
        for line in stream:  # type: ignore[attr-defined]
            lines.put(line)

    threading.Thread(target=read, daemon=True).start()
    return lines


def _started(engine: Engine, sim: Sim) -> tuple[subprocess.Popen[str], queue.Queue[str], dict[str, str]]:
    """A full sync of the store, once it has committed its first page."""
    env = cli_env(sim.running.settings(), database_url(engine))
    process = start_cli(["sync", "--source", "shopify", "--full"], env)
    err = _lines(process.stderr)
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        try:
            line = err.get(timeout=1)
        except queue.Empty:
            assert process.poll() is None, "the sync ended before its first page"
            continue
        if line.startswith("shopify: 1 page(s)"):
            return process, err, env
    raise AssertionError("no page was committed within 2 minutes")


def _runs(engine: Engine) -> list[tuple[str, str | None]]:
    with engine.connect() as conn:
        return [tuple(r) for r in conn.execute(select(T_RUN.c.status, T_RUN.c.error).order_by(T_RUN.c.id))]  # type: ignore[misc]


def _next_sync(env: dict[str, str], sim: Sim) -> str:
    sim.clear_faults()
    started = time.monotonic()
    process = start_cli(["sync", "--source", "shopify"], env)
    out, err = process.communicate(timeout=120)
    assert process.returncode == 0, err
    assert "another sync" not in out + err
    assert time.monotonic() - started < 60  # it was not kept waiting on the dead run's lock
    return out


def test_a_killed_sync_leaves_nothing_running_and_the_next_one_starts_at_once(
    engine: Engine, sim: Sim
) -> None:
    process, _, env = _started(engine, sim)
    pgid = os.getpgid(process.pid)
    try:
        process.kill()
        process.wait(30)
        time.sleep(0.5)
        assert group_members(pgid) == []  # no helper outlives it, holding its connections and lock
    finally:
        kill_group(pgid)
    out = _next_sync(env, sim)
    assert "shopify   ok     full" in out  # a bulk pass has no cursor to resume: it starts over
    statuses = _runs(engine)
    assert statuses[0] == ("failed", "interrupted: the process stopped before the run finished")
    assert statuses[-1] == ("ok", None)


def test_sigterm_abandons_the_page_marks_the_run_and_releases_the_lock(engine: Engine, sim: Sim) -> None:
    process, err, env = _started(engine, sim)
    pgid = os.getpgid(process.pid)
    try:
        process.send_signal(signal.SIGTERM)
        assert process.wait(60) == 143
        time.sleep(0.2)
        rest = "".join(err.get(timeout=5) for _ in range(err.qsize()))
        assert "stopped by SIGTERM" in rest and "Traceback" not in rest
        assert group_members(pgid) == []
    finally:
        kill_group(pgid)
    assert _runs(engine) == [("failed", "Terminated: stopped by SIGTERM")]
    out = _next_sync(env, sim)
    assert "shopify   ok     full" in out  # a bulk pass has no cursor to resume: it starts over
