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
    [level] = [i for i in api.shipbob("/inventory-level", SearchBy=sku).json()["items"] if i["sku"] == sku]
    return dict(api.shipbob(f"/inventory-level/{level['inventory_id']}").json())


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
    assert log["counts"]["POST /shipbob/2026-07/order"] == 1

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
        api.s["SHIPBOB_API_URL"] + "/2026-07/order",
        content=b"{not json",
        headers={
            "Authorization": f"Bearer {api.s['SHIPBOB_TOKEN']}",
            "Content-Type": "application/json",
            "shipbob_channel_id": "100102",
        },
    )
    assert r.status_code == 400
    r = api.shipbob_post("/order", _body("X-3", sku="NO-SUCH-SKU"))
    assert r.status_code == 400 and "products[0].reference_id" in r.json()
    r = api.shipbob_post("/order", _body("X-4", sku="SCARF-GRY"))  # a drop-shipped SKU the 3PL never stocks
    assert r.status_code == 400
    oos = api.shipbob_post("/order", _body("X-5", sku="MUG-BLUE", qty=50))
    assert oos.status_code == 201 and oos.json()["status"] == "Exception"
    assert oos.json()["shipments"][0]["status_details"][0]["name"] == "OutOfStock"
    unauth = api.http.post(api.s["SHIPBOB_API_URL"] + "/2026-07/order", json=_body("X-6"))
    assert unauth.status_code == 401
    untyped = {k: v for k, v in _body("X-7").items() if k != "type"}
    r = api.shipbob_post("/order", untyped)
    assert r.status_code == 400 and "type" in r.json()


def test_create_needs_a_channel_that_may_write_orders(api: Api) -> None:
    missing = api.shipbob_post("/order", _body("CH-1"), channel=None)
    assert missing.status_code == 400 and "shipbob_channel_id" in missing.json()
    assert api.shipbob_post("/order", _body("CH-2"), channel="999").status_code == 400
    read_only = api.shipbob_post("/order", _body("CH-3"), channel="301")
    assert read_only.status_code == 403
    assert api.shipbob("/order", ReferenceIds="CH-1,CH-2,CH-3").json() == []  # nothing was created
    channels = api.shipbob("/channel").json()["items"]
    assert [c["id"] for c in channels if "orders_write" in c["scopes"]] == [100102]


def test_cancel_stops_an_unshipped_order_and_refuses_a_shipped_one(api: Api) -> None:
    created = api.shipbob_post("/order", _body("CANCEL-1", qty=1)).json()
    before = _inventory(api, "TEE-M")
    r = api.shipbob_post(f"/order/{created['id']}:cancel", None)
    assert r.status_code == 200, r.text
    assert r.json()["status"] == "Success" and r.json()["order"]["status"] == "Cancelled"
    assert [s["is_success"] for s in r.json()["canceled_shipment_results"]] == [True]
    assert api.shipbob(f"/order/{created['id']}").json()["shipments"][0]["status"] == "Cancelled"
    assert _inventory(api, "TEE-M")["total_committed_quantity"] == before["total_committed_quantity"] - 1
    again = api.shipbob_post(f"/order/{created['id']}:cancel", None).json()
    assert again["status"] == "Failure"

    sb = api.all_shipbob()
    open_one = next(
        o
        for o in sb
        if "-R" not in o["reference_id"] and all(s["status"] == "Processing" for s in o["shipments"])
    )
    done = api.shipbob_post(f"/order/{open_one['id']}:cancel", None).json()
    assert done["status"] == "Success" and {s["status"] for s in done["order"]["shipments"]} == {"Cancelled"}
    # the store-linked order now lists as updated, and stays cancelled as the clock moves
    listed = api.shipbob("/order", IDs=str(open_one["id"])).json()
    assert listed[0]["status"] == "Cancelled"
    shipped = next(o for o in sb if any(s["status"] == "Completed" for s in o["shipments"]))
    refused = api.shipbob_post(f"/order/{shipped['id']}:cancel", None).json()
    assert refused["status"] == "Failure" and not any(
        s["is_success"] for s in refused["canceled_shipment_results"]
    )
    assert api.shipbob(f"/order/{shipped['id']}").json() == shipped  # nothing changed
    assert api.shipbob_post("/order/1:cancel", None).status_code == 404


def test_webhook_subscriptions_are_kept_in_memory(api: Api) -> None:
    body = {"url": "https://example.com/hooks", "topics": ["order.shipped", "order.shipment.cancelled"]}
    made = api.shipbob_post("/webhook", body)
    assert made.status_code == 200 and isinstance(made.json()["id"], str)
    listed = api.shipbob("/webhook", RecordsPerPage=1).json()
    assert listed["items"][0]["url"] == "https://example.com/hooks" and "secret" not in listed["items"][0]
    bad = api.shipbob_post("/webhook", {"url": "http://example.com/x", "topics": ["order_shipped"]})
    assert bad.status_code == 422 and {"url", "topics"} <= set(bad.json())
    gone = api.http.delete(
        api.s["SHIPBOB_API_URL"] + f"/2026-07/webhook/{made.json()['id']}",
        headers={"Authorization": f"Bearer {api.s['SHIPBOB_TOKEN']}"},
    )
    assert gone.status_code == 204
    assert all(h["id"] != made.json()["id"] for h in api.shipbob("/webhook").json()["items"])
