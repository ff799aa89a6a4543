"""Fetching ahead in a helper process: the same events as in a thread, errors at their place with their
type, the client's counts back, the helper stopped when the caller stops, and the parent's database
connections untouched by it."""

from __future__ import annotations

import multiprocessing
import os
import pickle
import signal
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import func, select
from sqlalchemy.engine import Engine

from checks.model import StoreOrder
from db.migrate import upgrade
from db.session import make_engine
from services.errors import SourceError, SourceRateLimited
from services.sources.http import ClientStats, SourceClient
from services.store import T_ORDER
from services.sync import SyncOptions, sync_source
from services.sync.engine import _client, _events, _plan, _prepare
from services.sync.fetcher import fetch_ahead, helper_possible
from services.sync.passes import Event, Page, PassComplete, Plan, RescanDone
from tests.services.sources.simulator import Sim, simulator

pytestmark = pytest.mark.timeout(120)
WHEN = datetime(2026, 11, 20, 15, tzinfo=UTC)


@pytest.fixture(scope="module")
def sim() -> Iterator[Sim]:
    with simulator(orders=150) as running:
        yield running


def _order(note: str) -> StoreOrder:
    return StoreOrder(
        id=1, name="#1001", created_at=WHEN, updated_at=WHEN, financial_status="paid",
        fulfillment_status=None, line_items=(), note=note,
    )  # fmt: skip


def _where_it_ran(_: Engine) -> Iterator[Event]:
    """Pages that say which process built them."""
    yield Page("store", [_order(str(os.getpid()))], "1")
    yield PassComplete()
    yield RescanDone(WHEN - timedelta(days=14))


def _fails_after_one_page(_: Engine) -> Iterator[Event]:
    yield Page("store", [_order("first")], "1")
    raise SourceRateLimited(
        "rate limited", source="shopify", call="GET orders.json", status=429, retry_after=2.0
    )


class _NoPickle(Exception):
    def __reduce__(self) -> tuple[object, ...]:
        raise TypeError("not picklable")


def _fails_unpicklably(_: Engine) -> Iterator[Event]:
    raise _NoPickle("the parser broke")
    yield  # pragma: no cover


def _dies(_: Engine) -> Iterator[Event]:
    yield Page("store", [_order("first")], "1")
    os._exit(3)


def _endless(_: Engine) -> Iterator[Event]:
    n = 0
    while True:
        n += 1
        yield Page("store", [_order(str(n))], str(n))


def test_the_helper_is_used_for_a_file_or_a_server_not_for_memory(engine: Engine) -> None:
    assert helper_possible(engine)  # a SQLite file here, or PostgreSQL
    assert not helper_possible(make_engine("sqlite://"))
    assert not helper_possible(make_engine("sqlite:///:memory:"))


def test_pages_are_built_in_another_process_and_arrive_in_order(engine: Engine) -> None:
    events = list(fetch_ahead(engine, _where_it_ran, ClientStats(), helper=True))
    page, done, rescan = events
    assert isinstance(page, Page) and page.kind == "store" and page.cursor == "1"
    assert page.records[0].note != str(os.getpid())  # type: ignore[attr-defined]
    assert done == PassComplete() and rescan == RescanDone(WHEN - timedelta(days=14))
    in_thread = list(fetch_ahead(engine, _where_it_ran, ClientStats(), helper=False))
    assert in_thread[0].records[0].note == str(os.getpid())  # type: ignore[union-attr]


def _holds_pending(_: Engine) -> Iterator[Event]:
    yield Page("store", [_order("unasked")], "1", holds_pending=True)


def test_a_page_whose_holds_are_pending_arrives_marked_so_its_commit_can_refuse_it(engine: Engine) -> None:
    for helper in (True, False):
        (page,) = fetch_ahead(engine, _holds_pending, ClientStats(), helper=helper)
        assert isinstance(page, Page) and page.holds_pending, helper


