"""A running simulator for connector and sync tests: real HTTP on loopback, controlled over `/_sim`."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import Any

import httpx

from sandbox.server import RunningSimulator, start_in_thread
from services.settings import Settings

CLOCK = "2026-11-20T15:00:00Z"  # a Friday afternoon, a week before Thanksgiving 2026
ORDERS = 400


class Sim:
    """One simulator: settings for the connectors, and its control routes."""

    def __init__(self, running: RunningSimulator) -> None:
        self.running = running
        self.http = httpx.Client(base_url=running.base_url, timeout=30)

    def settings(self, **overrides: Any) -> Settings:
        values: dict[str, Any] = {k.lower(): v for k, v in self.running.settings().items()}
        values.update(source_timeout_s=5.0, database_url="sqlite://")
        values.update(overrides)
        return Settings(**values)

    def now(self) -> datetime:
        return datetime.fromtimestamp(self.http.get("/_sim/state").json()["clock"]["now_epoch"], UTC)

    def advance(self, seconds: float) -> datetime:
        self.http.post("/_sim/clock", json={"advance_s": seconds}).raise_for_status()
        return self.now()

    def faults(self, **settings: Any) -> dict[str, Any]:
        response = self.http.post("/_sim/faults", json=settings)
        response.raise_for_status()
        return response.json()

    def clear_faults(self) -> None:
        self.faults(rate=0, latency_ms=0, clear_script=True)

    def requests(self, limit: int = 5000) -> dict[str, Any]:
        return self.http.get("/_sim/requests", params={"limit": limit}).json()

    def reset_requests(self) -> None:
        self.http.delete("/_sim/requests").raise_for_status()

    def order_truth(self, order_id: int | str) -> dict[str, Any]:
        return self.http.get(f"/_sim/orders/{order_id}").json()

    def calls(self, method_path: str) -> list[dict[str, Any]]:
        return [r for r in self.requests()["recent"] if f"{r['method']} {r['path']}".endswith(method_path)]


@contextmanager
def simulator(orders: int = ORDERS, *, clock: str = CLOCK, **options: Any) -> Iterator[Sim]:
    """A simulator at a held clock; Shopify's bucket is roomy unless `shopify_bucket` says otherwise."""
    options.setdefault("shopify_bucket", 100_000)
    options.setdefault("shopify_leak_per_s", 100_000.0)
    options.setdefault("shopify_graphql_restore_per_s", 1e7)
    running = start_in_thread(orders=orders, clock=clock, **options)
    sim = Sim(running)
    try:
        yield sim
    finally:
        sim.http.close()
        running.stop()


# ---------------------------------------------------------------- comparing databases

DUMPED_TABLES = (
    "store_order",
    "store_line_item",
    "store_fulfillment",
    "store_refund",
    "warehouse_order",
    "warehouse_shipment",
    "carrier_tracker",
    "inventory_level",
    "order_classification",
    "order_discrepancy",
    "order_tracking_number",
)
WRITE_TIMES = frozenset({"synced_at", "classified_at"})


def canonical_dump(engine: Any, *, skip: frozenset[str] = frozenset()) -> dict[str, list[tuple[Any, ...]]]:
    """Every row of the source and classification tables, sorted, without write times: two databases
    that hold the same data dump equal (SQLite or PostgreSQL alike)."""
    from sqlalchemy import select
    from sqlmodel import SQLModel

    import db.models  # noqa: F401  (registers the tables)

    meta = SQLModel.metadata
    out: dict[str, list[tuple[Any, ...]]] = {}
    with engine.connect() as conn:
        for name in DUMPED_TABLES:
            table = meta.tables[name]
            columns = [c for c in table.columns if c.name not in WRITE_TIMES | skip]
            rows = conn.execute(select(*columns)).tuples().all()
            out[name] = sorted((tuple(_plain(v) for v in row) for row in rows), key=repr)
    return out


def _plain(value: Any) -> Any:
    import json as _json
    from datetime import date

    if isinstance(value, datetime):
        return (value if value.tzinfo else value.replace(tzinfo=UTC)).astimezone(UTC).isoformat()
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, str) and value[:1] in "[{":
        try:
            return _json.dumps(_json.loads(value), sort_keys=True)
        except ValueError:
            return value
    if isinstance(value, dict | list):
        return _json.dumps(value, sort_keys=True)
    if isinstance(value, bool):
        return int(value)
    return value
