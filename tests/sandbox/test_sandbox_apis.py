"""The three APIs over real HTTP: shapes, paging, filters, auth, the data mix (held clock, read-only).

Over 400 lines because the three APIs share one running simulator and one held clock here."""

from __future__ import annotations

import json
from collections import Counter
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from sandbox import catalog, records
from sandbox.scenarios import ON_HOLD
from sandbox.server import start_in_thread
from sandbox.snapshot import write_snapshot
from tests.conftest import SMALL_STORE

from .conftest import CLOCK, Api, load_snapshot
from .sandbox_spec_mix import classify

SAMPLE_ORDER_KEYS = {
    "id",
    "admin_graphql_api_id",
    "name",
    "number",
    "order_number",
    "email",
    "phone",
    "created_at",
    "updated_at",
    "processed_at",
    "closed_at",
    "cancelled_at",
    "cancel_reason",
    "financial_status",
    "fulfillment_status",
    "confirmed",
    "currency",
    "presentment_currency",
    "total_price",
    "subtotal_price",
    "current_total_price",
    "total_tax",
    "total_discounts",
    "tags",
    "note",
    "note_attributes",
    "source_name",
    "test",
    "gateway",
    "line_items",
    "shipping_lines",
    "shipping_address",
    "billing_address",
    "customer",
    "fulfillments",
    "refunds",
}


PAGE = """query Page($first: Int!, $after: String, $query: String) {
  orders(first: $first, after: $after, sortKey: UPDATED_AT, query: $query) { nodes { id name updatedAt } pageInfo { hasNextPage endCursor } }
}"""


def test_same_seed_and_clock_serve_identical_bytes(held: Api) -> None:
    other = start_in_thread(seed=7, orders=1500, clock=CLOCK, warm=False)
    try:
        o = Api(other)
        page = {"first": 40, "query": None}
        assert held.graphql(PAGE, page).json()["data"] == o.graphql(PAGE, page).json()["data"]
        assert held.shipbob("/order", Limit=40).content == o.shipbob("/order", Limit=40).content
        assert (
            held.easypost("/trackers", page_size=40).content == o.easypost("/trackers", page_size=40).content
        )
        assert held.shipbob("/inventory-level").content == o.shipbob("/inventory-level").content
    finally:
        other.stop()


def test_shopify_full_read_paging_and_shapes(held: Api) -> None:
    orders = held.memo("shopify")
    state = held.control("GET", "/state")
    assert len(orders) == state["counts"]["store_orders"] == 1500
    ids = [o["id"] for o in orders]
    assert ids == sorted(ids) and len(set(ids)) == len(ids)
    for o in orders[:50]:
        assert set(o) >= SAMPLE_ORDER_KEYS, SAMPLE_ORDER_KEYS - set(o)
        assert o["admin_graphql_api_id"] == f"gid://shopify/Order/{o['id']}"
        assert o["name"] == f"#{o['order_number']}"
    assert {o["shipping_lines"][0]["title"] for o in orders} == {"Standard", "Express", "Ground"}
    # ~2% of orders omit fulfillable_quantity like older payloads
    old = sum(1 for o in orders if any("fulfillable_quantity" not in li for li in o["line_items"]))
    assert 5 <= old <= 80
    # realistic notes, including a prompt injection
    assert any(o["note"] and "ignore previous instructions" in o["note"] for o in orders)
    assert sum(1 for o in orders if o["note"]) > 50
    # GraphQL lists every order (open, closed and cancelled) unless the search says otherwise
    assert any(o["cancelled_at"] for o in orders) and any(o["closed_at"] for o in orders)


def test_shopify_graphql_cursor_paging_cost_and_errors(held: Api) -> None:
    body = held.graphql_patient(PAGE, {"first": 100})
    page = body["data"]["orders"]
    assert len(page["nodes"]) == 100 and page["pageInfo"]["hasNextPage"]
    stamps = [(n["updatedAt"], n["id"]) for n in page["nodes"]]
    assert [t for t, _ in stamps] == sorted(t for t, _ in stamps)  # sortKey: UPDATED_AT
    cost = body["extensions"]["cost"]
    assert (
        cost["requestedQueryCost"] == 2 + 100 * 1 + 1
        and cost["actualQueryCost"] <= cost["requestedQueryCost"]
    )
    assert set(cost["throttleStatus"]) == {"maximumAvailable", "currentlyAvailable", "restoreRate"}
    nxt = held.graphql_patient(PAGE, {"first": 100, "after": page["pageInfo"]["endCursor"]})
    assert not {n["id"] for n in nxt["data"]["orders"]["nodes"]} & {n["id"] for n in page["nodes"]}
    errors = held.graphql(PAGE, {"first": 100, "after": "garbage!"}).json()["errors"]
    assert errors[0]["extensions"]["code"] == "INVALID_CURSOR"
    assert held.graphql(PAGE, {"first": 251}).json()["errors"][0]["message"].startswith("first must be")
    too_big = "{ orders(first: 250) { nodes { lineItems(first: 50) { nodes { id } } } } }"
    assert held.graphql(too_big).json()["errors"][0]["extensions"]["code"] == "MAX_COST_EXCEEDED"
    assert (
        held.graphql("{ orders(first: 1) { nodes { id }").json()["errors"][0]["extensions"]["code"]
        == "PARSE_ERROR"
    )


