"""Shared by the replacement tests (no tests here): orders built as data, the simulator as the 3PL.

Orders are built with `tests.checks.factories` and written through `services.store`, with store ids far
from the simulator's so the 3PL refresh never brings in a simulated order. SKUs are the simulator's
catalog, so the simulator can both report their stock and create orders for them.
"""

from __future__ import annotations

import copy
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest
from sqlalchemy import func, select
from sqlalchemy.engine import Engine
from sqlmodel import Session

from checks.model import Address, InventoryItem, LineQuantity, StoreOrder, WarehouseOrder, WarehouseProduct
from db.models.audit import AuditEntry
from db.session import session_scope
from services import store
from services.permissions import Actor, Role
from services.replacements.records import T_REPLACEMENT
from services.settings import Settings
from tests.checks import factories as f

NOW = datetime(2026, 11, 20, 15, 0, tzinfo=UTC)
SIM_CLOCK = "2026-11-20T15:00:00Z"
POLICY = f.policy()
BASE_ID = 6_100_000_000_000  # far from the simulator's store ids (5_410_…)
AGENT, OPS, LEAD, ADMIN = (
    Actor(n, r) for n, r in (("ann", Role.AGENT), ("olga", Role.OPS), ("lee", Role.LEAD), ("ada", Role.ADMIN))
)
ACTORS_IN_DB = (AGENT, OPS, LEAD, ADMIN)
ADDRESS = Address(
    name="Dana Reyes",
    address1="41 Pier Road",
    address2="Apt 2",
    city="Portland",
    province_code="ME",
    country_code="US",
    zip="04101",
    phone="+12075550142",
)
NO_SOURCES: dict[str, Any] = {
    name: None
    for name in (
        "shopify_shop_url",
        "shopify_access_token",
        "shipbob_api_url",
        "shipbob_token",
        "easypost_api_url",
        "easypost_api_key",
    )
}


def shipped_order(
    n: int, *, sku: str = "TEE-M", quantity: int = 2, vendor: str = "Harbor Goods", **overrides: Any
) -> tuple[StoreOrder, WarehouseOrder]:
    """Store order `#<9000+n>` whose one line (`quantity` × `sku`) shipped, and its completed 3PL order."""
    order_id, line_id = BASE_ID + n, BASE_ID + 500_000 + n
    line = f.line_item(
        id=line_id, sku=sku, title=f"Item {sku}", vendor=vendor, quantity=quantity, fulfillable_quantity=0
    )
    tracking = f"1ZRP{n:010d}"
    values: dict[str, Any] = {
        "id": order_id,
        "name": f"#{9000 + n}",
        "line_items": (line,),
        "fulfillment_status": "fulfilled",
        "fulfillments": (
            f.fulfillment(
                id=BASE_ID + 700_000 + n,
                tracking_numbers=(tracking,),
                line_items=(LineQuantity(line_id, quantity),),
            ),
        ),
        "shipping_address": ADDRESS,
        "email": f"customer{n}@example.com",
        "customer_name": "Dana Reyes",
    }
    values.update(overrides)
    order = f.store_order(**values)
    warehouse = f.warehouse_order(
        id=BASE_ID + 800_000 + n,
        reference_id=str(order_id),
        order_number=order.number,
        status="Completed",
        products=(WarehouseProduct(sku, quantity, sku),),
        shipments=(f.shipment(id=BASE_ID + 900_000 + n, tracking_number=tracking),),
    )
    return order, warehouse


def seed(
    engine: Engine, order: StoreOrder, *warehouse: WarehouseOrder, inventory: tuple[InventoryItem, ...] = ()
) -> None:
    with engine.begin() as conn:
        store.write_store_orders(conn, [order], NOW)
        store.write_warehouse_orders(conn, list(warehouse), NOW)
        store.write_inventory(conn, inventory, NOW)
        store.reclassify(conn, [order.id], POLICY, NOW)


def stock(sku: str, quantity: int) -> InventoryItem:
    return InventoryItem(
        sku=sku, total_fulfillable_quantity=quantity, by_fulfillment_center=(("Cicero (IL)", quantity),)
    )


def settings_for(sim: Any | None = None, *, only_3pl: bool = True, **extra: Any) -> Settings:
    """No source at all (None), the simulator as the 3PL only, or all three of its sources."""
    values = dict(NO_SOURCES)
    if sim is not None:
        raw = sim.settings if isinstance(sim.settings, dict) else sim.settings()  # SimApi or the running one
        given = {k.lower(): v for k, v in raw.items()}
        values.update({k: v for k, v in given.items() if k.startswith("shipbob") or not only_3pl})
    return Settings(database_url="sqlite://", **values, **extra)


