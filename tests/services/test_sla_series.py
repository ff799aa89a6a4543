"""The naive-versus-true series from two grouped reads equals counting the queue and the view each day."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy.engine import Engine

from services import sla
from services.queries import informational_counts
from services.queue import count_overdue
from services.settings import Settings
from services.snapshot import import_snapshot
from tests.conftest import SMALL_STORE


def test_overdue_series_matches_counting_each_day(engine: Engine) -> None:
    policy = Settings(order_recon_config=SMALL_STORE / "sla.toml").policy()
    import_snapshot(SMALL_STORE, engine=engine, policy=policy, now=datetime(2026, 7, 6, 14, tzinfo=UTC))
    start = policy.local_date(datetime(2026, 6, 1, tzinfo=UTC))
    days = [start + timedelta(days=n) for n in range(50)]
    with engine.connect() as conn:
        series = sla.overdue_series(conn, days, policy)
        for point in series:
            end = policy.due_at(point["day"])
            true = count_overdue(conn, as_of=end, policy=policy)
            naive = true + sum(informational_counts(conn, as_of=end, policy=policy).values())
            assert (point["true"], point["naive"]) == (true, naive), point["day"]
    assert any(p["true"] for p in series) and any(p["naive"] != p["true"] for p in series)