@pytest.mark.parametrize("source", ["shipbob", "easypost", "shopify"])
def test_the_helper_yields_what_the_thread_yields(engine: Engine, sim: Sim, source: str) -> None:
    settings, now = sim.settings(), sim.now()
    # The 3PL and carrier first, so the store's holds are asked from the same stored data both times.
    for earlier in ("shipbob", "easypost")[: ("shipbob", "easypost", "shopify").index(source)]:
        assert sync_source(engine, settings, settings.policy(), earlier, full=True, now=now).ok
    options = SyncOptions(store_page=40, warehouse_page=60, tracker_page=30)

    def _pass(client: SourceClient, plan: Plan) -> Callable[[Engine], Iterator[Event]]:
        return lambda db: _events(client, db, settings.policy(), plan, now, options)

    fetched: dict[bool, list[Event]] = {}
    counts: dict[bool, int] = {}
    for helper in (True, False):
        with engine.begin() as conn:
            plan = _plan(conn, source, True, now, options)
        with _client(source, settings, None, options) as client:
            prepare = _prepare(client, settings.policy(), now)  # the store's pages: classified as they come
            fetched[helper] = list(
                fetch_ahead(engine, _pass(client, plan), client.stats, helper=helper, prepare=prepare)
            )
            counts[helper] = client.stats.requests
    assert fetched[True] == fetched[False]
    assert sum(isinstance(e, Page) for e in fetched[True]) > 1
    if source == "shopify":  # classified where they were fetched, in either
        assert all(e.classified is not None for e in fetched[True] if isinstance(e, Page) and e.records)
    assert counts[True] == counts[False] > 1  # the helper's requests are counted here


def test_an_error_arrives_after_the_pages_before_it_with_its_type_and_counts(engine: Engine) -> None:
    stats = ClientStats()
    events = fetch_ahead(engine, _fails_after_one_page, stats, helper=True)
    first = next(events)
    assert isinstance(first, Page) and first.records[0].note == "first"  # type: ignore[attr-defined]
    with pytest.raises(SourceRateLimited) as raised:
        next(events)
    assert str(raised.value) == "shopify GET orders.json: rate limited (HTTP 429)"
    assert (raised.value.status, raised.value.retry_after) == (429, 2.0)


def test_an_error_that_cannot_travel_arrives_as_its_traceback(engine: Engine) -> None:
    with pytest.raises(RuntimeError, match=r"(?s)fetching process failed.*_NoPickle: the parser broke"):
        list(fetch_ahead(engine, _fails_unpicklably, ClientStats(), helper=True))


def test_a_helper_that_dies_is_an_error_not_a_hang(engine: Engine) -> None:
    events = fetch_ahead(engine, _dies, ClientStats(), helper=True)
    assert isinstance(next(events), Page)
    with pytest.raises(RuntimeError, match=r"fetching process stopped \(exit code 3\)"):
        next(events)


def test_closing_the_events_stops_the_helper(engine: Engine) -> None:
    events = fetch_ahead(engine, _endless, ClientStats(), helper=True)
    assert [next(events).cursor for _ in range(3)] == ["1", "2", "3"]  # type: ignore[union-attr]
    events.close()
    assert not [p for p in multiprocessing.active_children() if p.name == "sync-fetch"]


def test_source_errors_survive_pickling() -> None:
    error = SourceError("bad token", source="shipbob", call="GET /2026-07/order", status=401)
    copy = pickle.loads(pickle.dumps(error))
    assert type(copy) is SourceError and str(copy) == str(error)
    assert (copy.source, copy.call, copy.status, copy.message) == (
        "shipbob",
        "GET /2026-07/order",
        401,
        "bad token",
    )


def test_the_parents_sqlite_connection_works_after_a_helper_read_through_it(tmp_path: Path, sim: Sim) -> None:
    engine = make_engine(f"sqlite:///{tmp_path / 'shared.db'}")
    upgrade(engine)
    with engine.connect() as conn:  # a pooled connection exists before the fork
        conn.execute(select(1))
    settings = sim.settings()
    for source in ("shipbob", "easypost", "shopify"):  # the store and carrier passes read the database
        assert sync_source(engine, settings, settings.policy(), source, full=True, now=sim.now()).ok
    with engine.begin() as conn:
        assert conn.scalar(select(func.count()).select_from(T_ORDER)) == 150
        conn.execute(T_ORDER.delete().where(T_ORDER.c.id == -1))  # and can still write
    engine.dispose()


def _raise_interrupt(signum: int, frame: object) -> None:
    raise KeyboardInterrupt


def test_a_parents_sigterm_handler_never_runs_in_the_helper(
    engine: Engine, capfd: pytest.CaptureFixture[str]
) -> None:
    previous = signal.signal(signal.SIGTERM, _raise_interrupt)  # what the demo installs
    try:
        assert len(list(fetch_ahead(engine, _where_it_ran, ClientStats(), helper=True))) == 3
        events = fetch_ahead(engine, _endless, ClientStats(), helper=True)
        next(events)
        events.close()  # stopped with SIGTERM while it runs
    finally:
        signal.signal(signal.SIGTERM, previous)
    assert "Traceback" not in capfd.readouterr().err
