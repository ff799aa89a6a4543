"""The README's screenshots: every page, as an admin, into docs/screenshots/ (run with DOCS_SCREENSHOTS=1)."""

from __future__ import annotations

import os
import re
from datetime import UTC, datetime
from pathlib import Path

import pytest

from db.session import make_engine
from services import queue
from services.settings import Settings
from tests.e2e.conftest import ROOT, shoot, sign_in, wait_idle

pytestmark = [
    pytest.mark.e2e,
    pytest.mark.skipif(
        not os.environ.get("DOCS_SCREENSHOTS"), reason="set DOCS_SCREENSHOTS=1 to refresh them"
    ),
]
DOCS = ROOT / "docs" / "screenshots"


def _order_with_discrepancies(url: str) -> str | None:
    engine = make_engine(url)
    policy = Settings().policy()
    with engine.connect() as conn:
        rows = queue.overdue_queue(conn, as_of=datetime.now(UTC), policy=policy, limit=200)
    engine.dispose()
    return next((r.order for r in rows if len(r.discrepancies) > 0), None)


def _open(page, name: str) -> None:
    page.get_by_role("link", name=name).click()
    wait_idle(page)


def test_docs_screenshots(console, page) -> None:
    page.goto(console.base_url)
    # The sign-in form (no cookie component on it).
    page.get_by_role("textbox", name="Username").first.wait_for()
    wait_idle(page)
    shoot(page, "sign-in", DOCS)

    sign_in(page, console, "admin")
    order = _order_with_discrepancies(console.database_url) or console.sample_order
    page.get_by_label(re.compile("Order number, customer name")).fill(order)
    page.keyboard.press("Enter")
    page.get_by_text("Checks before a replacement").wait_for()
    wait_idle(page)
    page.get_by_role("button", name="Summarize this order").click()
    page.get_by_text(re.compile("offline summary|model ·")).wait_for()
    wait_idle(page)
    shoot(page, "lookup", DOCS)

    for link, name in [
        ("Overdue queue", "overdue"),
        ("Informational", "informational"),
        ("SLA metrics", "sla"),
        ("Users", "users"),
        ("Audit log", "audit"),
    ]:
        _open(page, link)
        if name == "sla":
            page.locator("[data-testid='stVegaLiteChart']").first.wait_for()
            page.wait_for_timeout(1500)
        shoot(page, name, DOCS)
    assert all((DOCS / f"{n}.png").exists() for n in ("lookup", "overdue", "sla"))
    assert Path(DOCS).is_dir()
