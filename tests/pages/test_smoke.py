"""Every page for every role: allowed pages render without exceptions, forbidden ones are not reachable."""

from __future__ import annotations

import pytest

from tests.pages.conftest import ALLOWED, PAGES, app, titles


@pytest.mark.parametrize("role", sorted(ALLOWED))
@pytest.mark.parametrize("page", sorted(PAGES))
def test_every_page_for_every_role(console_db, console_env, role: str, page: str) -> None:
    console_env(console_db)
    if page not in ALLOWED[role]:
        with pytest.raises(ValueError, match=r"not a registered page|Could not find"):
            app(role, page)
        return
    at = app(role, page)
    assert not at.exception, [e.message for e in at.exception]
    assert not at.error, [e.value for e in at.error]
    assert PAGES[page][1] in titles(at)
