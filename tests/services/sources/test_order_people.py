"""The people of an order that no rule reads but the summary redactor needs: the store order's billing
address and customer record, and the 3PL order's recipient, read from every source shape."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from checks.model import Address
from sandbox.records import shop_order_bytes
from sandbox.records.shipbob import sb_order_bytes
from sandbox.server import make_sim
from services.sources.shipbob.parse import parse_order as parse_warehouse_order
from services.sources.shopify.client import ShopifyClient
from services.sources.shopify.graphql import parse_graphql_order
from services.sources.shopify.parse import parse_order
from tests.services.sources.simulator import simulator

FIXTURE = Path(__file__).parents[2] / "fixtures" / "shopify" / "graphql_order.json"

REST_ORDER: dict[str, Any] = {
    "id": 450789469,
    "name": "#1001",
    "created_at": "2026-11-02T10:00:00-05:00",
    "email": "bob.norman@mail.example.com",
    "line_items": [{"id": 1, "quantity": 1, "name": "Mug"}],
    "shipping_address": {"name": "Bob Norman", "address1": "Chestnut Street 92", "city": "Louisville"},
    "billing_address": {
        "first_name": "Kathy",
        "last_name": "Norman",
        "name": "Kathy Norman",
        "company": "Norman Holdings",
        "address1": "2259 Park Ct",
        "address2": "",
        "city": "Drayton Valley",
        "province_code": "AB",
        "country_code": "CA",
        "zip": "T0E 0M0",
        "phone": "+1 780-555-0199",
    },
    "customer": {
        "id": 207119551,
        "first_name": "Bob",
        "last_name": "Norman",
        "email": "bob.norman@hostmail.example.com",
        "phone": "+16136120707",
        "default_address": {
            "first_name": "Bob",
            "last_name": "Norman",
            "address1": "Chestnut Street 92",
            "address2": "Apartment 2",
            "city": "Louisville",
            "province_code": "KY",
            "country_code": "US",
            "zip": "40202",
            "phone": "555-625-1199",
        },
    },
}

BILLING = Address(
    name="Kathy Norman",
    address1="2259 Park Ct",
    city="Drayton Valley",
    province_code="AB",
    country_code="CA",
    zip="T0E 0M0",
    phone="+1 780-555-0199",
    company="Norman Holdings",
)
CUSTOMER_RECORD = Address(
    name="Bob Norman",
    address1="Chestnut Street 92",
    address2="Apartment 2",
    city="Louisville",
    province_code="KY",
    country_code="US",
    zip="40202",
    phone="555-625-1199",  # the address's own phone before the record's
    email="bob.norman@hostmail.example.com",
)


def test_the_rest_reader_keeps_the_billing_address_and_the_customer_record() -> None:
    order = parse_order(REST_ORDER)
    assert order.billing_address == BILLING
    assert order.customer_address == CUSTOMER_RECORD
    assert order.customer_email == "bob.norman@hostmail.example.com"
    assert order.email == "bob.norman@mail.example.com"  # the order's own email is unchanged


def test_a_customer_record_without_a_default_address_still_gives_its_name_email_and_phone() -> None:
    raw = {
        **REST_ORDER,
        "customer": {**REST_ORDER["customer"], "default_address": None},
        "billing_address": None,
    }
    order = parse_order(raw)
    assert order.billing_address is None
    assert order.customer_address == Address(
        name="Bob Norman", email="bob.norman@hostmail.example.com", phone="+16136120707"
    )
    assert parse_order({**raw, "customer": None}).customer_address is None


def test_the_documented_graphql_order_reads_as_the_rest_order_does() -> None:
    order = parse_graphql_order(json.loads(FIXTURE.read_text()))
    assert order.billing_address == BILLING
    assert order.customer_address == CUSTOMER_RECORD
    assert order.customer_email == "bob.norman@hostmail.example.com"


def test_graphql_reads_the_deprecated_customer_email_and_phone_too() -> None:
    raw = json.loads(FIXTURE.read_text())
    raw["customer"] = {
        "firstName": "Bob",
        "lastName": "Norman",
        "email": "old@example.com",
        "phone": "+15550100",
    }
    order = parse_graphql_order(raw)
    assert order.customer_address == Address(name="Bob Norman", email="old@example.com", phone="+15550100")
    assert order.customer_email == "old@example.com"


SHIPBOB_ORDER: dict[str, Any] = {
    "id": 9120045,
    "reference_id": "450789469",
    "order_number": "1001",
    "status": "Processing",
    "recipient": {
        "name": "Bob Norman",
        "address": {
            "address1": "Chestnut Street 92",
            "address2": "Apartment 2",
            "company_name": None,
            "city": "Louisville",
            "state": "KY",
            "country": "US",
            "zip_code": "40202",
        },
        "email": "bob.norman@mail.example.com",
        "phone_number": "(502) 459-2181",
    },
    "products": [],
    "shipments": [],
}


def test_the_shipbob_reader_keeps_the_recipient() -> None:
    order = parse_warehouse_order(SHIPBOB_ORDER)
    assert order.recipient == Address(
        name="Bob Norman",
        address1="Chestnut Street 92",
        address2="Apartment 2",
        city="Louisville",
        province_code="KY",
        country_code="US",
        zip="40202",
        phone="(502) 459-2181",
        email="bob.norman@mail.example.com",
    )
    assert parse_warehouse_order({**SHIPBOB_ORDER, "recipient": None}).recipient is None
    assert parse_warehouse_order({**SHIPBOB_ORDER, "recipient": {"address": {}}}).recipient is None


def test_the_simulator_sends_varied_people_that_every_reader_keeps() -> None:
    """Some orders are paid by someone else, some customers' records keep an older address, the 3PL
    writes the phone its own way, and some notes mention them: the demo exercises the redactor."""
    sim = make_sim(orders=400, clock="2026-11-20T15:00:00Z")
    world, T = sim.world, sim.now()
    other_payer = old_address = record_phone = mentioned = 0
    for i in range(world.shop_visible(T)):
        order = parse_order(json.loads(shop_order_bytes(world, world.row(i), T)))
        assert order.billing_address is not None and order.customer_address is not None
        assert order.shipping_address is not None
        if order.billing_address.name != order.shipping_address.name:
            other_payer += 1
        if order.customer_address.address1 != order.shipping_address.address1:
            old_address += 1
        if order.customer_address.phone:
            record_phone += 1
        if order.note and order.billing_address.name and order.billing_address.name in order.note:
            mentioned += 1
    assert other_payer > 10 and old_address > 10 and record_phone > 50 and mentioned > 0
    warehouse = parse_warehouse_order(json.loads(sb_order_bytes(world, world.row(0), T)))
    assert warehouse.recipient is not None and warehouse.recipient.name and warehouse.recipient.phone
    assert warehouse.recipient.phone.startswith("(")


def test_a_bulk_operation_reads_them_as_the_rest_reader_does() -> None:
    """The bulk JSONL carries the same selection: the people of each order arrive with it."""
    with simulator(orders=200) as sim, ShopifyClient(sim.settings()) as client:
        bulk = {o.id: o for o in client.bulk_orders(poll_s=0.05)}
        world, T = sim.running.sim.world, sim.running.sim.now()
        rest = {
            o.id: o
            for o in (
                parse_order(json.loads(shop_order_bytes(world, world.row(i), T)))
                for i in range(world.shop_visible(T))
            )
        }
    assert bulk and bulk.keys() == rest.keys()
    people = {oid: (o.billing_address, o.customer_address, o.customer_email) for oid, o in rest.items()}
    assert {
        oid: (o.billing_address, o.customer_address, o.customer_email) for oid, o in bulk.items()
    } == people
    assert any(b is not None and b.name != rest[oid].customer_name for oid, (b, _, _) in people.items())