def test_shopify_single_order_filters_and_404(held: Api) -> None:
    listed = held.graphql_patient(PAGE.replace("id name updatedAt", "id name"), {"first": 3})["data"][
        "orders"
    ]
    gid, name = listed["nodes"][2]["id"], listed["nodes"][2]["name"]
    one = held.graphql_patient("query($id: ID!) { order(id: $id) { id name } }", {"id": gid})["data"]["order"]
    assert one["id"] == gid and one["name"] == name
    missing = held.graphql_patient(
        "query($id: ID!) { order(id: $id) { id } }", {"id": "gid://shopify/Order/999"}
    )
    assert missing["data"]["order"] is None
    by_name = held.graphql_patient(PAGE, {"first": 5, "query": f"name:{name}"})["data"]["orders"]["nodes"]
    assert [n["id"] for n in by_name] == [gid]
    nodes = held.graphql_patient(
        "query($ids: [ID!]!) { nodes(ids: $ids) { ... on Order { id } } }",
        {"ids": [gid, "gid://shopify/Order/1"]},
    )["data"]["nodes"]
    assert [n and n["id"] for n in nodes] == [gid, None]
    assert len(held.shopify_ids()) == 1500
    # the retired REST endpoints are gone
    token = {"X-Shopify-Access-Token": held.s["SHOPIFY_ACCESS_TOKEN"]}
    for path in ("/admin/api/2024-10/orders.json", f"/admin/api/2024-10/orders/{gid.rsplit('/', 1)[1]}.json"):
        r = held.http.get(held.s["SHOPIFY_SHOP_URL"] + path, headers=token)
        assert r.status_code == 404 and r.json() == {"errors": "Not Found"}


def test_shopify_updated_at_min(held: Api) -> None:
    allo = held.memo("shopify")
    cut = "2026-11-16T05:00:00Z"
    cut_t = datetime.fromisoformat(cut)
    want = sorted(o["id"] for o in allo if datetime.fromisoformat(o["updated_at"]) >= cut_t)
    got = held.all_shopify(updated_at_min=cut)
    assert sorted(o["id"] for o in got) == want and 0 < len(want) < len(allo)


def test_shopify_auth(held: Api) -> None:
    r = held.graphql("{ orders(first: 1) { nodes { id } } }", token="shpat_wrong")
    assert r.status_code == 401
    assert r.json() == {
        "errors": "[API] Invalid API key or access token (unrecognized login or wrong password)"
    }


def test_fulfillment_orders_and_holds(held: Api) -> None:
    w = held.sim.world
    T = w.now()
    held_idx = [i for i in range(w.n) if w.plan["scen"][i] == ON_HOLD and w.plan["t_release"][i] > T]
    assert held_idx
    name = f"#{2001 + held_idx[0]}"
    query = "query($q: String) { orders(first: 1, query: $q) { nodes { id fulfillmentOrders(first: 3) { nodes { status fulfillmentHolds { reason } } } } } }"
    order = held.graphql_patient(query, {"q": f"name:{name}"})["data"]["orders"]["nodes"][0]
    fos = order["fulfillmentOrders"]["nodes"]
    own = next(f for f in fos if f["status"] == "ON_HOLD")
    assert own["fulfillmentHolds"][0]["reason"] and own["fulfillmentHolds"][0]["reason"].isupper()
    rest = records.fulfillment_orders(w, w.row(held_idx[0]), T)  # the REST shape webhooks carry
    assert [f["status"].upper() for f in rest] == [f["status"] for f in fos]


