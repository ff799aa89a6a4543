"""Import of `shopify/orders.jsonl` (the bulk output of the connector's order query), both databases."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import func, select
from sqlalchemy.engine import Engine

from checks.policy import load_policy
from sandbox.records import shop_order_bytes
from sandbox.records.shopify_graphql import graphql_order, jsonl_lines
from sandbox.server import make_sim
from services.errors import SnapshotError
from services.snapshot import import_snapshot
from services.store import T_CLASS, T_ORDER, load_store_orders
from tests.conftest import SMALL_STORE

NOW = datetime(2026, 11, 20, 15, tzinfo=UTC)
POLICY = load_policy(SMALL_STORE / "sla.toml")


def _world_snapshot(root: Path, *, jsonl: bool = True, orders: int = 120) -> list[int]:
    sim = make_sim(orders=orders, clock="2026-11-20T15:00:00Z")
    world, T = sim.world, sim.now()
    rows = [world.row(i) for i in range(world.shop_visible(T))]
    (root / "shopify").mkdir(parents=True, exist_ok=True)
    if jsonl:
        with (root / "shopify" / "orders.jsonl").open("w") as out:
            for r in rows:
                out.writelines(line + "\n" for line in jsonl_lines(graphql_order(world, r, T)))
    else:
        body = b'{"orders":[' + b",".join(shop_order_bytes(world, r, T) for r in rows) + b"]}"
        (root / "shopify" / "orders.json").write_bytes(body)
    return [int(json.loads(shop_order_bytes(world, r, T))["id"]) for r in rows]


def _count(engine: Engine, table: object) -> int:
    with engine.connect() as conn:
        return int(conn.scalar(select(func.count()).select_from(table)) or 0)  # type: ignore[arg-type]


def test_a_bulk_jsonl_imports_every_order_with_its_children_and_holds(engine: Engine, tmp_path: Path) -> None:
    ids = _world_snapshot(tmp_path)
    report = import_snapshot(tmp_path, engine=engine, policy=POLICY, now=NOW)
    assert report.counts == {"store_jsonl": len(ids)} and "shopify/orders.json" not in report.missing_files
    assert _count(engine, T_ORDER) == _count(engine, T_CLASS) == len(ids)
    with engine.connect() as conn:
        stored = load_store_orders(conn, ids)
    assert all(o.on_hold is not None for o in stored.values())  # the holds came with the orders
    assert sum(len(o.line_items) for o in stored.values()) > len(ids)
    assert any(o.refunds and o.refunds[0].line_items for o in stored.values())


def test_the_jsonl_and_the_rest_file_store_the_same_orders(engine: Engine, tmp_path: Path) -> None:
    ids = _world_snapshot(tmp_path / "jsonl")
    _world_snapshot(tmp_path / "rest", jsonl=False)
    import_snapshot(tmp_path / "rest", engine=engine, policy=POLICY, now=NOW)
    with engine.connect() as conn:
        from_rest = load_store_orders(conn, ids)
    import_snapshot(tmp_path / "jsonl", engine=engine, policy=POLICY, now=NOW)
    with engine.connect() as conn:
        from_jsonl = load_store_orders(conn, ids)
    for order_id, rest in from_rest.items():
        graph = from_jsonl[order_id]
        assert (graph.name, graph.financial_status, graph.fulfillment_status) == (
            rest.name,
            rest.financial_status,
            rest.fulfillment_status,
        )
        assert graph.fulfillments == rest.fulfillments and graph.refunds == rest.refunds


@pytest.mark.parametrize(
    ("line", "says"),
    [
        ("{not json", "line 2"),
        ('{"id": "gid://shopify/LineItem/9", "__parentId": "gid://shopify/Order/1"}', "__parentId"),
        ('{"id": "gid://shopify/Order/5", "name": "#5"}', "createdAt"),
    ],
)
def test_a_bad_line_refuses_the_import_and_writes_nothing(
    engine: Engine, tmp_path: Path, line: str, says: str
) -> None:
    _world_snapshot(tmp_path, orders=30)
    path = tmp_path / "shopify" / "orders.jsonl"
    lines = path.read_text().splitlines()
    # A child line goes after the first order's line; an order line goes last (after every child).
    placed = [*lines, line] if '"name"' in line else [lines[0], line, *lines[1:]]
    path.write_text("\n".join(placed) + "\n")
    with pytest.raises(SnapshotError) as caught:
        import_snapshot(tmp_path, engine=engine, policy=POLICY, now=NOW)
    assert "shopify/orders.jsonl" in str(caught.value) and says in str(caught.value)
    assert _count(engine, T_ORDER) == 0
