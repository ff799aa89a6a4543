"""Store orders read back from the database are the orders that were written."""

from __future__ import annotations

from dataclasses import replace

from sqlalchemy.engine import Engine

from checks.model import StoreOrder
from services import store
from services.sources.shopify.client import ShopifyClient
from tests.services.sources.simulator import simulator


def test_store_orders_round_trip(engine: Engine) -> None:
    with simulator(orders=300) as sim, ShopifyClient(sim.settings()) as client:
        orders = [o for page in client.order_pages() for o in page.orders]
        now = sim.now()
    # Every shape the rules read: fulfillments with tracking numbers, refunds, cancellations, addresses.
    assert any(o.fulfillments and o.fulfillments[0].tracking_numbers for o in orders)
    assert any(o.refunds for o in orders) and any(o.cancelled_at for o in orders)
    orders[0] = replace(orders[0], on_hold=True)
    with engine.begin() as conn:
        store.write_store_orders(conn, orders, now)
    with engine.connect() as conn:
        ids = [o.id for o in reversed(orders)] + [1]  # any order; an id the store does not have
        loaded = store.load_store_orders(conn, ids)
    assert loaded == {o.id: _by_id(o) for o in orders}


def _by_id(order: StoreOrder) -> StoreOrder:
    """What is read back lists lines, fulfillments and refunds by id, whatever order the API gave."""
    return replace(
        order,
        line_items=tuple(sorted(order.line_items, key=lambda x: x.id)),
        fulfillments=tuple(sorted(order.fulfillments, key=lambda x: x.id)),
        refunds=tuple(sorted(order.refunds, key=lambda x: x.id)),
    )
