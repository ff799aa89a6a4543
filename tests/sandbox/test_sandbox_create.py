"""Creating 3PL orders: 201, inventory reservation, duplicate reference 422, validation errors."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from sandbox.server import start_in_thread

from .conftest import CLOCK, Api


@pytest.fixture(scope="module")
def api() -> Iterator[Api]:
    sim = start_in_thread(seed=3, orders=800, clock=CLOCK, warm=False)
    a = Api(sim)
    yield a
    a.http.close()
    sim.stop()


def _body(ref: str, sku: str = "TEE-M", qty: int = 2) -> dict[str, Any]:
    return {
        "reference_id": ref,
        "order_number": ref,
        "shipping_method": "Standard",
        "type": "DTC",
        "recipient": {
            "name": "Dana Reyes",
            "address": {
                "address1": "41 Pier Road",
                "address2": None,
                "city": "Portland",
                "state": "ME",
                "country": "US",
                "zip_code": "04101",
            },
            "email": "dana.reyes@example.com",
            "phone_number": "+12075550142",
        },
        "products": [{"reference_id": sku, "quantity": qty}],
        "tags": [{"name": "replacement_of", "value": ref.split("-R")[0]}],
    }


def _inventory(api: Api, sku: str) -> dict[str, Any]:
    prod = api.shipbob("/product", SKU=sku).json()[0]
    return api.shipbob(f"/inventory/{prod['fulfillable_inventory_items'][0]['id']}").json()


def test_create_reserves_inventory_and_rejects_duplicates(api: Api) -> None:
    sb = api.all_shipbob()
    existing = next(o for o in sb if "-R" not in o["reference_id"])
    replaced = next(o for o in sb if o["reference_id"].endswith("-R1"))
    store = api.all_shopify()
    have_repl = {o["reference_id"].split("-R")[0] for o in sb if "-R" in o["reference_id"]}
    target = next(o for o in store if str(o["id"]) not in have_repl)
    ref = f"{target['id']}-R1"

    inv0 = _inventory(api, "TEE-M")
    api.control("DELETE", "/requests")
    r = api.shipbob_post("/order", _body(ref))
    assert r.status_code == 201, r.text
    created = r.json()
    assert created["reference_id"] == ref and created["status"] == "Processing"
    assert created["shipments"][0]["status"] == "Processing" and created["shipments"][0]["tracking"] is None
    assert created["products"][0]["sku"] == "TEE-M" and created["products"][0]["quantity"] == 2
    log = api.control("GET", "/requests")
    assert log["counts"]["POST /shipbob/1.0/order"] == 1

    inv1 = _inventory(api, "TEE-M")
    assert inv1["total_committed_quantity"] == inv0["total_committed_quantity"] + 2
    assert inv1["total_fulfillable_quantity"] == inv0["total_fulfillable_quantity"] - 2

    got = api.shipbob("/order", ReferenceIds=ref).json()
    assert [o["id"] for o in got] == [created["id"]]
    assert api.shipbob(f"/order/{created['id']}").json() == created

    for dup in (ref, replaced["reference_id"], existing["reference_id"]):
        d = api.shipbob_post("/order", _body(dup))
        assert d.status_code == 422, dup
        assert d.json() == {"reference_id": [f"Order with reference id {dup} already exists"]}
    assert _inventory(api, "TEE-M") == inv1  # rejected orders reserve nothing


def test_create_validation(api: Api) -> None:
    bad = _body("X-1")
    del bad["recipient"]
    r = api.shipbob_post("/order", bad)
    assert r.status_code == 400 and "recipient" in r.json()
    r = api.shipbob_post("/order", {**_body("X-2"), "products": [{"reference_id": "TEE-M", "quantity": 0}]})
    assert r.status_code == 400 and "products[0].quantity" in r.json()
    r = api.http.post(
        api.s["SHIPBOB_API_URL"] + "/1.0/order",
        content=b"{not json",
        headers={"Authorization": f"Bearer {api.s['SHIPBOB_TOKEN']}", "Content-Type": "application/json"},
    )
    assert r.status_code == 400
    r = api.shipbob_post("/order", _body("X-3", sku="NO-SUCH-SKU"))
    assert r.status_code == 400 and "products[0].reference_id" in r.json()
    r = api.shipbob_post("/order", _body("X-4", sku="SCARF-GRY"))  # a drop-shipped SKU the 3PL never stocks
    assert r.status_code == 400
    oos = api.shipbob_post("/order", _body("X-5", sku="MUG-BLUE", qty=50))
    assert oos.status_code == 201 and oos.json()["status"] == "Exception"
    assert oos.json()["shipments"][0]["status_details"][0]["name"] == "OutOfStock"
    unauth = api.http.post(api.s["SHIPBOB_API_URL"] + "/1.0/order", json=_body("X-6"))
    assert unauth.status_code == 401
