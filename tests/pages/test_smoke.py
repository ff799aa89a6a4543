"""Every page for every role: allowed pages render without exceptions, a forbidden one says "not
permitted" (every page is registered, so a link to it never shows Streamlit's "Page not found")."""

from __future__ import annotations

import pytest

from tests.pages.conftest import ALLOWED, PAGES, app, titles


@pytest.mark.parametrize("role", sorted(ALLOWED))
@pytest.mark.parametrize("page", sorted(PAGES))
def test_every_page_for_every_role(console_db, console_env, role: str, page: str) -> None:
    console_env(console_db)
    if page not in ALLOWED[role]:
        at = app(role, page)
        assert not at.exception, [e.message for e in at.exception]
        assert any(e.value.startswith("Not permitted") for e in at.error)
        return
    at = app(role, page)
    assert not at.exception, [e.message for e in at.exception]
    assert not at.error, [e.value for e in at.error]
    assert PAGES[page][1] in titles(at)
