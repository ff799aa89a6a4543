"""Fixtures for the simulator tests: real uvicorn servers on loopback, httpx clients."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from sandbox.server import RunningSimulator, start_in_thread

CLOCK = "2026-11-20T15:00:00Z"  # a Friday afternoon, a week before Thanksgiving 2026
SNAPSHOT_FILES = (
    "shopify/orders.json",
    "shipbob/orders.json",
    "shipbob/inventory.json",
    "easypost/trackers.json",
)


def load_snapshot(d: Path) -> dict[str, Any]:
    return {name: json.loads((d / name).read_bytes()) for name in SNAPSHOT_FILES}


class Api:
    """Thin authenticated helpers around one running simulator."""

    def __init__(self, sim: RunningSimulator) -> None:
        self.sim = sim
        self.s = sim.settings()
        self.http = httpx.Client(timeout=30)
        self._memo: dict[str, list[dict[str, Any]]] = {}

    def memo(self, what: str) -> list[dict[str, Any]]:
        """A full read, done once per fixture (only for worlds the tests do not change)."""
        if what not in self._memo:
            self._memo[what] = {
                "shopify": self.all_shopify,
                "shipbob": self.all_shipbob,
                "trackers": self.all_trackers,
            }[what]()
        return self._memo[what]

    def shopify(self, path: str, **params: Any) -> httpx.Response:
        return self.http.get(
            self.s["SHOPIFY_SHOP_URL"] + "/admin/api/2024-10" + path,
            params=params,
            headers={"X-Shopify-Access-Token": self.s["SHOPIFY_ACCESS_TOKEN"]},
        )

    def shopify_patient(self, path: str, **params: Any) -> httpx.Response:
        """Like ``shopify`` but waits out 429s the way a well-behaved client does."""
        while True:
            r = self.shopify(path, **params)
            if r.status_code != 429:
                return r
            time.sleep(float(r.headers["Retry-After"]))

    def shipbob(self, path: str, **params: Any) -> httpx.Response:
        return self.http.get(
            self.s["SHIPBOB_API_URL"] + "/2026-07" + path,
            params=params,
            headers={"Authorization": f"Bearer {self.s['SHIPBOB_TOKEN']}"},
        )

    def shipbob_post(self, path: str, body: Any, channel: str | None = "100102") -> httpx.Response:
        headers = {"Authorization": f"Bearer {self.s['SHIPBOB_TOKEN']}"}
        if channel is not None:
            headers["shipbob_channel_id"] = channel
        return self.http.post(self.s["SHIPBOB_API_URL"] + "/2026-07" + path, json=body, headers=headers)

    def easypost(self, path: str, **params: Any) -> httpx.Response:
        return self.http.get(
            self.s["EASYPOST_API_URL"] + "/v2" + path, params=params, auth=(self.s["EASYPOST_API_KEY"], "")
        )

    def control(self, method: str, path: str, body: Any = None) -> Any:
        r = self.http.request(method, self.sim.base_url + "/_sim" + path, json=body)
        r.raise_for_status()
        return r.json()

    # ---- full reads -------------------------------------------------------------------------
    def all_shopify(self, **params: Any) -> list[dict[str, Any]]:
        out: list[dict[str, Any]] = []
        r = self.shopify("/orders.json", status="any", limit=250, **params)
        while True:
            assert r.status_code == 200, r.text
            out.extend(r.json()["orders"])
            nxt = r.links.get("next")
            if not nxt:
                return out
            r = self.http.get(nxt["url"], headers={"X-Shopify-Access-Token": self.s["SHOPIFY_ACCESS_TOKEN"]})
            while r.status_code == 429:
                time.sleep(float(r.headers["Retry-After"]))
                r = self.http.get(
                    nxt["url"], headers={"X-Shopify-Access-Token": self.s["SHOPIFY_ACCESS_TOKEN"]}
                )

    def all_shipbob(self, **params: Any) -> list[dict[str, Any]]:
        out: list[dict[str, Any]] = []
        r = self.shipbob("/order", Limit=250, SortOrder="Oldest", **params)
        while True:
            assert r.status_code == 200, r.text
            out.extend(r.json())
            nxt = r.headers.get("next-page")
            if not nxt:
                return out
            r = self.http.get(
                self.s["SHIPBOB_API_URL"] + nxt,
                headers={"Authorization": f"Bearer {self.s['SHIPBOB_TOKEN']}"},
            )

    def all_trackers(self) -> list[dict[str, Any]]:
        out: list[dict[str, Any]] = []
        params: dict[str, Any] = {"page_size": 100}
        while True:
            r = self.easypost("/trackers", **params)
            assert r.status_code == 200, r.text
            body = r.json()
            out.extend(body["trackers"])
            if not body["has_more"]:
                return out
            params = {"page_size": 100, "before_id": body["trackers"][-1]["id"]}


@pytest.fixture(scope="module")
def held() -> Iterator[Api]:
    """A 1,500-order world held at CLOCK (one per module); tests must leave it as they found it."""
    sim = start_in_thread(seed=7, orders=1500, clock=CLOCK)
    api = Api(sim)
    yield api
    api.http.close()
    sim.stop()
