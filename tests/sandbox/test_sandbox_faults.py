"""Every fault kind is observable over HTTP, auth is never random, and faults never change the data."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator

import httpx
import pytest

from sandbox.server import start_in_thread

from .conftest import CLOCK, Api

SOURCES = ("shopify", "shipbob", "easypost")


@pytest.fixture(scope="module")
def api() -> Iterator[Api]:
    sim = start_in_thread(seed=5, orders=300, clock=CLOCK, retry_after=0.05, hang_s=1.0, spike_ms=250)
    a = Api(sim)
    yield a
    a.http.close()
    sim.stop()


def _get(api: Api, source: str, timeout: float = 10) -> httpx.Response:
    s = api.s
    if source == "shopify":
        return api.http.post(
            s["SHOPIFY_SHOP_URL"] + "/admin/api/2026-10/graphql.json",
            json={"query": "{ orders(first: 100) { nodes { id } } }"},
            headers={"X-Shopify-Access-Token": s["SHOPIFY_ACCESS_TOKEN"]},
            timeout=timeout,
        )
    if source == "shipbob":
        return api.http.get(
            s["SHIPBOB_API_URL"] + "/2026-07/order?Limit=100",
            headers={"Authorization": f"Bearer {s['SHIPBOB_TOKEN']}"},
            timeout=timeout,
        )
    return api.http.get(
        s["EASYPOST_API_URL"] + "/v2/trackers?page_size=100",
        auth=(s["EASYPOST_API_KEY"], ""),
        timeout=timeout,
    )


def _data(source: str, r: httpx.Response) -> object:
    """What a reply says, without Shopify's cost bucket (its level moves with time)."""
    return r.json()["data"] if source == "shopify" else r.content


def _script(api: Api, kind: str, source: str) -> None:
    api.control("POST", "/faults", {"script": [kind], "source": source})


def test_429_and_500_use_each_sources_shape(api: Api) -> None:
    header = {"shopify": "Retry-After", "shipbob": "x-retry-after", "easypost": "Retry-After"}
    for src in SOURCES:
        _script(api, "429", src)
        r = _get(api, src)
        assert r.status_code == 429 and r.headers[header[src]] == "0.05", src
        _script(api, "500", src)
        r = _get(api, src)
        assert r.status_code == 500
        body = r.json()
        assert {"shopify": "errors", "shipbob": "title", "easypost": "error"}[src] in body
        assert _get(api, src).status_code == 200  # scripted faults are one-shot


def test_timeout_malformed_truncated_latency(api: Api) -> None:
    for src in SOURCES:
        good = _data(src, _get(api, src))
        _script(api, "timeout", src)
        with pytest.raises(httpx.TimeoutException):
            _get(api, src, timeout=0.2)
        _script(api, "malformed", src)
        r = _get(api, src)
        assert r.status_code == 200 and int(r.headers["content-length"]) == len(r.content)
        with pytest.raises(json.JSONDecodeError):
            json.loads(r.content)
        _script(api, "truncated", src)
        with pytest.raises((httpx.RemoteProtocolError, httpx.ReadError)):
            _get(api, src)
        _script(api, "latency", src)
        t = time.perf_counter()
        r = _get(api, src)
        assert r.status_code == 200 and time.perf_counter() - t >= 0.25
        assert _data(src, r) == good  # faults never change the data


def test_random_faults_auth_and_latency(api: Api) -> None:
    before = {src: _data(src, _get(api, src)) for src in SOURCES}
    api.control("POST", "/faults", {"rate": 1.0, "kinds": ["500"]})
    try:
        assert all(_get(api, src).status_code == 500 for src in SOURCES for _ in range(3))
        # a wrong token is always 401, never a random fault
        r = api.http.post(
            api.s["SHOPIFY_SHOP_URL"] + "/admin/api/2026-10/graphql.json",
            json={"query": "{ orders(first: 1) { nodes { id } } }"},
            headers={"X-Shopify-Access-Token": "bad"},
        )
        assert r.status_code == 401
        r = api.http.get(api.s["EASYPOST_API_URL"] + "/v2/trackers", auth=("bad", ""))
        assert r.status_code == 401
    finally:
        api.control(
            "POST",
            "/faults",
            {"rate": 0.0, "kinds": ["latency", "429", "500", "timeout", "malformed", "truncated"]},
        )
    assert {src: _data(src, _get(api, src)) for src in SOURCES} == before
    api.control("POST", "/faults", {"latency_ms": 120})
    try:
        t = time.perf_counter()
        _get(api, "shipbob")
        assert time.perf_counter() - t >= 0.12
    finally:
        api.control("POST", "/faults", {"latency_ms": 0})
    state = api.control("GET", "/state")["faults"]
    assert state["injected"]["500"] >= 9
    log = api.control("GET", "/requests")
    assert any(r["fault"] == "truncated" for r in log["recent"]) or state["injected"].get("truncated")
    bad = api.http.post(api.sim.base_url + "/_sim/faults", json={"kinds": ["explode"]})
    assert bad.status_code == 400


def test_shopify_cost_bucket_throttles_and_restores(api: Api) -> None:
    api.control("POST", "/faults", {"shopify_graphql_bucket": {"capacity": 260, "restore_per_s": 60}})
    query = "{ orders(first: 250) { nodes { id } } }"  # requests 252 points
    try:
        first = api.graphql(query).json()
        assert first["extensions"]["cost"]["requestedQueryCost"] == 252 and "data" in first
        throttled = api.graphql(query).json()
        assert throttled["errors"][0]["extensions"]["code"] == "THROTTLED"
        status = throttled["extensions"]["cost"]
        assert status["actualQueryCost"] is None and status["throttleStatus"]["currentlyAvailable"] < 252
        time.sleep((252 - status["throttleStatus"]["currentlyAvailable"]) / 60 + 0.05)
        assert "data" in api.graphql(query).json()
    finally:
        api.control("POST", "/faults", {"shopify_graphql_bucket": {"capacity": 2000, "restore_per_s": 100}})