def audit_rows(engine: Engine, action: str | None = None) -> list[AuditEntry]:
    with Session(engine) as session:
        query = select(AuditEntry).order_by(AuditEntry.id)  # type: ignore[arg-type]
        if action is not None:
            query = query.where(AuditEntry.action == action)
        return list(session.execute(query).scalars())


def replacement_rows(engine: Engine) -> list[Any]:
    with engine.connect() as conn:
        return list(conn.execute(select(T_REPLACEMENT).order_by(T_REPLACEMENT.c.id)))


def count_rows(engine: Engine) -> int:
    with engine.connect() as conn:
        return int(conn.execute(select(func.count()).select_from(T_REPLACEMENT)).scalar_one())


def session(engine: Engine) -> Any:
    return session_scope(engine)


# ---------------------------------------------------------------- the simulator


class SimApi:
    """The running simulator and direct calls to it (what the 3PL really holds, its request log)."""

    def __init__(self, running: Any) -> None:
        self.running = running
        self.settings = running.settings()
        self.http = httpx.Client(timeout=30)
        self.auth = {"Authorization": f"Bearer {self.settings['SHIPBOB_TOKEN']}"}

    def orders_with_reference(self, reference_id: str) -> list[dict[str, Any]]:
        reply = self.http.get(
            f"{self.settings['SHIPBOB_API_URL']}/2026-07/order",
            params={"ReferenceIds": reference_id},
            headers=self.auth,
        )
        reply.raise_for_status()
        return [o for o in reply.json() if o["reference_id"] == reference_id]

    def create(self, payload: dict[str, Any]) -> httpx.Response:
        return self.http.post(
            f"{self.settings['SHIPBOB_API_URL']}/2026-07/order",
            json=payload,
            headers={**self.auth, "shipbob_channel_id": "100102"},
        )

    def posts(self) -> int:
        """Create calls the simulator served, once its log has settled (it logs after replying)."""
        seen = -1
        while True:
            now = int(self.running.sim.log.snapshot(1)["counts"].get("POST /shipbob/2026-07/order", 0))
            if now == seen:
                return now
            seen = now
            time.sleep(0.1)

    @contextmanager
    def stock_restored(self) -> Iterator[None]:
        """Whatever a test does to the 3PL's stock is undone afterwards (the world is shared by a module)."""
        world = self.running.world
        with world.lock:
            saved = copy.deepcopy(world.stock)
        try:
            yield
        finally:
            with world.lock:
                world.stock.clear()
                world.stock.update(saved)

    def control(self, method: str, path: str, body: Any = None) -> Any:
        reply = self.http.request(method, f"{self.running.base_url}/_sim{path}", json=body)
        reply.raise_for_status()
        return reply.json()


@pytest.fixture(scope="module")
def sim() -> Iterator[SimApi]:
    """A small simulated world held at SIM_CLOCK, shared by a module: tests use their own orders and SKUs."""
    from sandbox.server import start_in_thread

    running = start_in_thread(seed=7, orders=120, clock=SIM_CLOCK)
    api = SimApi(running)
    yield api
    api.http.close()
    running.stop()


class Counting(httpx.BaseTransport):
    """Sends everything to the simulator and counts what our client sent."""

    def __init__(self) -> None:
        self.inner, self.posts, self.gets = httpx.HTTPTransport(), 0, 0

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        if request.method == "POST":
            self.posts += 1
        else:
            self.gets += 1
        return self.inner.handle_request(request)


class AfterAccept(httpx.BaseTransport):
    """Sends everything to the simulator; the create call reaches it, then the reply is lost (a timeout)."""

    def __init__(self, *, forward_post: bool = True) -> None:
        self.inner = httpx.HTTPTransport()
        self.forward_post = forward_post
        self.posts = 0

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        if request.method != "POST":
            return self.inner.handle_request(request)
        self.posts += 1
        if self.forward_post:
            self.inner.handle_request(request).read()
        raise httpx.ReadTimeout("timed out waiting for the reply", request=request)


class RacingWriter(httpx.BaseTransport):
    """Just before our create call, someone else creates an order with the same reference at the 3PL."""

    def __init__(self, api: SimApi) -> None:
        self.inner, self.api = httpx.HTTPTransport(), api

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        if request.method == "POST":
            import json

            body = json.loads(request.content)
            assert self.api.create(body).status_code == 201
        return self.inner.handle_request(request)


class ScriptFaultOnPost(httpx.BaseTransport):
    """Scripts a simulator fault (e.g. `truncated`) for exactly the create call, then sends it."""

    def __init__(self, api: SimApi, kind: str) -> None:
        self.inner, self.api, self.kind = httpx.HTTPTransport(), api, kind

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        if request.method == "POST":
            self.api.control("POST", "/faults", {"script": [self.kind], "source": "shipbob"})
        return self.inner.handle_request(request)