def test_shipbob_paging_sorting_filters(held: Api) -> None:
    allo = held.memo("shipbob")
    state = held.control("GET", "/state")
    assert len(allo) == state["counts"]["threepl_orders"]
    ids = [o["id"] for o in allo]
    assert ids == sorted(ids)
    r = held.shipbob("/order", Limit=100)
    assert r.headers["page-number"] == "1" and r.headers["total-count"] == str(len(allo))
    assert r.headers["total-pages"] == str(-(-len(allo) // 100))
    assert r.headers["next-page"].startswith("/2026-07/order?Page=2&Limit=100")
    assert [o["id"] for o in r.json()] == sorted(ids, reverse=True)[:100]  # Newest first by default
    last = held.shipbob("/order", Limit=100, Page=r.headers["total-pages"])
    assert "next-page" not in last.headers and last.json()
    assert held.shipbob("/order", Limit=251).status_code == 400
    # ReferenceIds and the replacement convention
    repl = [o for o in allo if "-R" in o["reference_id"]]
    assert repl and all(o["reference_id"].endswith("-R1") for o in repl)
    base = repl[0]["reference_id"].split("-R")[0]
    got = held.shipbob("/order", ReferenceIds=f"{base},{repl[0]['reference_id']}").json()
    assert sorted(o["reference_id"] for o in got) == sorted([base, repl[0]["reference_id"]])
    one = held.shipbob(f"/order/{allo[0]['id']}")
    assert one.status_code == 200 and one.json() == allo[0]
    assert held.shipbob("/order/1").status_code == 404
    # LastUpdateStartDate
    cut = "2026-11-18T00:00:00Z"
    cut_t = datetime.fromisoformat(cut)

    def last_update(o: dict) -> datetime:
        return max(datetime.fromisoformat(s["last_update_at"]) for s in o["shipments"])

    want = sorted(o["id"] for o in allo if last_update(o) >= cut_t)
    got = held.all_shipbob(LastUpdateStartDate=cut)
    assert sorted(o["id"] for o in got) == want and 0 < len(want) < len(allo)
    # warehouses and shipping methods
    assert {s["location"]["name"] for o in allo for s in o["shipments"]} == {w[1] for w in catalog.WAREHOUSES}
    assert {o["shipping_method"] for o in allo} == {"Standard", "Express", "Ground"}


def _linked_all(held: Api, path: str, **params: Any) -> list[dict[str, Any]]:
    page = held.shipbob(path, **params).json()
    out = list(page["items"])
    while page["next"]:
        nxt = held.http.get(
            held.s["SHIPBOB_API_URL"] + page["next"],
            headers={"Authorization": f"Bearer {held.s['SHIPBOB_TOKEN']}"},
        )
        page = nxt.json()
        out += page["items"]
    return out


def test_shipbob_inventory_levels_paging_and_auth(held: Api) -> None:
    one_page = held.shipbob("/inventory-level", PageSize=250).json()
    assert one_page["next"] is None and one_page["prev"] is None
    items = one_page["items"]
    paged = _linked_all(held, "/inventory-level", PageSize=7)
    assert paged == items and len(items) > 7
    assert held.shipbob("/inventory-level", PageSize=7).json()["next"].startswith("/2026-07/inventory-level?")
    sku_qty = {i["sku"]: i["total_fulfillable_quantity"] for i in items}
    assert any(q == 0 for q in sku_qty.values())  # out of stock
    assert any(q > 0 for q in sku_qty.values())
    store_skus = {
        li["sku"]
        for o in held.memo("shopify")
        for li in o["line_items"]
        if li["vendor"] != "Nordic Knitworks"
    }
    assert store_skus - set(sku_qty)  # SKUs the 3PL does not know
    located = {i["inventory_id"]: i for i in _linked_all(held, "/inventory-level/locations", PageSize=5)}
    for i in items:
        fcs = located[i["inventory_id"]]["locations"]
        assert i["total_fulfillable_quantity"] == sum(f["fulfillable_quantity"] for f in fcs)
        assert {"location_id", "name", "fulfillable_quantity", "on_hand_quantity"} <= set(fcs[0])
    one = held.shipbob(f"/inventory-level/{items[0]['inventory_id']}")
    assert one.json() == items[0]
    found = held.shipbob("/inventory-level", SearchBy="TEE-M").json()["items"]
    assert "TEE-M" in {i["sku"] for i in found}
    assert held.shipbob("/inventory-level", PageSize=0).status_code == 400
    bad = held.http.get(
        held.s["SHIPBOB_API_URL"] + "/2026-07/order", headers={"Authorization": "Bearer nope"}
    )
    assert bad.status_code == 401


def test_shipbob_retired_version_answers_404(held: Api) -> None:
    for path in ("/1.0/order", "/1.0/inventory", "/1.0/product"):
        r = held.http.get(
            held.s["SHIPBOB_API_URL"] + path, headers={"Authorization": f"Bearer {held.s['SHIPBOB_TOKEN']}"}
        )
        assert r.status_code == 404 and "1.0" in r.json()["message"]


def test_easypost_paging_filters_auth(held: Api) -> None:
    trk = held.memo("trackers")
    assert len(trk) == held.control("GET", "/state")["counts"]["trackers"]
    assert len({t["id"] for t in trk}) == len(trk)
    created = [(t["created_at"], t["id"]) for t in trk]
    assert [c for c, _ in created] == sorted((c for c, _ in created), reverse=True)
    t0 = trk[150]
    after = held.easypost("/trackers", after_id=t0["id"], page_size=10).json()
    assert [t["id"] for t in after["trackers"]] == [t["id"] for t in trk[140:150]] and after["has_more"]
    by_code = held.easypost("/trackers", tracking_code=t0["tracking_code"]).json()
    assert [t["id"] for t in by_code["trackers"]] == [t0["id"]] and by_code["has_more"] is False
    assert held.easypost(f"/trackers/{t0['id']}").json() == t0
    nf = held.easypost("/trackers/trk_" + "0" * 32)
    assert nf.status_code == 404 and nf.json()["error"]["code"] == "NOT_FOUND"
    window = held.easypost(
        "/trackers", start_datetime="2026-11-10T00:00:00Z", end_datetime="2026-11-11T00:00:00Z", page_size=100
    ).json()["trackers"]
    assert window and all("2026-11-10" <= t["created_at"] < "2026-11-11" for t in window)
    bad = held.http.get(held.s["EASYPOST_API_URL"] + "/v2/trackers", auth=("EZAKwrong", ""))
    assert bad.status_code == 401 and bad.json()["error"]["code"].startswith("APIKEY.")
    assert held.http.get(held.s["EASYPOST_API_URL"] + "/v2/trackers").status_code == 401
    statuses = Counter(t["status"] for t in trk)
    assert {"delivered", "in_transit", "return_to_sender", "failure", "pre_transit"} <= set(statuses)
    assert {"UPS", "USPS", "FedEx"} <= {t["carrier"] for t in trk}


def test_every_category_and_discrepancy_is_present(held: Api) -> None:
    orders, sb, trk = held.memo("shopify"), held.memo("shipbob"), held.memo("trackers")
    w = held.sim.world
    T = datetime.fromtimestamp(w.now(), UTC)
    hold_query = (
        "query($ids: [ID!]!) { nodes(ids: $ids) { ... on Order { id fulfillmentOrders(first: 3) "
        "{ nodes { status } } } } }"
    )
    candidates = [o for o in orders if w.plan["scen"][o["order_number"] - 2001] == ON_HOLD]
    on_hold = set()
    for start in range(0, len(candidates), 50):
        part = candidates[start : start + 50]
        found = held.graphql_patient(hold_query, {"ids": [o["admin_graphql_api_id"] for o in part]})
        for o, node in zip(part, found["data"]["nodes"], strict=True):
            if any(f["status"] == "ON_HOLD" for f in node["fulfillmentOrders"]["nodes"]):
                on_hold.add(o["id"])
    cats, disc, _ = classify(orders, sb, trk, T, on_hold)
    assert set(cats) == {
        "cancelled",
        "refunded",
        "fulfilled",
        "third_party_vendor",
        "awaiting_payment",
        "sync_delay",
        "on_hold",
        "overdue",
        "pending",
    }, cats
    assert {
        "cancelled_but_shipped",
        "missing_at_3pl",
        "tracking_mismatch",
        "carrier_exception",
        "stalled_in_transit",
        "has_replacement",
    } <= set(disc), disc
    fin = Counter(o["financial_status"] for o in orders)
    assert {"paid", "pending", "refunded", "partially_refunded", "voided"} <= set(fin)
    assert Counter(o["fulfillment_status"] for o in orders)["partial"] > 0
    assert {f["status"] for o in orders for f in o["fulfillments"]} & {"failure", "cancelled", "error"}
    vendors = [{li["vendor"] for li in o["line_items"]} for o in orders]
    assert any(v == {"Nordic Knitworks"} for v in vendors) and any(
        len(v) > 1 and "Nordic Knitworks" in v for v in vendors
    )
    # cancelled orders the 3PL shipped anyway
    sb_by_ref = {s["reference_id"]: s for s in sb}
    shipped_cancelled = [
        o
        for o in orders
        if o["cancelled_at"]
        and any(s["status"] == "Completed" for s in sb_by_ref.get(str(o["id"]), {}).get("shipments", []))
    ]
    assert shipped_cancelled
    assert json.dumps(orders[0])  # plain JSON


# ---------------------------------------------------------------- shapes of the shared samples
def _missing(sample: Any, ours: Any, path: str = "$") -> list[str]:
    """Paths present in ``sample`` but absent (or of another JSON type) in ``ours``; null matches anything."""
    if sample is None or ours is None:
        return []
    if isinstance(sample, dict):
        if not isinstance(ours, dict):
            return [f"{path}: object expected"]
        out = []
        for k, v in sample.items():
            if k not in ours:
                out.append(f"{path}.{k}")
            else:
                out.extend(_missing(v, ours[k], f"{path}.{k}"))
        return out
    if isinstance(sample, list):
        if not isinstance(ours, list):
            return [f"{path}: list expected"]
        return _missing(sample[0], ours[0], f"{path}[0]") if sample and ours else []
    if (
        isinstance(sample, bool) != isinstance(ours, bool)
        or (isinstance(sample, int | float) != isinstance(ours, int | float))
        or isinstance(sample, str) != isinstance(ours, str)
    ):
        return [f"{path}: {type(sample).__name__} expected, got {type(ours).__name__}"]
    return []


def _richest(records: list[dict[str, Any]], *keys: str) -> dict[str, Any]:
    """A record whose listed list-fields are all non-empty, so nested shapes can be compared."""
    for r in records:
        if all(r.get(k) for k in keys):
            return r
    raise AssertionError(f"no record with {keys}")


@pytest.mark.skipif(not (SMALL_STORE / "shopify" / "orders.json").exists(), reason="samples not available")
def test_records_carry_every_sample_field(held: Api) -> None:
    def load(name: str) -> Any:
        return json.loads((SMALL_STORE / name).read_text())

    shop = load("shopify/orders.json")["orders"]
    ours = held.memo("shopify")
    sample = _richest(shop, "fulfillments")
    mine = _richest([o for o in ours if o["refunds"]], "fulfillments", "refunds")
    assert _missing(sample, mine) == []

    sb = load("shipbob/orders.json")
    sample_sb = next(o for o in sb if o["shipments"][0]["tracking"])
    mine_sb = next(o for o in held.memo("shipbob") if o["shipments"][0]["tracking"])
    assert _missing(sample_sb, mine_sb) == []

    inv_sample = load("shipbob/inventory.json")[0]  # the snapshot shape of SPEC §1
    inv = {"sku": inv_sample["sku"], **records.inventory_item(held.sim.world, inv_sample["sku"])}
    assert _missing(inv_sample, inv) == []

    trk_sample = load("easypost/trackers.json")["trackers"][0]
    mine_trk = next(t for t in held.memo("trackers") if t["status"] == "delivered")
    assert _missing(trk_sample, mine_trk) == []


# ---------------------------------------------------------------- snapshot writer vs the APIs
def test_snapshot_matches_the_apis(held: Api, tmp_path: Path) -> None:
    counts = write_snapshot(held.sim.world, tmp_path)
    snap = load_snapshot(tmp_path)
    assert set(snap["shopify/orders.json"]) == {"orders"} and set(snap["easypost/trackers.json"]) == {
        "trackers"
    }
    assert isinstance(snap["shipbob/orders.json"], list) and isinstance(snap["shipbob/inventory.json"], list)
    assert snap["shopify/orders.json"]["orders"] == held.memo("shopify")
    assert snap["shipbob/orders.json"] == held.memo("shipbob")
    api_trk = sorted(held.memo("trackers"), key=lambda t: t["id"])
    assert sorted(snap["easypost/trackers.json"]["trackers"], key=lambda t: t["id"]) == api_trk
    assert counts["shopify_orders"] == len(snap["shopify/orders.json"]["orders"])
    inv = snap["shipbob/inventory.json"]
    assert all(
        {"sku", "total_fulfillable_quantity", "fulfillable_quantity_by_fulfillment_center"} <= set(i)
        for i in inv
    )
    assert not list(tmp_path.rglob("*.tmp"))
