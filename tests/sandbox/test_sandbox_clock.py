"""Advancing the world clock: orders ship, carriers scan, the store lags, filters see only changes."""

from __future__ import annotations

import time
from collections.abc import Iterator
from datetime import datetime

import pytest

from sandbox.clock import Clock
from sandbox.server import start_in_thread

from .conftest import CLOCK, Api


@pytest.fixture(scope="module")
def api() -> Iterator[Api]:
    sim = start_in_thread(seed=11, orders=600, clock=CLOCK, shopify_bucket=400, shopify_leak_per_s=200)
    a = Api(sim)
    yield a
    a.http.close()
    sim.stop()


def test_moving_clock_and_advance() -> None:
    c = Clock("2026-01-01T00:00:00Z", speed=3600)
    t0 = c.now()
    time.sleep(0.05)
    assert c.now() - t0 >= 100
    held = Clock("2026-01-01T00:00:00Z", held=True)
    assert held.now() == held.now() == held.start
    held.advance(90)
    assert held.now() == held.start + 90
    held.set("2026-01-02T00:00:00+00:00")
    assert held.now() == held.start + 86400


def test_advancing_the_clock_ships_scans_and_lags(api: Api) -> None:
    before_orders = {o["id"]: o for o in api.all_shopify()}
    before_sb = {o["id"]: o for o in api.all_shipbob()}
    before_trk = {t["id"]: t for t in api.all_trackers()}
    t0 = api.control("GET", "/state")["clock"]["now"]

    api.control("POST", "/clock", {"advance_s": 3 * 86400})
    assert api.control("GET", "/state")["clock"]["now"] > t0
    after_orders = {o["id"]: o for o in api.all_shopify()}
    after_sb = {o["id"]: o for o in api.all_shipbob()}
    after_trk = {t["id"]: t for t in api.all_trackers()}

    assert set(after_orders) == set(before_orders)  # every order was placed before the start clock
    assert len(after_trk) > len(before_trk)
    shipped = [
        i
        for i, o in after_sb.items()
        if i in before_sb and before_sb[i]["status"] != "Fulfilled" and o["status"] == "Fulfilled"
    ]
    assert shipped
    scanned = [
        i
        for i, t in after_trk.items()
        if i in before_trk and len(t["tracking_details"]) > len(before_trk[i]["tracking_details"])
    ]
    assert scanned
    assert any(
        before_trk[i]["status"] != "delivered" and after_trk[i]["status"] == "delivered" for i in scanned
    )
    for i in scanned[:20]:
        assert after_trk[i]["updated_at"] >= before_trk[i]["updated_at"]

    # updated_at reflects the latest visible store event...
    t0_dt = datetime.fromisoformat(t0.replace("Z", "+00:00"))
    changed = {i for i, o in after_orders.items() if o != before_orders[i]}
    bumped = {i for i, o in after_orders.items() if datetime.fromisoformat(o["updated_at"]) > t0_dt}
    assert bumped and bumped <= changed
    # ...except the store quirk: a fulfillment that appeared without bumping updated_at
    quirk = [
        i
        for i in changed - bumped
        if len(after_orders[i]["fulfillments"]) > len(before_orders[i]["fulfillments"])
    ]
    assert quirk

    # an incremental sync with updated_at_min sees exactly the bumped orders, and the log shows it
    api.control("DELETE", "/requests")
    inc = api.all_shopify(updated_at_min=t0)
    assert {o["id"] for o in inc} == bumped
    log = api.control("GET", "/requests")
    assert set(log["counts"]) == {"POST /shopify/admin/api/2026-10/graphql.json"}
    # ShipBob's LastUpdateStartDate likewise returns only the 3PL orders that changed
    sb_changed = {i for i, o in after_sb.items() if before_sb.get(i) != o}
    assert {o["id"] for o in api.all_shipbob(LastUpdateStartDate=t0)} == sb_changed

    # setting the clock back reproduces the earlier state exactly
    api.control("POST", "/clock", {"set": CLOCK})
    again = {o["id"]: o for o in api.all_shopify()}
    assert again == before_orders
