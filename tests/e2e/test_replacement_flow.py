"""A replacement end to end in headless Chromium: ops opens a shipped order, previews, confirms, creates it,
and the simulated 3PL receives exactly one order."""

from __future__ import annotations

import re
import tomllib
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import select

from db.session import make_engine, session_scope
from services import replacements
from services.permissions import Actor, Role
from services.settings import Settings
from services.store import T_CLASS
from tests.e2e.conftest import shoot, sign_in, wait_idle

pytestmark = pytest.mark.e2e


def _console_settings(console: Any) -> tuple[str, Settings]:
    """The console's database and its sources, from the harness's working directory."""
    work = Path(console.log).parent
    secrets = tomllib.loads((work / ".streamlit" / "secrets.toml").read_text())
    url = f"sqlite:///{work / 'console.db'}"
    sources = {
        k: secrets.get(k)
        for k in (
            "shopify_shop_url",
            "shopify_access_token",
            "shipbob_api_url",
            "shipbob_token",
            "easypost_api_url",
            "easypost_api_key",
        )
    }
    return url, Settings(database_url=url, **sources)


def _replaceable_order(url: str, settings: Settings) -> replacements.Preflight:
    """The first fulfilled order whose checks pass on live 3PL stock."""
    engine = make_engine(url)
    policy = settings.policy()
    try:
        with engine.connect() as conn:
            names = list(
                conn.scalars(
                    select(T_CLASS.c.order_name)
                    .where(T_CLASS.c.base_category == "fulfilled")
                    .order_by(T_CLASS.c.order_id.desc())
                    .limit(25)
                )
            )
        for name in names:
            with session_scope(engine) as session:
                pre = replacements.preflight(
                    session,
                    settings,
                    policy,
                    order=name,
                    actor=Actor("system", Role.ADMIN, os_user="e2e"),
                    now=datetime.now(UTC),
                )
            if pre.actionable:
                return pre
    finally:
        engine.dispose()
    pytest.fail("no fulfilled order of the simulated store can be replaced")


def test_ops_creates_a_replacement_once(console: Any, page: Any) -> None:
    if not console.live_sources:
        pytest.skip("needs the simulator as the 3PL")
    url, settings = _console_settings(console)
    pre = _replaceable_order(url, settings)
    api = str(settings.shipbob_api_url)
    sim_base = api.removesuffix("/shipbob")
    auth = {"Authorization": f"Bearer {settings.shipbob_token}"}
    posts_before = (
        httpx.get(f"{sim_base}/_sim/requests").json()["counts"].get("POST /shipbob/2026-07/order", 0)
    )

    page.set_default_timeout(45_000)  # a Create runs a refresh, live stock reads and the 3PL call
    sign_in(page, console, "ops")
    page.get_by_label(re.compile("Order number, customer name")).fill(pre.order)
    page.keyboard.press("Enter")
    page.get_by_role("heading", name=pre.order).wait_for()
    wait_idle(page)
    page.get_by_role("button", name="Create replacement").click()
    dialog = page.get_by_role("dialog")
    dialog.get_by_text("Inventory read live from the 3PL").wait_for()
    wait_idle(page)
    dialog.get_by_role("button", name="Preview").click()
    dialog.get_by_text("Request to the 3PL").wait_for()
    reference_id = f"{pre.order_id}-R1"  # actionable: no replacement exists yet
    dialog.get_by_text(reference_id).first.wait_for()
    wait_idle(page)
    shoot(page, "06-replacement-preview")

    confirm = dialog.get_by_label(f"Type {pre.order} to confirm")
    confirm.fill(pre.order)
    confirm.press("Enter")
    wait_idle(page)
    dialog.get_by_role("button", name="Create", exact=True).click()
    page.get_by_text(re.compile(f"Replacement {re.escape(reference_id)} created as 3PL order")).wait_for()
    wait_idle(page)
    shoot(page, "07-replacement-created")
    assert page.get_by_role(
        "button", name="Create replacement"
    ).is_disabled()  # replacement.exists now blocks

    at_3pl = httpx.get(f"{api}/2026-07/order", params={"ReferenceIds": reference_id}, headers=auth).json()
    assert [o["reference_id"] for o in at_3pl] == [reference_id]
    assert at_3pl[0]["tags"] == [{"name": "replacement_of", "value": pre.order}]
    log = httpx.get(f"{sim_base}/_sim/requests").json()
    assert log["counts"].get("POST /shipbob/2026-07/order", 0) - posts_before == 1
