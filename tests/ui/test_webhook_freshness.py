"""The overdue page shows when each source's last webhook arrived, beside the sync freshness."""

from __future__ import annotations

from datetime import UTC, datetime

from services.webhooks.deliveries import Delivery
from services.webhooks.events import store_event
from tests.pages.conftest import app, console_env, fresh_db  # noqa: F401  (fixtures)


def test_the_last_webhook_per_source_is_shown(fresh_db, console_env) -> None:  # noqa: F811
    console_env(fresh_db)
    at = app("agent", "overdue")
    assert not any("Last webhook" in c.value for c in at.caption)
    now = datetime.now(UTC)
    store_event(
        fresh_db.engine, Delivery("easypost", "evt_1", "tracker.updated", None, now, {}), b"{}", now=now
    )
    at = app("agent", "overdue")
    assert any("Last webhook: carrier" in c.value for c in at.caption)
