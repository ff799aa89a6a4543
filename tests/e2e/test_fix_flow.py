"""A guided fix end to end in headless Chromium: ops opens an order the 3PL never received, previews the
fix, types the name, runs it, and the simulated 3PL receives exactly one order."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest

from db.session import make_engine
from services import fixes, queries
from tests.e2e.conftest import sign_in, wait_idle
from tests.e2e.test_replacement_flow import _console_settings

pytestmark = pytest.mark.e2e


def test_ops_sends_a_missing_order_to_the_3pl_once(console: Any, page: Any) -> None:
    if not console.live_sources:
        pytest.skip("needs the simulator as the store and the 3PL")
    url, settings = _console_settings(console)
    policy, now = settings.policy(), datetime.now(UTC)
    fix = fixes.fix_for("send-to-3pl")
    engine = make_engine(url)
    try:
        with engine.connect() as conn:
            rows = queries.discrepancies(conn, as_of=now, policy=policy, codes=["missing_at_3pl"])
            plans = [fixes.plan_fix(conn, settings, policy, fix, order=r.order, now=now) for r in rows[:10]]
    finally:
        engine.dispose()
    plan = next((p for p in plans if p.actionable), None)
    if plan is None:
        pytest.fail("no order of the simulated store is missing at the 3PL with stock to send")
    api = str(settings.shipbob_api_url)
    sim_base = api.removesuffix("/shipbob")
    posts_before = (
        httpx.get(f"{sim_base}/_sim/requests").json()["counts"].get("POST /shipbob/2026-07/order", 0)
    )

    page.set_default_timeout(45_000)  # a run refreshes from every source, reads stock and calls the 3PL
    sign_in(page, console, "ops")
    page.get_by_label(re.compile("Order number, customer name")).fill(plan.order)
    page.keyboard.press("Enter")
    page.get_by_role("heading", name=plan.order).wait_for()
    wait_idle(page)
    page.get_by_role("button", name="Fix: Send to the 3PL").click()
    dialog = page.get_by_role("dialog")
    dialog.get_by_role("button", name="Preview").click()
    dialog.get_by_text("Request to the 3PL (ShipBob)").wait_for()
    wait_idle(page)
    confirm = dialog.get_by_label(f"Type {plan.order} to confirm")
    confirm.fill(plan.order)
    confirm.press("Enter")
    wait_idle(page)
    dialog.get_by_role("button", name="Run fix").click()
    page.get_by_text(re.compile(r"Send to the 3PL: done by ops \(sent\)")).wait_for()
    wait_idle(page)
    assert page.get_by_role("button", name="Fix: Send to the 3PL").count() == 0  # nothing left to mend

    log = httpx.get(f"{sim_base}/_sim/requests").json()
    assert log["counts"].get("POST /shipbob/2026-07/order", 0) - posts_before == 1
