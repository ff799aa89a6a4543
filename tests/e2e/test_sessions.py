"""Session revocation in a real browser: a copied cookie opens the console in another browser until the
session is ended by signing out, by a password reset, or by a disable (a re-enable does not revive it)."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import Any

import pytest
from sqlmodel import Session

from db.session import make_engine, session_scope
from services import audit, auth
from services.permissions import Actor, Role
from tests.e2e.conftest import Console, sign_in, wait_idle
from ui.auth import COOKIE_NAME

pytestmark = pytest.mark.e2e
SYSTEM = Actor("system", Role.ADMIN, os_user="e2e")


def _session_cookie(page: Any) -> dict[str, Any]:
    """The session cookie of a page `sign_in` has signed in (it waits for the cookie to be written)."""
    [cookie] = [c for c in page.context.cookies() if c["name"] == COOKIE_NAME]
    return cookie


def _other_browser(browser: Any, cookie: dict[str, Any]) -> Any:
    context = browser.new_context(viewport={"width": 1440, "height": 1000})
    context.add_cookies([cookie])
    tab = context.new_page()
    tab.set_default_timeout(20_000)
    return tab


def _signed_in(tab: Any, console: Console) -> bool:
    tab.goto(console.base_url)
    wait_idle(tab)
    heading = tab.get_by_role("heading", name="Order lookup")
    form = tab.get_by_role("textbox", name="Username")
    heading.or_(form).first.wait_for(timeout=30_000)
    return heading.is_visible()


def _as_admin(console: Console, change: Any) -> None:
    engine = make_engine(console.database_url)
    try:
        with session_scope(engine) as session:
            change(session)
    finally:
        engine.dispose()


def test_a_copied_cookie_stops_working_after_sign_out(page: Any, browser: Any, console: Console) -> None:
    sign_in(page, console, "ops")
    copied = _other_browser(browser, _session_cookie(page))
    try:
        assert _signed_in(copied, console)  # the cookie alone opens the console elsewhere…
        page.get_by_role("button", name="Sign out").click()
        page.get_by_role("textbox", name="Username").first.wait_for()
        assert not _signed_in(copied, console)  # …until its owner signs out
    finally:
        copied.context.close()


def test_a_password_reset_and_a_disable_end_the_session(page: Any, browser: Any, console: Console) -> None:
    sign_in(page, console, "lead")
    copied = _other_browser(browser, _session_cookie(page))
    try:
        assert _signed_in(copied, console)
        _as_admin(
            console,
            lambda s: auth.set_disabled(
                s, username="lead", disabled=True, actor=SYSTEM, now=datetime.now(UTC)
            ),
        )
        _as_admin(
            console,
            lambda s: auth.set_disabled(
                s, username="lead", disabled=False, actor=SYSTEM, now=datetime.now(UTC)
            ),
        )
        assert not _signed_in(copied, console)  # disabled and enabled again: the old session stays ended
        page.reload()
        page.get_by_role("textbox", name="Username").first.wait_for()
    finally:
        copied.context.close()

    sign_in(page, console, "lead")
    copied = _other_browser(browser, _session_cookie(page))
    try:
        assert _signed_in(copied, console)
        new_password = "a brand new password"
        _as_admin(
            console,
            lambda s: auth.reset_password(
                s, username="lead", password=new_password, actor=SYSTEM, now=datetime.now(UTC)
            ),
        )
        console.passwords["lead"] = new_password
        assert not _signed_in(copied, console)
    finally:
        copied.context.close()


def test_a_refused_page_visit_is_audited(page: Any, console: Console) -> None:
    """An agent typing the audit log's address is told it is not permitted; the attempt is in the log."""
    sign_in(page, console, "agent")
    page.goto(console.base_url.rstrip("/") + "/audit")
    wait_idle(page)
    page.get_by_text(re.compile("^Not permitted")).wait_for(timeout=30_000)
    engine = make_engine(console.database_url)
    try:
        with Session(engine) as session:
            entries = audit.list_entries(session, actor="agent", action="page.audit")
    finally:
        engine.dispose()
    assert [e.outcome for e in entries] == ["denied"]
