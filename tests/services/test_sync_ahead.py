"""A store page classified where it is fetched is stored exactly as one classified at its commit, and a
commit uses those classifications only while the 3PL and carrier data and the order's hold are still
the ones they were made with."""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from dataclasses import replace
from datetime import timedelta
from pathlib import Path

import msgspec
import pytest
from sqlalchemy.engine import Engine

from checks.model import Shipment, StoreOrder, WarehouseOrder
from db.migrate import upgrade
from db.session import make_engine
from services import store
from services.bulk import bulk_select
from services.sources.shopify_client import ShopifyClient
from services.sync import sync_source
from services.sync.ahead import ClassifiedAhead, classifications, classify_page
from services.sync.engine import _commit
from services.sync.passes import Page
from tests.services.sources.simulator import Sim, canonical_dump, simulator

pytestmark = pytest.mark.timeout(120)


@pytest.fixture(scope="module")
def sim() -> Iterator[Sim]:
    with simulator(orders=150) as running:
        yield running


def _with_fulfilment(engine: Engine, sim: Sim) -> None:
    settings = sim.settings()
    for source in ("shipbob", "easypost"):
        assert sync_source(engine, settings, settings.policy(), source, full=True, now=sim.now()).ok


def _classified_page(engine: Engine, sim: Sim) -> Page:
    with ShopifyClient(sim.settings()) as client:
        # A hundred orders, as a page of the store's listing was before GraphQL's cost limit.
        orders = [o for p in itertools.islice(client.order_pages(), 25) for o in p.orders]
        page = Page("store", orders, str(orders[-1].id), holds_pending=True)
        return classify_page(engine, page, sim.settings().policy(), sim.now(), client)


def _synced_and_classified(engine: Engine, sim: Sim) -> tuple[Page, ClassifiedAhead]:
    """A store page classified ahead, on a database holding the 3PL and carrier data."""
    _with_fulfilment(engine, sim)
    page = _classified_page(engine, sim)
    assert page.classified is not None
    return page, page.classified


def _category(engine: Engine, order_id: int) -> str:
    with engine.connect() as conn:
        rows = bulk_select(conn, store.T_CLASS, ("order_id", "base_category"), "order_id", [order_id])
    return dict(rows)[order_id]


def test_a_page_classified_ahead_is_stored_as_one_classified_at_its_commit(
    engine: Engine, sim: Sim, tmp_path: Path
) -> None:
    policy, now = sim.settings().policy(), sim.now()
    at_commit = make_engine(f"sqlite:///{tmp_path / 'at_commit.db'}")
    upgrade(at_commit)
    for db in (engine, at_commit):
        _with_fulfilment(db, sim)
    page = _classified_page(engine, sim)
    assert page.classified is not None and not page.holds_pending
    assert any(o.on_hold is not None for o in page.records if isinstance(o, StoreOrder))  # holds asked
    with engine.begin() as conn:
        _commit(conn, page, policy, now)
    with at_commit.begin() as conn:
        _commit(conn, replace(page, classified=None), policy, now)
    assert canonical_dump(engine) == canonical_dump(at_commit)
    at_commit.dispose()


def test_a_3pl_write_after_the_page_was_classified_makes_its_commit_classify_again(
    engine: Engine, sim: Sim
) -> None:
    policy, now = sim.settings().policy(), sim.now()
    page, classified = _synced_and_classified(engine, sim)
    unmatched = next(c for c in classified.orders if c.warehouse_id is None and c.base_category == "open")
    order = next(o for o in page.records if isinstance(o, StoreOrder) and o.id == unmatched.order_id)
    shipped = WarehouseOrder(
        id=9_000_001, reference_id=str(order.id), order_number=order.number, status="Completed",
        created_date=order.created_at,
        shipments=(Shipment(id=9_000_002, status="Completed", tracking_number="1ZLATE0001",
                            shipping_date=now - timedelta(hours=1)),),
    )  # fmt: skip
    with engine.begin() as conn:
        store.write_warehouse_orders(conn, [shipped], now)  # the 3PL shipped it meanwhile
    with engine.begin() as conn:
        _commit(conn, page, policy, now)
    assert _category(engine, order.id) != "open"  # classified with the 3PL order, not as it was ahead


def _bogus(ahead: ClassifiedAhead) -> list[store.OrderClassified]:
    return [replace_row(c, base_category="bogus") for c in ahead.orders]


def replace_row(c: store.OrderClassified, *, base_category: str) -> store.OrderClassified:
    row = list(c.row)
    row[store.CLASS_COLUMNS.index("base_category")] = base_category
    return msgspec.structs.replace(c, row=tuple(row))


def test_a_commit_takes_the_classifications_made_ahead_only_while_version_and_hold_match(
    engine: Engine, sim: Sim
) -> None:
    policy, now = sim.settings().policy(), sim.now()
    page, classified = _synced_and_classified(engine, sim)
    made = ClassifiedAhead(classified.version, classified.on_hold, _bogus(classified))
    assert made.version is not None
    with engine.begin() as conn:
        orders = store.with_stored_holds(conn, [o for o in page.records if isinstance(o, StoreOrder)])

        version = store.fulfilment_version(conn, hold=True)

        def categories(ahead: ClassifiedAhead | None) -> list[str]:
            return [c.base_category for c in classifications(conn, orders, ahead, version, policy, now)]

        assert set(categories(made)) == {"bogus"}  # taken as they were made
        assert "bogus" not in categories(None)
        assert "bogus" not in categories(msgspec.structs.replace(made, version=made.version - 1))
        assert "bogus" not in categories(msgspec.structs.replace(made, version=None))
        other_hold = [not orders[0].on_hold, *made.on_hold[1:]]
        held_otherwise = categories(msgspec.structs.replace(made, on_hold=other_hold))
        assert held_otherwise[0] != "bogus" and set(held_otherwise[1:]) == {"bogus"}
