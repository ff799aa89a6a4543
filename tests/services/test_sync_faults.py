"""Every fault the simulator injects: a sync either completes with the same data as a fault-free one,
or stops with a recorded error, keeps what it committed, and the next run finishes the job."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

import pytest
from sqlalchemy import select
from sqlalchemy.engine import Engine

from db.migrate import upgrade
from db.session import make_engine
from services.sync import SYNC_ORDER, SyncOptions, SyncRunResult, sync_source
from services.sync.runs import T_RUN
from tests.services.sources.simulator import Sim, canonical_dump

pytestmark = [pytest.mark.timeout(120), pytest.mark.usefixtures("clean_sim")]
SIM = {"orders": 300}  # the module's simulator (tests/services/conftest.py)
PATIENT = SyncOptions(backoff_s=0.02, store_page=100, warehouse_page=100, tracker_page=50)


@pytest.fixture(scope="module")
def reference(sim: Sim, tmp_path_factory: pytest.TempPathFactory) -> dict[str, list[tuple[object, ...]]]:
    engine = _engine(tmp_path_factory.mktemp("reference"))
    _until_done(engine, sim, sim.now(), attempts=1)
    dump = canonical_dump(engine)
    engine.dispose()
    return dump


def _engine(directory: Path) -> Engine:
    engine = make_engine(f"sqlite:///{directory / 'sync.db'}")
    upgrade(engine)
    return engine


def _until_done(
    engine: Engine,
    sim: Sim,
    now: datetime,
    *,
    attempts: int,
    timeout_s: float = 5.0,
    options: SyncOptions = PATIENT,
) -> list[SyncRunResult]:
    """Sync each source in `sync_all`'s order, running a failed one again (it resumes) up to `attempts`."""
    settings = sim.settings(source_timeout_s=timeout_s)
    results = []
    for source in SYNC_ORDER:
        for _ in range(attempts):
            results.append(sync_source(engine, settings, settings.policy(), source, now=now, options=options))
            if results[-1].ok:
                break
        assert results[-1].ok, results[-1].error
    return results


@pytest.mark.parametrize("kind", ["429", "500", "timeout", "malformed", "truncated", "latency"])
def test_a_sync_through_faults_stores_what_a_clean_one_does(
    sqlite_engine: Engine, sim: Sim, reference: dict[str, list[tuple[object, ...]]], kind: str
) -> None:
    sim.faults(rate=0.2, kinds=[kind], seed=11, retry_after="0.05", hang_s=0.6, spike_ms=150)
    results = _until_done(
        sqlite_engine, sim, sim.now(), attempts=4, timeout_s=0.3 if kind == "timeout" else 2.0
    )
    injected = sim.faults()["injected"].get(kind, 0)
    assert injected >= 3, f"only {injected} {kind} fault(s) injected"
    if kind != "latency":
        assert sum(r.retries for r in results) > 0
    assert canonical_dump(sqlite_engine) == reference
    with sqlite_engine.connect() as conn:  # every run is on record, failed ones with their error
        rows = conn.execute(select(T_RUN.c.status, T_RUN.c.error)).all()
    assert len(rows) == len(results)
    assert all((status == "ok") == (error is None) for status, error in rows)


def test_faults_beyond_the_retries_stop_the_run_and_the_next_one_finishes(
    pg_engine: Engine, sim: Sim, reference: dict[str, list[tuple[object, ...]]]
) -> None:
    """On PostgreSQL too: a run that gives up keeps its pages, the next resumes."""
    sim.faults(rate=0.35, kinds=["500", "truncated", "malformed"], seed=5)
    stingy = SyncOptions(backoff_s=0.01, max_attempts=2, store_page=50, warehouse_page=50, tracker_page=25)
    results = _until_done(pg_engine, sim, sim.now(), attempts=30, options=stingy)
    failed = [r for r in results if not r.ok]
    assert failed, "some run gave up"
    assert all(r.error and r.error.startswith(f"{r.source} ") for r in failed)
    assert any(r.resumed for r in results)
    assert canonical_dump(pg_engine) == reference
