"""The shared HTTP layer: which failures are retried, and what a caller sees when retries run out."""

from __future__ import annotations

import time

import pytest

from services.errors import SourceError, SourceProtocolError, SourceRateLimited, SourceUnavailable
from services.sources.shopify.client import ShopifyClient
from tests.services.sources.simulator import Sim

pytestmark = [pytest.mark.timeout(60), pytest.mark.usefixtures("clean_sim")]
SIM = {"orders": 60}  # the module's simulator (tests/services/conftest.py)
TIMEOUT_S = 0.3
HANG_S = 0.6  # a hung request is logged when the simulator finally answers it


def _settle(kind: str) -> None:
    if kind == "timeout":
        time.sleep(HANG_S)


@pytest.mark.parametrize("kind", ["500", "malformed", "truncated", "timeout", "latency"])
def test_a_failed_page_is_fetched_again(sim: Sim, kind: str) -> None:
    sim.faults(script=[kind], source="shopify", hang_s=HANG_S, spike_ms=300)
    # Only the timeout case needs a short timeout: with it, a page merely slow on a loaded machine
    # would time out too and be retried once more than the one fault.
    timeout_s = {"latency": 0.5, "timeout": TIMEOUT_S}.get(kind, 5.0)
    with ShopifyClient(sim.settings(source_timeout_s=timeout_s), backoff_s=0.01) as client:
        pages = list(client.order_pages())
        assert client.stats.retries == (0 if kind == "latency" else 1)
    assert sum(len(p.orders) for p in pages) == 60
    _settle(kind)
    assert [r["fault"] for r in sim.requests()["recent"]].count(kind) == 1


@pytest.mark.parametrize(
    ("kind", "error", "status"),
    [
        ("500", SourceUnavailable, 500),
        ("malformed", SourceProtocolError, 200),
        ("truncated", SourceProtocolError, None),
        ("timeout", SourceUnavailable, None),
        ("429", SourceRateLimited, 429),
    ],
)
def test_errors_after_the_last_attempt_say_source_call_and_status(
    sim: Sim, kind: str, error: type[SourceError], status: int | None
) -> None:
    sim.faults(script=[kind] * 3, source="shopify", hang_s=HANG_S, retry_after="0.01")
    with (
        ShopifyClient(sim.settings(source_timeout_s=TIMEOUT_S), backoff_s=0.01, max_attempts=3) as client,
        pytest.raises(error) as caught,
    ):
        client.order_by_name("#2001")
    assert type(caught.value) is error
    assert caught.value.source == "shopify" and caught.value.call == "POST graphql.json (orders)"
    assert caught.value.status == status
    assert str(caught.value).startswith("shopify POST graphql.json (orders): ")
    _settle(kind)
    assert len(sim.requests()["recent"]) == 3


def test_a_retry_after_beyond_the_limit_is_raised_at_once(sim: Sim) -> None:
    sim.faults(script=["429"], source="shopify", retry_after="120")
    with ShopifyClient(sim.settings()) as client, pytest.raises(SourceRateLimited) as caught:
        client.order_by_name("#2001")
    assert caught.value.retry_after == 120 and client.stats.waits == []
