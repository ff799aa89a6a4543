"""The console in headless Chromium: sign in, look up an order, refresh it, open the queue, sync every
source, see a chart."""

from __future__ import annotations

import re
from urllib.parse import quote

import pytest

from tests.e2e.conftest import shoot, sign_in, wait_idle

pytestmark = pytest.mark.e2e


def test_sign_in_lookup_refresh_queue_chart(console, page) -> None:
    sign_in(page, console, "ops")
    shoot(page, "01-signed-in")

    page.get_by_label(re.compile("Order number, customer name")).fill(console.sample_order)
    page.keyboard.press("Enter")
    page.get_by_role("heading", name=console.sample_order).wait_for()
    page.get_by_text("Checks before a replacement").wait_for()
    wait_idle(page)
    assert f"order={quote(console.sample_order)}" in page.url
    shoot(page, "02-lookup")

    if console.live_sources:
        page.get_by_role("button", name="All", exact=True).click()
        page.get_by_text(
            re.compile(f"{re.escape(console.sample_order)} refreshed from store, 3PL, carrier")
        ).wait_for()
        wait_idle(page)
        shoot(page, "03-refreshed")

    page.get_by_role("link", name="Overdue queue").click()
    page.get_by_role("heading", name="Overdue queue").wait_for()
    page.get_by_text("Overdue orders").wait_for()
    wait_idle(page)
    shoot(page, "04-overdue")

    if console.live_sources:  # the server syncs every source (its fetching runs in a forked helper)
        page.get_by_role("button", name="Sync now").click()
        for label in ("3PL", "carrier", "store"):
            page.get_by_text(re.compile(rf"^{label}: [\d,]+ records$")).wait_for()
        assert page.get_by_text(re.compile(r" failed: ")).count() == 0
        wait_idle(page)

    page.get_by_role("link", name="SLA metrics").click()
    page.get_by_role("heading", name="SLA metrics").wait_for()
    page.locator("[data-testid='stVegaLiteChart']").first.wait_for()
    wait_idle(page)
    shoot(page, "05-sla")


def test_session_cookie_and_deep_link_open_an_order_in_a_new_tab(console, page) -> None:
    sign_in(page, console, "agent")
    page.wait_for_timeout(500)  # the cookie component writes the session cookie after the sign-in run
    tab = page.context.new_page()
    tab.goto(f"{console.base_url}/lookup?order={quote(console.sample_order)}")
    tab.get_by_role("heading", name=console.sample_order).wait_for()
    assert tab.get_by_role("button", name="Sign in").count() == 0
    assert tab.get_by_role("link", name="SLA metrics").count() == 0  # an agent's navigation has no metrics
