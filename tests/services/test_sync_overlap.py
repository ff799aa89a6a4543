"""sync_all fetches every source from the start while it commits them one at a time; the store's holds
are asked (and its pages classified) only at its turn, against the committed 3PL and carrier data. What
it stores is what one source at a time stores, and a run it opened early and never committed is
recorded and released."""

from __future__ import annotations

import multiprocessing
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import select
from sqlalchemy.engine import Engine

from db.migrate import upgrade
from db.session import make_engine
from services.errors import ConfigurationError
from services.sync import SyncOptions, SyncProgress, sync_all, sync_source
from services.sync.runs import T_RUN
from tests.services.sources.simulator import Sim, canonical_dump, simulator

pytestmark = pytest.mark.timeout(120)
SMALL_PAGES = SyncOptions(store_page=50, warehouse_page=50, tracker_page=40)
TRACKERS = "GET /easypost/v2/trackers"
STORE_ORDERS = "/graphql.json"  # the bulk operation's start and polls


@pytest.fixture(scope="module")
def sim() -> Iterator[Sim]:
    with simulator(orders=300) as running:
        yield running


def _runs(engine: Engine) -> list[tuple[str, str, str | None]]:
    with engine.connect() as conn:
        rows = conn.execute(select(T_RUN.c.source, T_RUN.c.status, T_RUN.c.error).order_by(T_RUN.c.id))
        return [tuple(r) for r in rows]  # type: ignore[misc]


def test_every_source_is_fetched_from_the_start_and_the_store_holds_wait_for_its_turn(
    engine: Engine, sim: Sim
) -> None:
    settings = sim.settings()
    sim.reset_requests()
    seen: dict[str, tuple[int, int]] = {}

    def at_each_page(progress: SyncProgress) -> None:
        if progress.pages == 1 and progress.source not in seen:
            time.sleep(1.0)  # a slow commit: time for the later sources' fetching to get going
            seen[progress.source] = (len(sim.calls(TRACKERS)), len(sim.calls(STORE_ORDERS)))

    results = sync_all(
        engine,
        settings,
        settings.policy(),
        full=True,
        now=sim.now(),
        progress=at_each_page,
        options=SMALL_PAGES,
    )
    assert all(r.ok for r in results.values())
    trackers_asked, store_asked = seen["shipbob"]
    assert trackers_asked > 1 and store_asked > 1  # both fetched ahead during the 3PL's first commit


def test_it_stores_what_one_source_at_a_time_stores(engine: Engine, sim: Sim, tmp_path: Path) -> None:
    settings, now = sim.settings(), sim.now()
    one_by_one = make_engine(f"sqlite:///{tmp_path / 'one_by_one.db'}")
    upgrade(one_by_one)
    for source in ("shipbob", "easypost", "shopify"):
        assert sync_source(one_by_one, settings, settings.policy(), source, full=True, now=now).ok
    results = sync_all(engine, settings, settings.policy(), full=True, now=now, options=SMALL_PAGES)
    assert all(r.ok for r in results.values())
    assert canonical_dump(engine) == canonical_dump(one_by_one)
    one_by_one.dispose()


def test_a_run_opened_early_and_never_committed_is_recorded_failed_and_released(
    engine: Engine, sim: Sim
) -> None:
    settings, now = sim.settings(), sim.now()

    def breaks(progress: SyncProgress) -> None:
        if progress.source == "shipbob":
            raise RuntimeError("the disk is full")

    with pytest.raises(RuntimeError, match="the disk is full"):
        sync_all(engine, settings, settings.policy(), full=True, now=now, progress=breaks)
    assert _runs(engine) == [
        ("shipbob", "failed", "RuntimeError: the disk is full"),
        ("easypost", "failed", "stopped before its pages were committed"),
        ("shopify", "failed", "stopped before its pages were committed"),
    ]
    assert multiprocessing.active_children() == []  # its fetching stopped
    results = sync_all(engine, settings, settings.policy(), full=True, now=now)  # the locks were released
    assert all(r.ok for r in results.values())


def test_a_missing_setting_of_a_later_source_is_raised_after_the_earlier_ones_committed(
    engine: Engine, sim: Sim
) -> None:
    settings = sim.settings(easypost_api_key="")
    with pytest.raises(ConfigurationError, match="EASYPOST_API_KEY is not set"):
        sync_all(engine, settings, settings.policy(), full=True, now=sim.now())
    assert _runs(engine) == [("shipbob", "ok", None)]
