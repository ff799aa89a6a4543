"""The cyclic collector is held back while a sync runs, young cycles are still freed per page, and the
collector comes back as it was, whatever the nesting, threads or errors."""

from __future__ import annotations

import gc
import threading
import weakref
from collections.abc import Iterator

import pytest
from sqlalchemy.engine import Engine

from services.sync import SyncProgress, collector, sync_source
from tests.services.sources.simulator import Sim, simulator

pytestmark = pytest.mark.timeout(120)


@pytest.fixture(autouse=True)
def collector_enabled() -> Iterator[None]:
    was = gc.isenabled()
    gc.enable()
    yield
    (gc.enable if was else gc.disable)()


class _Node:
    def __init__(self) -> None:
        self.other: _Node | None = None


def test_automatic_collection_is_off_inside_and_back_after() -> None:
    with collector.held_back():
        assert not gc.isenabled()
    assert gc.isenabled()


def test_a_collector_already_off_stays_off() -> None:
    gc.disable()
    with collector.held_back():
        pass
    assert not gc.isenabled()


def test_nested_and_concurrent_uses_end_with_the_last_one() -> None:
    inner_started, outer_may_end = threading.Event(), threading.Event()

    def other_sync() -> None:
        with collector.held_back():
            inner_started.set()
            outer_may_end.wait(5)

    with collector.held_back():
        worker = threading.Thread(target=other_sync)
        worker.start()
        assert inner_started.wait(5)
    assert not gc.isenabled()  # the other "sync" is still running
    outer_may_end.set()
    worker.join(5)
    assert gc.isenabled()


def test_an_error_inside_still_brings_the_collector_back() -> None:
    with pytest.raises(RuntimeError), collector.held_back():
        raise RuntimeError("the source failed")
    assert gc.isenabled()


def test_collect_young_frees_a_cycle_made_while_held_back() -> None:
    with collector.held_back():
        a, b = _Node(), _Node()
        a.other, b.other = b, a
        gone = weakref.ref(a)
        del a, b
        assert gone() is not None  # reference counting alone cannot free a cycle
        collector.collect_young()
        assert gone() is None


@pytest.fixture(scope="module")
def sim() -> Iterator[Sim]:
    with simulator(orders=120) as running:
        yield running


def test_a_sync_runs_with_the_collector_held_back_and_restores_it(engine: Engine, sim: Sim) -> None:
    settings = sim.settings()
    during: list[bool] = []

    def progress(_: SyncProgress) -> None:
        during.append(gc.isenabled())

    result = sync_source(
        engine, settings, settings.policy(), "shopify", full=True, now=sim.now(), progress=progress
    )
    assert result.ok, result.error
    assert during and not any(during)
    assert gc.isenabled()
