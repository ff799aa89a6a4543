"""Shopify GraphQL Admin API 2026-10 served from the world, mounted under ``/shopify``.

What clients may rely on (base = ``SHOPIFY_SHOP_URL`` = ``http://127.0.0.1:<port>/shopify``):
- auth header ``X-Shopify-Access-Token``; a wrong/missing token -> 401
  ``{"errors": "[API] Invalid API key or access token (unrecognized login or wrong password)"}``;
- ``POST /admin/api/2026-10/graphql.json`` serves (see ``sandbox.shopify_graphql``) ``orders(first, after,
  sortKey: UPDATED_AT, query: "updated_at:>='…'" | "name:#1001")``, ``order(id:)``, ``nodes(ids:)``,
  ``bulkOperationRunQuery``, ``node(id:)`` / ``currentBulkOperation`` for a bulk operation,
  ``webhookSubscriptions`` and ``webhookSubscriptionCreate`` (kept in memory). Limited by calculated
  query cost: a query may request at most 1000 points, the bucket (2000 points restoring 100/s: the
  Standard plan) must hold the requested cost, and the difference to the actual cost is refunded. A
  query the bucket cannot take gets HTTP 200 with ``errors[0].extensions.code == "THROTTLED"``; every
  reply carries ``extensions.cost`` with the ``throttleStatus``;
- a finished bulk operation's ``url`` is ``{base}-files/bulk/<n>.jsonl`` (no token needed, as a signed
  URL), streamed line by line;
- any other version or path (the retired REST ``2024-10`` orders endpoints too) -> 404
  ``{"errors": "Not Found"}``; with ``/_sim/faults {"shopify_gone": true}`` the GraphQL endpoint answers
  410 as a retired version does.
"""

from __future__ import annotations

import json
import math
import threading
import time
from typing import TYPE_CHECKING, Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from .scenarios import order_id

if TYPE_CHECKING:
    from .server import Sim

API_VERSION = "2026-10"
API = f"/admin/api/{API_VERSION}"
UNAUTHORIZED = {"errors": "[API] Invalid API key or access token (unrecognized login or wrong password)"}
NOT_FOUND = {"errors": "Not Found"}


class LeakyBucket:
    """(Kept for the simulator's settings; no route uses it since REST is gone.) Shopify's REST call-limit bucket: ``capacity`` requests, leaking ``leak_per_s`` per second (real time)."""

    def __init__(self, capacity: int = 40, leak_per_s: float = 2.0) -> None:
        self.capacity = capacity
        self.leak_per_s = leak_per_s
        self.level = 0.0
        self.last = time.monotonic()
        self._lock = threading.Lock()

    def take(self) -> tuple[bool, int, float]:
        """(allowed, level to report, seconds until one call fits)."""
        with self._lock:
            now = time.monotonic()
            if self.leak_per_s > 0:
                self.level = max(0.0, self.level - (now - self.last) * self.leak_per_s)
            self.last = now
            if self.leak_per_s <= 0 and self.capacity <= 0:
                return True, 1, 0.0
            if self.level + 1 > self.capacity:
                wait = (self.level + 1 - self.capacity) / self.leak_per_s if self.leak_per_s > 0 else 60.0
                return False, self.capacity, wait
            self.level += 1
            return True, max(1, math.ceil(self.level - 1e-9)), 0.0

    def configure(self, capacity: int | None = None, leak_per_s: float | None = None) -> None:
        with self._lock:
            if capacity is not None:
                self.capacity = int(capacity)
            if leak_per_s is not None:
                self.leak_per_s = float(leak_per_s)
            # A reconfigured bucket starts empty, as for a new app: what earlier calls filled under
            # the old size must not turn the first call under the new one into a 429.
            self.level = 0.0
            self.last = time.monotonic()
            self.level = min(self.level, float(self.capacity))


class CostBucket:
    """The GraphQL Admin API's calculated-cost bucket: ``capacity`` points, restoring ``restore_per_s``."""

    def __init__(self, capacity: float = 2000.0, restore_per_s: float = 100.0) -> None:
        self.capacity, self.restore_per_s = float(capacity), float(restore_per_s)
        self.available = self.capacity
        self.last = time.monotonic()
        self._lock = threading.Lock()

    def _restore(self) -> None:
        now = time.monotonic()
        self.available = min(self.capacity, self.available + (now - self.last) * self.restore_per_s)
        self.last = now

    def take(self, requested: float) -> bool:
        with self._lock:
            self._restore()
            if requested > self.available:
                return False
            self.available -= requested
            return True

    def refund(self, points: float) -> None:
        with self._lock:
            self.available = min(self.capacity, self.available + points)

    def status(self) -> dict[str, float]:
        with self._lock:
            self._restore()
            return {
                "maximumAvailable": self.capacity,
                "currentlyAvailable": round(self.available, 1),
                "restoreRate": self.restore_per_s,
            }

    def configure(self, capacity: float | None = None, restore_per_s: float | None = None) -> None:
        with self._lock:
            if capacity is not None:
                self.capacity = float(capacity)
            if restore_per_s is not None:
                self.restore_per_s = float(restore_per_s)
            self.available, self.last = self.capacity, time.monotonic()


def auth_check(sim: Sim):
    def check(headers: dict[str, str]) -> tuple[int, Any, dict[str, str]] | None:
        if headers.get("x-shopify-access-token") != sim.tokens["shopify"]:
            return 401, UNAUTHORIZED, {}
        return None

    return check


def _json(status: int, body: Any, headers: dict[str, str]) -> Response:
    return Response(
        json.dumps(body, separators=(",", ":")),
        status_code=status,
        media_type="application/json",
        headers=headers,
    )


async def not_found(request: Request) -> Response:
    return _json(404, NOT_FOUND, {})


def _routes() -> list[Route]:
    from .shopify_graphql import graphql  # local import: it imports this module

    return [
        Route(API + "/graphql.json", graphql, methods=["POST"]),
        Route("/{rest:path}", not_found, methods=["GET", "POST", "PUT", "DELETE"]),
    ]


ROUTES = _routes()

__all__ = ["API", "API_VERSION", "NOT_FOUND", "ROUTES", "CostBucket", "LeakyBucket", "auth_check", "order_id"]
