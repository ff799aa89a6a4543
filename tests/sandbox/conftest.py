"""Fixtures for the simulator tests: real uvicorn servers on loopback, httpx clients."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from sandbox import records
from sandbox.scenarios import index_of_order_id
from sandbox.server import RunningSimulator, start_in_thread

ORDER_IDS = """query Ids($after: String, $query: String) {
  orders(first: 250, after: $after, sortKey: ID, query: $query) { nodes { id } pageInfo { hasNextPage endCursor } }
}"""
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

    def graphql(
        self, query: str, variables: dict[str, Any] | None = None, *, token: str | None = None
    ) -> httpx.Response:
        """A GraphQL Admin API 2026-10 request."""
        return self.http.post(
            self.s["SHOPIFY_SHOP_URL"] + "/admin/api/2026-10/graphql.json",
            json={"query": query, "variables": variables or {}},
            headers={"X-Shopify-Access-Token": token or self.s["SHOPIFY_ACCESS_TOKEN"]},
        )

    def graphql_patient(self, query: str, variables: dict[str, Any] | None = None) -> dict[str, Any]:
        """Like ``graphql`` but waits out THROTTLED replies the way a well-behaved client does."""
        while True:
            body = self.graphql(query, variables).json()
            errors = body.get("errors") or []
            if not any(e.get("extensions", {}).get("code") == "THROTTLED" for e in errors):
                assert not errors, errors
                return body
            status = body["extensions"]["cost"]
            short = status["requestedQueryCost"] - status["throttleStatus"]["currentlyAvailable"]
            time.sleep(max(0.01, short / status["throttleStatus"]["restoreRate"]))

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
    def shopify_ids(self, search: str | None = None) -> list[str]:
        """The GIDs of every order the GraphQL ``orders`` connection lists (by id), page by page."""
        out: list[str] = []
        after = None
        while True:
            body = self.graphql_patient(ORDER_IDS, {"after": after, "query": search})
            page = body["data"]["orders"]
            out.extend(n["id"] for n in page["nodes"])
            if not page["pageInfo"]["hasNextPage"]:
                return out
            after = page["pageInfo"]["endCursor"]

    def all_shopify(self, updated_at_min: str | None = None) -> list[dict[str, Any]]:
        """Every order the store lists over GraphQL, as the REST ``Order`` JSON its webhooks carry
        (``sandbox.records.shop_order_bytes``: the shape the SPEC's rules and snapshots use)."""
        search = f"updated_at:>='{updated_at_min}'" if updated_at_min else None
        world = self.sim.world
        T = world.now()
        out = []
        for gid in self.shopify_ids(search):
            i = index_of_order_id(int(gid.rsplit("/", 1)[1]), world.n)
            assert i is not None
            out.append(json.loads(records.shop_order_bytes(world, world.row(i), T)))
        return out

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
