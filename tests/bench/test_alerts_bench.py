"""The alerts bench runs end to end on a small store and leaves the alert tables empty."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import func, select

from bench.alerts_bench import bench_alerts
from db.migrate import upgrade
from db.models.alerts import AlertAnnouncement
from db.session import make_engine
from tests.services.notify.support import CLOCK, load, make_snapshot


def test_the_alerts_bench_measures_notify_and_the_report(tmp_path: Path) -> None:
    db = tmp_path / "bench.db"
    engine = make_engine(f"sqlite:///{db}")
    upgrade(engine)
    load(engine, make_snapshot(tmp_path / "snapshot"))
    rows = bench_alerts(db, CLOCK, new_breaches=20)
    labels = [label for label, _, _ in rows]
    assert labels[1] == "notify: 20 new breaches to Slack + email"
    assert labels[2].startswith("SLA report, 30 days to HTML")
    assert all(figure.endswith(" s") for _, figure, _ in rows)
    with engine.connect() as conn:
        assert conn.scalar(select(func.count()).select_from(AlertAnnouncement)) == 0
    engine.dispose()
