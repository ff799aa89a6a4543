"""The billing address, the customer record and the 3PL recipient are stored and read back with the
order view the summary is built from (SQLite and PostgreSQL)."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy.engine import Engine

from checks.model import Address, LineItem, StoreOrder, WarehouseOrder, WarehouseProduct
from services import store

NOW = datetime(2026, 11, 20, 15, tzinfo=UTC)
BILLING = Address(
    name="Jürgen Müller",
    address1="Friedrichstraße 12",
    city="Berlin",
    country_code="DE",
    zip="10117",
    phone="+49 30 901820",
    company="Müller & Söhne",
)
CUSTOMER_RECORD = Address(
    name="Mei Li Wu", address1="8 Quay Street", city="London", country_code="GB", email="mei@example.com"
)
RECIPIENT = Address(
    name="Dana Reyes",
    address1="41 Pier Road",
    address2="Apt 4B",
    city="Portland",
    province_code="ME",
    country_code="US",
    zip="04101",
    phone="(207) 555-0142",
    email="dana.reyes@example.com",
)
ORDER = StoreOrder(
    id=7001,
    name="#7001",
    created_at=datetime(2026, 11, 18, 9, tzinfo=UTC),
    updated_at=datetime(2026, 11, 18, 9, tzinfo=UTC),
    financial_status="paid",
    fulfillment_status=None,
    line_items=(LineItem(1, "MUG-BLUE", "Mug", None, 1, 1, "12.00"),),
    customer_name="Mei Li Wu",
    shipping_address=RECIPIENT,
    billing_address=BILLING,
    customer_address=CUSTOMER_RECORD,
    customer_email="mei@example.com",
    on_hold=False,
)
WAREHOUSE = WarehouseOrder(
    id=9001,
    reference_id="7001",
    order_number="7001",
    status="Processing",
    created_date=datetime(2026, 11, 18, 10, tzinfo=UTC),
    products=(WarehouseProduct("MUG-BLUE", 1, "MUG-BLUE"),),
    recipient=RECIPIENT,
)


def test_the_people_of_an_order_round_trip_into_its_view(engine: Engine) -> None:
    with engine.begin() as conn:
        store.write_store_orders(conn, [ORDER], NOW)
        store.write_warehouse_orders(conn, [WAREHOUSE], NOW)
    with engine.connect() as conn:
        assert store.load_store_orders(conn, [ORDER.id]) == {ORDER.id: ORDER}
        (view,) = store.load_views(conn, [ORDER.id])
        # Written again as they are, nothing changed: no needless reclassification.
        assert store.unchanged_warehouse_orders(conn, [WAREHOUSE]) == {WAREHOUSE.id}
    assert view.store.billing_address == BILLING
    assert view.store.customer_address == CUSTOMER_RECORD
    assert view.store.customer_email == "mei@example.com"
    assert view.warehouse is not None and view.warehouse.recipient == RECIPIENT


def test_orders_without_them_read_back_without_them(engine: Engine) -> None:
    bare = StoreOrder(
        id=7002,
        name="#7002",
        created_at=ORDER.created_at,
        updated_at=ORDER.updated_at,
        financial_status="paid",
        fulfillment_status=None,
        line_items=ORDER.line_items,
    )
    with engine.begin() as conn:
        store.write_store_orders(conn, [bare], NOW)
        store.write_warehouse_orders(
            conn,
            [
                WarehouseOrder(
                    id=9002, reference_id="7002", order_number="7002", status=None, created_date=None
                )
            ],
            NOW,
        )
    with engine.connect() as conn:
        (view,) = store.load_views(conn, [bare.id])
    assert view.store == bare
    assert view.warehouse is not None and view.warehouse.recipient is None
