"""The fulfilment data version counts every write of 3PL orders, shipments or trackers, and nothing else."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy.engine import Engine

from checks.model import Shipment, StoreOrder, Tracker, WarehouseOrder
from services import store
from services.settings import Settings

NOW = datetime(2026, 11, 20, 15, tzinfo=UTC)
ORDER = StoreOrder(
    id=1, name="#1001", created_at=NOW, updated_at=NOW, financial_status="paid", fulfillment_status=None,
    line_items=(),
)  # fmt: skip
WAREHOUSE = WarehouseOrder(
    id=7, reference_id="1", order_number="#1001", status="Processing", created_date=NOW,
    shipments=(Shipment(id=70, status="Processing"),),
)  # fmt: skip
POLICY = Settings(database_url="sqlite://").policy()
TRACKER = Tracker(id="trk_1", tracking_code="1Z1", status="in_transit", created_at=NOW, updated_at=NOW)


def _version(engine: Engine) -> int | None:
    with engine.connect() as conn:
        return store.fulfilment_version(conn)


def test_each_write_of_3pl_or_carrier_data_bumps_the_version_and_store_writes_do_not(engine: Engine) -> None:
    assert _version(engine) is None  # nothing written yet: never equal to a version read later
    with engine.begin() as conn:
        store.write_store_orders(conn, [ORDER], NOW)
        store.write_warehouse_orders(conn, [], NOW)
        store.write_trackers(conn, [], NOW)
    assert _version(engine) is None
    with engine.begin() as conn:
        store.write_warehouse_orders(conn, [WAREHOUSE], NOW)
    assert _version(engine) == 1
    with engine.begin() as conn:
        store.write_trackers(conn, [TRACKER], NOW)
        store.write_warehouse_orders(conn, [WAREHOUSE], NOW)  # the same again still counts
    assert _version(engine) == 3
    with engine.begin() as conn:
        store.store_classifications(conn, store.build_views(conn, [ORDER], events=False), POLICY, NOW)
    assert _version(engine) == 3  # re-pointing 3PL matches is not 3PL data


def test_a_write_rolled_back_leaves_the_version(engine: Engine) -> None:
    with engine.begin() as conn:
        store.write_warehouse_orders(conn, [WAREHOUSE], NOW)
    conn = engine.connect()
    with conn.begin() as tx:
        store.write_trackers(conn, [TRACKER], NOW)
        tx.rollback()
    conn.close()
    assert _version(engine) == 1
