"""Syncs of different sources that overlap (console and cron, or three commands started together) end
with the answers of one sequential sync, on SQLite and PostgreSQL: every writer takes the write lock
first and reclassifies after it (`services.sync.apply`)."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.engine import Engine

from checks.model import StoreOrder
from services import queries, queue
from services.errors import ConfigurationError
from services.settings import Settings
from services.sources.shopify.client import ShopifyClient
from services.store import T_CLASS, T_DISC
from services.sync import apply_records, sync_all, sync_source
from services.sync.runs import T_RUN
from tests.services.sources.simulator import Sim, canonical_dump, simulator
from tests.services.sync_processes import cli_env, database_url, sibling_database, start_cli

pytestmark = pytest.mark.timeout(900)


@pytest.fixture(scope="module")
def sim() -> Iterator[Sim]:
    # Enough pages per source, and a little latency, that the three runs interleave page by page.
    with simulator(orders=1500, latency_ms=5) as running:
        yield running


def _answers(engine: Engine, sim: Sim) -> dict[str, Any]:
    policy = Settings().policy()
    as_of = sim.now()
    with engine.connect() as conn:
        overdue = [r.as_dict()["order"] for r in queue.overdue_queue(conn, as_of=as_of, policy=policy)]
        info = [
            (r.as_dict()["order"], r.as_dict()["category"])
            for r in queries.informational_view(conn, as_of=as_of, policy=policy)
        ]
        discrepancies = sorted(conn.execute(select(T_DISC.c.order_id, T_DISC.c.code)).tuples().all())
        categories = dict(conn.execute(select(T_CLASS.c.order_id, T_CLASS.c.base_category)).tuples().all())
    return {
        "queue": sorted(overdue),
        "informational": sorted(info),
        "discrepancies": discrepancies,
        "categories": categories,
    }


def test_three_sources_synced_at_once_give_the_answers_of_one_sequential_sync(
    engine: Engine, sim: Sim, tmp_path: Path
) -> None:
    settings = sim.running.settings()
    with sibling_database(engine, tmp_path) as sequential:
        one = start_cli(["sync", "--full"], cli_env(settings, database_url(sequential)))
        out, err = one.communicate(timeout=600)
        assert one.returncode == 0, err

        env = cli_env(settings, database_url(engine))
        together = [
            start_cli(["sync", "--source", s, "--full"], env) for s in ("shopify", "shipbob", "easypost")
        ]
        for process in together:
            out, err = process.communicate(timeout=600)
            assert process.returncode == 0, err
            assert " ok " in out

        expected = _answers(sequential, sim)
        assert expected["queue"] and expected["informational"]  # the comparison means something
        assert _answers(engine, sim) == expected
        assert canonical_dump(engine) == canonical_dump(sequential)


def _store_page(sim: Sim) -> list[StoreOrder]:
    with ShopifyClient(sim.settings()) as client:
        return next(iter(client.order_pages(limit=50))).orders


def test_a_3pl_sync_that_meets_a_store_write_in_flight_classifies_its_orders_after_it(
    engine: Engine, sim: Sim, tmp_path: Path
) -> None:
    """The interleaving that left orders classified without their 3PL order: a store write (a store
    page, a refresh or a webhook) still open while a 3PL page looks for the store orders it touches."""
    settings = sim.settings()
    policy, now, orders = settings.policy(), sim.now(), _store_page(sim)
    results: list[Any] = []
    in_flight = engine.connect()
    try:
        in_flight.begin()
        apply_records(in_flight, policy, now, store_orders=orders)
        warehouse = threading.Thread(
            target=lambda: results.append(
                sync_source(engine, settings, policy, "shipbob", full=True, now=now)
            )
        )
        warehouse.start()
        time.sleep(2.0)  # the 3PL sync has fetched its first page and waits to write it
        in_flight.commit()
    finally:
        in_flight.close()
    warehouse.join(120)
    assert results and results[0].ok

    with sibling_database(engine, tmp_path) as sequential:
        with sequential.begin() as conn:
            apply_records(conn, policy, now, store_orders=orders)
        assert sync_source(sequential, settings, policy, "shipbob", full=True, now=now).ok
        assert canonical_dump(engine) == canonical_dump(sequential)


def test_a_missing_setting_of_a_later_source_is_raised_after_the_earlier_ones_committed(
    engine: Engine, sim: Sim
) -> None:
    settings = sim.settings(easypost_api_key="")
    with pytest.raises(ConfigurationError, match="EASYPOST_API_KEY is not set"):
        sync_all(engine, settings, settings.policy(), full=True, now=sim.now())
    with engine.connect() as conn:
        runs = conn.execute(select(T_RUN.c.source, T_RUN.c.status).order_by(T_RUN.c.id)).tuples().all()
    assert runs == [("shipbob", "ok")]
