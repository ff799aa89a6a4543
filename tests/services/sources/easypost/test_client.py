"""The three connectors against the simulator over loopback: paging, lookups, auth, rate limits."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from typing import Any

import pytest

from services.errors import SourceAuthError
from services.sources.easypost.client import AsyncEasyPostClient, EasyPostClient
from tests.services.sources.simulator import Sim

pytestmark = pytest.mark.timeout(60)


@pytest.fixture(autouse=True)
def _clean(clean_sim: Sim) -> Iterator[None]:
    yield
    sim = clean_sim
    sim.faults(
        shopify_bucket={"capacity": 100_000, "leak_per_s": 100_000},
        shopify_graphql_bucket={"capacity": 2000, "restore_per_s": 1e7},
    )


def _counts(sim: Sim) -> dict[str, int]:
    return sim.http.get("/_sim/state").json()["counts"]


def _paths(sim: Sim) -> list[tuple[str, str, int | None]]:
    return [(r["method"], r["path"].split("/", 2)[-1], r["status"]) for r in sim.requests()["recent"]]


# ---------------------------------------------------------------- EasyPost


def test_easypost_pages_with_before_id(sim: Sim) -> None:
    with EasyPostClient(sim.settings()) as client:
        pages = list(client.tracker_pages(page_size=50))
    trackers = [t for page in pages for t in page.trackers]
    assert len({t.id for t in trackers}) == len(trackers) == _counts(sim)["trackers"]
    created = [t.created_at.isoformat() if t.created_at else "" for t in trackers]
    assert all(created) and created == sorted(created, reverse=True)  # newest first
    assert not pages[-1].has_more and all(p.has_more for p in pages[:-1])
    queries = [r["query"] for r in sim.requests()["recent"]]
    assert "before_id" not in queries[0] and all("before_id=" in q for q in queries[1:])


def test_easypost_tracker_by_id_and_by_code(sim: Sim) -> None:
    with EasyPostClient(sim.settings()) as client:
        newest = next(iter(client.tracker_pages(page_size=1))).trackers[0]
        assert client.tracker(newest.id) == newest
        assert client.tracker_by_code(newest.tracking_code) == newest
        assert client.tracker("trk_doesnotexist") is None
        assert client.tracker_by_code("NOSUCHCODE") is None

    async def ask() -> Any:
        async with AsyncEasyPostClient(sim.settings()) as client:
            return await client.tracker_by_code(newest.tracking_code)

    assert asyncio.run(ask()) == newest


def test_easypost_wrong_key_names_the_setting(sim: Sim) -> None:
    with (
        EasyPostClient(sim.settings(easypost_api_key="wrong")) as client,
        pytest.raises(SourceAuthError) as caught,
    ):
        client.tracker("trk_x")
    assert "EASYPOST_API_KEY" in str(caught.value)


def test_easypost_429_waits_retry_after(sim: Sim) -> None:
    sim.faults(script=["429"], source="easypost", retry_after="0.2")
    with EasyPostClient(sim.settings()) as client:
        assert client.tracker("trk_x") is None
        assert client.stats.waits == [0.2]
