"""Forgiving search: every key an agent may have in hand, any case, ranked, with the field that matched."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import pytest
from sqlalchemy import select
from sqlalchemy.engine import Engine

from services.lookup.search import MAX_QUERY, search_orders
from services.store import T_CODES, T_ORDER, T_WAREHOUSE
from services.sync import sync_all
from tests.services.sources.simulator import simulator

pytestmark = pytest.mark.timeout(180)


@dataclass(frozen=True)
class Keys:
    order: str
    order_id: int
    customer_name: str
    email: str
    tracking: str
    warehouse_id: int


@pytest.fixture
def synced(engine: Engine) -> Iterator[Keys]:
    with simulator(orders=200) as sim:
        settings = sim.settings()
        for result in sync_all(engine, settings, settings.policy(), now=sim.now()).values():
            assert result.ok
    with engine.connect() as conn:
        row = conn.execute(
            select(
                T_ORDER.c.id,
                T_ORDER.c.name,
                T_ORDER.c.customer_name,
                T_ORDER.c.email,
                T_CODES.c.tracking_number,
            )
            .join(T_CODES, T_CODES.c.order_id == T_ORDER.c.id)
            .join(T_WAREHOUSE, T_WAREHOUSE.c.store_order_id == T_ORDER.c.id)
            .where(T_ORDER.c.customer_name.is_not(None), T_ORDER.c.email.is_not(None))
            .order_by(T_ORDER.c.id)
            .limit(1)
        ).one()
        warehouse_id = conn.scalar(select(T_WAREHOUSE.c.id).where(T_WAREHOUSE.c.store_order_id == row.id))
    yield Keys(row.name, row.id, row.customer_name, row.email, row.tracking_number, int(warehouse_id))


def _first(engine: Engine, query: str) -> tuple[str, str]:
    with engine.connect() as conn:
        hits = search_orders(conn, query)
    assert hits, f"nothing found for {query!r}"
    return hits[0].order, hits[0].matched_on


def _orders(engine: Engine, query: str) -> dict[str, str]:
    with engine.connect() as conn:
        return {h.order: h.matched_on for h in search_orders(conn, query)}


def test_each_key_finds_the_order_and_says_which_field_matched(engine: Engine, synced: Keys) -> None:
    k = synced
    assert _first(engine, k.order) == (k.order, "order name")
    assert _first(engine, k.order.lstrip("#")) == (k.order, "order name")
    assert _orders(engine, k.tracking.lower())[k.order] == "tracking number"
    assert _orders(engine, str(k.warehouse_id))[k.order] == "ShipBob order id"
    assert _orders(engine, k.email.upper())[k.order] == "customer email"
    assert _orders(engine, k.customer_name.lower())[k.order] == "customer name"
    last_name = k.customer_name.split()[-1]
    assert _orders(engine, last_name.upper())[k.order] in ("customer name", "part of the customer name")
    local = k.email.split("@")[0]
    assert _orders(engine, local[1:])[k.order] == "part of the email"


def test_a_replacement_reference_finds_its_order(engine: Engine, synced: Keys) -> None:
    number = synced.order.lstrip("#")
    with (
        engine.begin() as conn
    ):  # a replacement as the 3PL has it: its own order, numbered after the original
        conn.execute(
            T_WAREHOUSE.insert().values(
                id=990000001,
                reference_id=f"{synced.order_id}-R1",
                order_number=f"{number}-R1",
                status="Processing",
                products=[],
                replacement_of=synced.order_id,
                replacement_seq=1,
            )
        )
    assert _orders(engine, f"{number}-r1")[synced.order] == "replacement reference"
    assert _orders(engine, f"#{number}-R1")[synced.order] == "replacement reference"


def test_ranking_puts_exact_keys_before_parts(engine: Engine, synced: Keys) -> None:
    with engine.connect() as conn:
        hits = search_orders(conn, synced.email)
    ranks = [h.matched_on for h in hits]
    assert ranks[0] == "customer email"
    assert ranks == sorted(ranks, key=["customer email", "part of the email"].index)


def test_short_and_silly_queries(engine: Engine, synced: Keys) -> None:
    with engine.connect() as conn:
        assert search_orders(conn, "   ") == []
        assert search_orders(conn, "ab") == []  # too short for a part, and no key is two characters
        assert search_orders(conn, "x" * 5000) == []
        assert search_orders(conn, "%") == [] and search_orders(conn, '"_"') == []
    assert MAX_QUERY < 5000
