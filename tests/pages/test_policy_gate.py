"""The console never reclassifies inside a render: under a policy its orders were not classified by, every
page says what to run instead, and opens once `order-recon policy apply` has run."""

from __future__ import annotations

from pathlib import Path

import pytest

from services import settings
from services.cli import main
from services.policy_change import POLICY_KEY, get_state
from tests.conftest import SMALL_STORE
from tests.pages.conftest import PAGES, app, titles


def test_a_changed_policy_closes_every_page_until_it_is_applied(
    fresh_db, console_env, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    console_env(fresh_db)
    changed = tmp_path / "sla.toml"
    changed.write_text(
        (SMALL_STORE / "sla.toml").read_text().replace("handling_days = 1", "handling_days = 2")
    )
    assert changed.read_text() != (SMALL_STORE / "sla.toml").read_text()
    monkeypatch.setenv("ORDER_RECON_CONFIG", str(changed))
    settings.get_settings.cache_clear()
    with fresh_db.engine.connect() as conn:
        before = get_state(conn, POLICY_KEY)

    at = app("ops", "overdue")
    assert not at.exception, [e.message for e in at.exception]
    assert [e.value for e in at.error] and "order-recon policy apply" in at.error[0].value
    assert PAGES["overdue"][1] not in titles(at)
    with fresh_db.engine.connect() as conn:
        assert get_state(conn, POLICY_KEY) == before  # the render reclassified nothing

    assert main(["policy", "apply"]) == 0
    at = app("ops", "overdue")
    assert not at.exception and not at.error, [e.value for e in at.error]
    assert PAGES["overdue"][1] in titles(at)
