"""In Chromium: links into the console on a fresh server, return after sign-in, the role gate, no table
download for agents, the shipped-late badge, the summary agreeing with the Differences box, and an SLA
period with no orders."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any
from urllib.parse import quote

import pytest
from sqlalchemy import select

from db.session import make_engine
from services.lookup import orders
from services.settings import Settings
from services.store import T_CLASS, T_ORDER
from tests.e2e.conftest import Console, serve, wait_idle

pytestmark = pytest.mark.e2e
NOT_FOUND = "Page not found"


@pytest.fixture(scope="module")
def fresh_console(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Console]:
    """A server no browser has visited yet (the small-store sample: quick to start)."""
    with serve(tmp_path_factory.mktemp("e2e-fresh"), live=False) as running:
        yield running


def _sign_in_here(page: Any, console: Console, username: str) -> None:
    """Fill the sign-in form on whatever page it is drawn (the page asked for stays the URL)."""
    box = page.get_by_role("textbox", name="Username")
    box.first.wait_for()  # a rerun may briefly show the form twice (the old one stale)
    page.wait_for_timeout(1000)  # the cookie component's first rerun comes once its frame has loaded
    wait_idle(page)
    box.fill(username)
    page.get_by_role("textbox", name="Password").fill(console.passwords[username])
    page.get_by_role("button", name="Sign in").click()


def test_links_on_a_fresh_server_sign_in_return_and_role_gate(fresh_console, page) -> None:
    console = fresh_console
    page.goto(f"{console.base_url}/overdue")  # the server's very first visitor
    _sign_in_here(page, console, "agent")
    page.get_by_role("heading", name="Overdue queue").wait_for()
    wait_idle(page)
    assert page.get_by_text(NOT_FOUND).count() == 0
    assert page.get_by_role("link", name="Audit log").count() == 0  # only the agent's own pages

    table = page.locator(".order-recon-page-table").first
    table.hover()
    page.wait_for_timeout(500)
    assert page.get_by_role("button", name=re.compile("Download as CSV")).count() == 0
    assert page.get_by_role("button", name="Export CSV").count() == 0
    # A page of the queue is a plain table: a click on a column header sorts nothing in the browser
    # (the "Sort by" control sorts the whole queue in the query).
    before = table.locator("tbody tr").all_inner_texts()
    table.locator("th").nth(2).click()
    page.wait_for_timeout(300)
    assert table.locator("tbody tr").all_inner_texts() == before
    link = table.get_by_role("link").first
    assert re.fullmatch(r"lookup\?order=%23\d+", link.get_attribute("href") or "")

    page.goto(f"{console.base_url}/lookup?order={quote('#2007')}")
    page.get_by_role("heading", name="#2007").wait_for()
    wait_idle(page)
    assert page.get_by_text(NOT_FOUND).count() == 0

    page.goto(f"{console.base_url}/audit")
    page.get_by_text(re.compile("^Not permitted")).wait_for()
    wait_idle(page)
    assert page.get_by_text(NOT_FOUND).count() == 0


def _orders(url: str) -> tuple[str, str]:
    """A fulfilled order that shipped after its due time, and one whose differences go beyond SPEC §4."""
    engine, policy, now = make_engine(url), Settings().policy(), datetime.now(UTC)
    c = T_CLASS.c
    try:
        with engine.connect() as conn:
            late = conn.execute(
                select(c.order_name)
                .where(c.base_category == "fulfilled", c.shipped_at > c.due_at)
                .order_by(c.order_name)
                .limit(1)
            ).scalar_one()
            names = conn.execute(select(c.order_name).order_by(c.order_name)).scalars().all()
            differing = next(
                name
                for name in names
                if (detail := orders.order_detail(conn, name=name, as_of=now, policy=policy))
                and any(not d.spec for d in detail.differences)
            )
    finally:
        engine.dispose()
    return late, differing


def _customer(url: str) -> tuple[str, str]:
    engine = make_engine(url)
    try:
        with engine.connect() as conn:
            row = conn.execute(
                select(T_ORDER.c.name, T_ORDER.c.customer_name)
                .where(T_ORDER.c.customer_name.is_not(None))
                .order_by(T_ORDER.c.id)
                .limit(1)
            ).one()
    finally:
        engine.dispose()
    return row.name, row.customer_name


def test_badge_summary_and_an_empty_sla_period(console, page) -> None:
    late, differing = _orders(console.database_url)
    page.goto(f"{console.base_url}/lookup?order={quote(late)}")
    _sign_in_here(page, console, "ops")
    page.get_by_role("heading", name=late).wait_for()
    page.get_by_text(re.compile(r"^shipped (on time|\d+ business days? late)$")).wait_for()
    assert page.get_by_text(re.compile(r"^\d+ business day\(s\) late$")).count() == 0

    # Forgiving search: a customer's name in lower case finds their order, saying what matched.
    name, customer = _customer(console.database_url)
    page.get_by_label(re.compile("Order number, customer name")).fill(customer.lower())
    page.keyboard.press("Enter")
    page.get_by_text(
        re.compile(rf"^{re.escape(name)}( ·|$)")
    ).first.wait_for()  # the order, or one of several
    wait_idle(page)
    page.get_by_role("link", name="Open in Shopify").wait_for()  # links out, built from the settings

    page.goto(f"{console.base_url}/lookup?order={quote(differing)}")
    page.get_by_role("heading", name=differing).wait_for()
    wait_idle(page)
    page.get_by_role("button", name="Summarize this order").click()
    summary = page.get_by_text(re.compile("^Rule-based summary"))
    summary.wait_for()
    assert "No discrepancies" not in summary.inner_text()
    assert "Discrepancies:" in summary.inner_text()

    page.get_by_role("link", name="SLA metrics").click()
    page.get_by_role("heading", name="SLA metrics").wait_for()
    wait_idle(page)
    for end, day in (("start", "01"), ("end", "31")):
        for part, value in (("year", "2026"), ("month", "01"), ("day", day)):
            segment = page.get_by_role("spinbutton", name=f"{part}, Due days {end} date")
            segment.click()
            segment.type(value)
    page.keyboard.press("Escape")  # closes the calendar, which submits the typed range
    page.get_by_role("heading", name="SLA metrics").click()
    page.get_by_text("No orders were due in this period.").first.wait_for()
    wait_idle(page)
    assert page.get_by_text("This app has encountered an error").count() == 0


def test_the_console_follows_a_dark_system_theme(fresh_console, browser) -> None:
    context = browser.new_context(color_scheme="dark", viewport={"width": 1200, "height": 800})
    try:
        tab = context.new_page()
        tab.goto(fresh_console.base_url)
        tab.get_by_role("textbox", name="Username").first.wait_for(timeout=30_000)
        background = tab.evaluate(
            "() => getComputedStyle(document.querySelector('[data-testid=\"stApp\"]')).backgroundColor"
        )
        red, green, blue = (int(v) for v in re.findall(r"\d+", background)[:3])
        assert red + green + blue < 150, background  # a dark background, not the light palette's white
    finally:
        context.close()
