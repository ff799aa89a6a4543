"""`notify` with 1,000 new breaches, and the 30-day leadership report to HTML, on a large database.

Wall and CPU seconds are both printed: on a shared machine the wall time includes waiting for a core
(SQLite runs in this process, so its work is in the CPU figure; the sinks' threads are too). Both
channels are real servers on loopback (the tests' Slack webhook and SMTP sinks). The first run
announces everything already in the queue; then 1,000 of those breaches are forgotten per channel, so
the measured run finds exactly 1,000 new breaches among everything else already announced. The alert
tables are emptied afterwards, so the database stays reusable. Like the CLI, the bench holds the
database credentials, so it acts as the `system` actor (audited naming the OS user).

    python -m bench.alerts_bench --orders 100000   # generates and imports the store once, if needed
"""

from __future__ import annotations

import argparse
import os
import secrets
import time
from datetime import datetime, timedelta
from pathlib import Path

from sqlalchemy import delete, select

NEW_BREACHES = 1000


def _forget_breaches(engine, channel: str, count: int) -> None:  # type: ignore[no-untyped-def]
    from services.notify.items import OVERDUE, T_ANNOUNCED

    with engine.begin() as conn:
        ids = list(
            conn.scalars(
                select(T_ANNOUNCED.c.order_id)
                .where(T_ANNOUNCED.c.channel == channel, T_ANNOUNCED.c.kind == OVERDUE)
                .order_by(T_ANNOUNCED.c.order_id)
                .limit(count)
            )
        )
        for start in range(0, len(ids), 900):
            conn.execute(
                delete(T_ANNOUNCED).where(
                    T_ANNOUNCED.c.channel == channel,
                    T_ANNOUNCED.c.kind == OVERDUE,
                    T_ANNOUNCED.c.order_id.in_(ids[start : start + 900]),
                )
            )


def _clear(engine) -> None:  # type: ignore[no-untyped-def]
    from db.models.alerts import AlertAnnouncement, AlertDigest, AlertRun

    with engine.begin() as conn:
        for model in (AlertAnnouncement, AlertDigest, AlertRun):
            conn.execute(delete(model.__table__))  # type: ignore[attr-defined]


def bench_alerts(db: Path, clock: str, new_breaches: int = NEW_BREACHES) -> list[tuple[str, str, str]]:
    # The runs are audited: a bench database has no key of its own (as bench.pages_bench).
    os.environ.setdefault("AUDIT_KEY", secrets.token_urlsafe(48))
    from db.migrate import upgrade
    from db.session import make_engine
    from services.cli.system import system_actor
    from services.notify import notify
    from services.reports import render_report
    from services.settings import Settings
    from tests.services.notify.sinks import SlackSink, SmtpSink

    engine = make_engine(f"sqlite:///{db}")
    upgrade(engine)  # a database imported before the alert tables existed gets them here
    as_of = datetime.fromisoformat(clock)
    slack, smtp = SlackSink(), SmtpSink()
    settings = Settings(
        slack_webhook_url=slack.url,
        smtp_url=smtp.url(),
        alert_email_to="ops@example.test",
        alert_email_from="recon@example.test",
    )
    policy = settings.policy()
    actor = system_actor()
    rows: list[tuple[str, str, str]] = []
    try:
        _clear(engine)
        start, cpu = time.perf_counter(), time.process_time()
        first = notify(engine, settings, policy, as_of=as_of, now=as_of, actor=actor)
        first_s, first_cpu = time.perf_counter() - start, time.process_time() - cpu
        everything = first.channels[0].items
        for channel in ("slack", "email"):
            _forget_breaches(engine, channel, new_breaches)
        start, cpu = time.perf_counter(), time.process_time()
        second = notify(engine, settings, policy, as_of=as_of, now=as_of + timedelta(hours=2), actor=actor)
        second_s, second_cpu = time.perf_counter() - start, time.process_time() - cpu
        assert [c.items for c in second.channels] == [new_breaches] * 2, second.as_dict()
        assert len(slack.posts) == 2 and len(smtp.messages) == 2
        rows += [
            (
                f"notify, first run: {everything:,} items to Slack + email",
                f"{first_s:.2f} s",
                f"{first_cpu:.2f} CPU-s; everything in the queue and the discrepancies is new",
            ),
            (
                f"notify: {new_breaches:,} new breaches to Slack + email",
                f"{second_s:.2f} s",
                f"{second_cpu:.2f} CPU-s; goal < 5 s at 1M orders",
            ),
        ]
        date_to = policy.local_date(as_of)
        start, cpu = time.perf_counter(), time.process_time()
        report = render_report(engine, date_from=date_to - timedelta(days=29), date_to=date_to, as_of=as_of,
                               policy=policy, settings=settings, actor=actor, now=as_of, fmt="html")  # fmt: skip
        report_s, report_cpu = time.perf_counter() - start, time.process_time() - cpu
        population = sum(getattr(report.data.metrics, k) for k in ("on_time", "late", "open_breach", "open"))
        rows.append(
            (
                f"SLA report, 30 days to HTML ({population:,} orders due)",
                f"{report_s:.2f} s",
                f"{report_cpu:.2f} CPU-s; {len(report.content) / 1e3:,.0f} kB; goal < 10 s at 1M orders",
            )
        )
    finally:
        _clear(engine)
        slack.close()
        smtp.close()
        engine.dispose()
    return rows


def main() -> None:
    from bench.common import CLOCK, OUT, generate, print_table, run_job_isolated

    parser = argparse.ArgumentParser(prog="python -m bench.alerts_bench")
    parser.add_argument("--orders", type=int, default=100_000)
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()
    OUT.mkdir(parents=True, exist_ok=True)
    db = OUT / f"recon-{args.orders}.db"
    if not db.exists():
        run_job_isolated("recon", generate(args.orders, args.seed), db)
    print_table(bench_alerts(db, CLOCK))


if __name__ == "__main__":
    main()
