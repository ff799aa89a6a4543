"""Exactly one request reaches the target whatever the concurrency; a reservation left by a killed process is
settled by reading the target back, never by sending again."""

from __future__ import annotations

import multiprocessing
import os
import signal
import sys
import threading
import time
import types
from datetime import timedelta
from typing import Any

import httpx
import pytest
from sqlalchemy import text
from sqlalchemy.engine import Engine

from services import fixes
from services.errors import ActionBlocked, ConflictError, StalePlanError
from services.fixes import records
from tests.services.fixes.support import ADMIN, OPS, World, audit_rows, fix_rows, sim
from tests.services.sources.simulator import Sim

__all__ = ["sim"]
pytestmark = pytest.mark.timeout(240)
LOSERS = (ConflictError, ActionBlocked, StalePlanError)


def _together(work: list[Any]) -> list[Any]:
    outcomes: list[Any] = [None] * len(work)

    def run(index: int) -> None:
        try:
            outcomes[index] = work[index]()
        except Exception as exc:  # compared below
            outcomes[index] = exc

    threads = [threading.Thread(target=run, args=(i,)) for i in range(len(work))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    return outcomes


@pytest.mark.parametrize("kind", ["cancel-at-3pl", "push-tracking"])
def test_two_operators_at_once_send_one_request(
    engine: Engine, sim: Sim, kind: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Both pass every check before either reserves (a barrier in front of the reservation): the database decides."""
    world = World(engine, sim)
    plan = world.dry_run(kind, world.pick(kind))
    barrier = threading.Barrier(2, timeout=60)
    reserve = records.reserve

    def reserve_together(*args: Any, **kwargs: Any) -> Any:
        barrier.wait()
        return reserve(*args, **kwargs)

    monkeypatch.setattr(records, "reserve", reserve_together)
    before = world.calls(kind)
    outcomes = _together([lambda actor=actor: world.execute(plan, actor=actor) for actor in (OPS, ADMIN)])
    done = [o for o in outcomes if isinstance(o, fixes.FixResult)]
    refused = [o for o in outcomes if isinstance(o, ConflictError)]
    assert len(done) == 1 and len(refused) == 1, outcomes
    assert "already" in str(refused[0])
    assert world.calls(kind) - before == 1
    [row] = fix_rows(engine)
    assert row.status == "done"


def test_a_double_click_sends_one_request(sqlite_engine: Engine, sim: Sim) -> None:
    world = World(sqlite_engine, sim)
    plan = world.dry_run("send-to-3pl", world.pick("send-to-3pl"))
    before = world.calls("send-to-3pl")
    outcomes = _together([lambda: world.execute(plan)] * 3)
    assert len([o for o in outcomes if isinstance(o, fixes.FixResult)]) == 1, outcomes
    assert all(isinstance(o, (fixes.FixResult, *LOSERS)) for o in outcomes), outcomes
    assert world.calls("send-to-3pl") - before == 1


# ---------------------------------------------------------------- processes


class Hang(httpx.BaseTransport):
    """Sends everything; the fix's own call is held (after reaching the target when `forward`), forever."""

    def __init__(self, forward: bool) -> None:
        self.inner, self.forward = httpx.HTTPTransport(), forward

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        if request.method == "POST" and request.url.path.endswith(":cancel"):
            if self.forward:
                self.inner.handle_request(request).read()
            time.sleep(3600)  # killed here
        return self.inner.handle_request(request)


def _execute_in_process(
    url: str,
    schema: str | None,
    sources: dict[str, str],
    order: str,
    fingerprint: str,
    now: Any,
    **options: Any,
) -> None:
    from db.session import make_engine
    from services.permissions import Actor, Role
    from services.settings import Settings
    from tests.services.conftest import register_actors

    if schema:
        engine = make_engine(url, connect_args={"options": f"-csearch_path={schema}"})
    else:
        engine = make_engine(url)
    settings = Settings(database_url=url, **{k.lower(): v for k, v in sources.items()})
    operator = Actor(f"op{os.getpid()}", Role.OPS)
    register_actors(engine, (operator,))  # an ops user of this database
    barrier, results, hang = options.get("barrier"), options.get("results"), options.get("hang")
    if barrier is not None:
        barrier.wait()
    try:
        result = fixes.execute(
            engine,
            settings,
            settings.policy(),
            fixes.fix_for("cancel-at-3pl"),
            order=order,
            fingerprint=fingerprint,
            confirmation=order,
            actor=operator,
            clock=lambda: now,
            transport=None if hang is None else Hang(hang == "after_send"),
        )
        outcome: tuple[str, str] = ("done", result.record.status)
    except Exception as exc:
        outcome = (type(exc).__name__, str(exc))
    if results is not None:
        results.put(outcome)
    engine.dispose()


def _where(engine: Engine) -> tuple[str, str | None]:
    if engine.dialect.name != "postgresql":
        return str(engine.url), None
    with engine.connect() as conn:
        schema = str(conn.execute(text("SELECT current_schema()")).scalar_one())
    return os.environ["TEST_DATABASE_URL"], schema


def test_two_processes_send_one_request(engine: Engine, sim: Sim, monkeypatch: pytest.MonkeyPatch) -> None:
    # An earlier AppTest leaves `__main__` = Home.py, which spawn would run again in each child.
    monkeypatch.setitem(sys.modules, "__main__", types.ModuleType("__main__"))
    world = World(engine, sim)
    plan = world.dry_run("cancel-at-3pl", world.pick("cancel-at-3pl"))
    url, schema = _where(engine)
    context = multiprocessing.get_context("spawn")
    barrier, results = context.Barrier(2), context.Queue()
    before = world.calls("cancel-at-3pl")
    processes = [
        context.Process(
            target=_execute_in_process,
            args=(url, schema, sim.running.settings(), plan.order, plan.fingerprint, world.now),
            kwargs={"barrier": barrier, "results": results},
        )
        for _ in range(2)
    ]
    for process in processes:
        process.start()
    outcomes = sorted(results.get(timeout=180)[0] for _ in processes)
    for process in processes:
        process.join(timeout=30)
    assert outcomes in (["ConflictError", "done"], ["ActionBlocked", "done"], ["StalePlanError", "done"]), (
        outcomes
    )
    assert world.calls("cancel-at-3pl") - before == 1
    assert [r.status for r in fix_rows(engine)] == ["done"]


def _kill_after_claim(world: World, plan: fixes.FixPlan, hang: str) -> None:
    """Start an execution in a process, wait until its reservation is in and (`after_send`) its call arrived,
    then kill it: the reservation stays `pending`."""
    url, schema = _where(world.engine)
    before = world.calls("cancel-at-3pl")
    context = multiprocessing.get_context("spawn")
    process = context.Process(
        target=_execute_in_process,
        args=(url, schema, world.sim.running.settings(), plan.order, plan.fingerprint, world.now),
        kwargs={"hang": hang},
    )
    process.start()
    deadline = time.monotonic() + 120
    while not (fix_rows(world.engine) and (hang != "after_send" or world.calls("cancel-at-3pl") > before)):
        assert time.monotonic() < deadline and process.is_alive()
        time.sleep(0.2)
    assert process.pid is not None
    os.kill(process.pid, signal.SIGKILL)
    process.join(timeout=30)
    [row] = fix_rows(world.engine)
    assert row.status == "pending"


@pytest.mark.parametrize("hang", ["before_send", "after_send"])
def test_a_kill_between_claim_and_answer_is_settled_by_reading_back(
    engine: Engine, sim: Sim, hang: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(sys.modules, "__main__", types.ModuleType("__main__"))
    world = World(engine, sim)
    plan = world.dry_run("cancel-at-3pl", world.pick("cancel-at-3pl"))
    before = world.calls("cancel-at-3pl")
    _kill_after_claim(world, plan, hang)
    sent = world.calls("cancel-at-3pl") - before
    assert sent == (1 if hang == "after_send" else 0)
    # Pending: a new execution is refused, nothing is sent.
    with pytest.raises((ConflictError, ActionBlocked, StalePlanError)):
        world.execute(plan)

    fix = fixes.fix_for("cancel-at-3pl")
    [settled] = fixes.settle(
        engine,
        world.settings,
        world.policy,
        fix,
        order=plan.order,
        actor=OPS,
        clock=world.clock,
        stale_after=timedelta(0),
    )
    assert world.calls("cancel-at-3pl") - before == sent  # settling never sends
    if hang == "after_send":
        assert (settled.status, settled.resolution) == ("done", "settled")
    else:
        assert settled.status == "failed"
        again = world.execute(plan)  # the failed reservation is taken again; now the one request goes out
        assert again.record.status == "done"
        assert world.calls("cancel-at-3pl") - before == 1
    assert [a.outcome for a in audit_rows(engine, "fix.settle")] == ["ok"]
