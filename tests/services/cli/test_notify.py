"""`order-recon report sla` and `order-recon notify` as real processes, against real sinks on loopback."""

from __future__ import annotations

import json
import re
import subprocess
from datetime import date, timedelta
from html.parser import HTMLParser
from io import BytesIO
from pathlib import Path

import pytest
from sqlalchemy import select
from sqlmodel import col

from db.models.audit import AuditEntry
from db.session import make_engine, session_scope
from tests.services.cli.support import run_cli
from tests.services.notify.sinks import SlackSink, SmtpSink
from tests.services.notify.support import CLOCK, T0, make_snapshot

PERIOD = ("--from", "2026-10-21", "--to", "2026-11-20")


def run(db: Path, *args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    unset = ("ORDER_RECON_CONFIG", "SLACK_WEBHOOK_URL", "SMTP_URL", "ALERT_EMAIL_TO", "ALERT_EMAIL_FROM")
    return run_cli(db, *args, env=env, unset=unset, timeout=180)


@pytest.fixture(scope="module")
def db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("report-cli")
    snapshot = make_snapshot(folder / "snapshot")
    path = folder / "cli.db"
    result = run(path, "import", str(snapshot))
    assert result.returncode == 0, result.stderr
    return path


class _Figures(HTMLParser):
    """Collects the headline's data-metric values and every URL the page would load or link to."""

    def __init__(self) -> None:
        super().__init__()
        self.metrics: dict[str, str] = {}
        self.loads: list[str] = []
        self.links: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = dict(attrs)
        if "data-metric" in values:
            self.metrics[values["data-metric"] or ""] = values.get("data-value") or ""
        for name in ("src", "xlink:href", "data"):
            if values.get(name):
                self.loads.append(values[name] or "")
        if tag == "link" or (tag == "script" and values.get("src")):
            self.loads.append(str(values))
        if tag == "a" and values.get("href"):
            self.links.append(values["href"] or "")
        if tag == "image" and values.get("href"):
            self.loads.append(values["href"] or "")


def test_the_html_report_carries_exactly_the_metrics_and_loads_nothing(db: Path, tmp_path: Path) -> None:
    out = tmp_path / "sla.html"
    made = run(db, "report", "sla", *PERIOD, "--as-of", CLOCK, "--out", str(out))
    assert made.returncode == 0, made.stderr
    metrics = run(db, "metrics", *PERIOD, "--as-of", CLOCK, "--json")
    assert metrics.returncode == 0, metrics.stderr
    expected = json.loads(metrics.stdout)

    html = out.read_text()
    page = _Figures()
    page.feed(html)
    found = {k: (float(v) if k == "on_time_rate" else int(v)) if v else None for k, v in page.metrics.items()}
    assert found == expected
    assert (
        expected["late"] + expected["open_breach"] > 0
    )  # a period with breaches, so the check means something
    # Self-contained: nothing fetched (no src, stylesheet link, CSS url() or import); links only to the console.
    assert [url for url in page.loads if not url.startswith("#")] == []  # "#id": within the SVG itself
    assert not re.search(r"url\((?!#)|@import", html)  # url(#clip): within the SVG itself
    assert all(link.startswith("http://localhost:8501/lookup?order=") for link in page.links)
    assert html.count("<svg") >= 7  # daily, weekly, stages, informational and three breakdowns
    for heading in (
        "Per day",
        "Per week",
        "Where the time went",
        "Oldest open breaches",
        "False alarms removed",
    ):
        assert heading in html


def test_the_pdf_report_is_a_pdf_with_the_same_figures(db: Path, tmp_path: Path) -> None:
    from pypdf import PdfReader

    out = tmp_path / "sla.pdf"
    made = run(db, "report", "sla", *PERIOD, "--as-of", CLOCK, "--out", str(out))
    assert made.returncode == 0, made.stderr
    content = out.read_bytes()
    assert content.startswith(b"%PDF")
    text = "".join(page.extract_text() for page in PdfReader(BytesIO(content)).pages)
    expected = json.loads(run(db, "metrics", *PERIOD, "--as-of", CLOCK, "--json").stdout)
    assert "Where the time went" in text
    assert f"{expected['on_time_rate']:.1%}" in text


def test_bad_report_input_is_exit_2_with_one_line(db: Path, tmp_path: Path) -> None:
    for args in (
        ("report", "sla", *PERIOD, "--out", str(tmp_path / "sla.docx")),
        ("report", "sla", "--from", "2026-11-20", "--to", "2026-11-01", "--out", str(tmp_path / "x.html")),
        ("report", "sla", *PERIOD),
        ("report", "sla", "--last-week", "--from", "2026-11-01", "--email"),
    ):
        result = run(db, *args)
        assert result.returncode == 2, (args, result.stderr)
        assert len(result.stderr.strip().splitlines()) == 1 and "Traceback" not in result.stderr


def test_last_week_by_email(db: Path) -> None:
    smtp = SmtpSink()
    try:
        env = {
            "SMTP_URL": smtp.url(),
            "ALERT_EMAIL_FROM": "recon@example.test",
            "ALERT_EMAIL_TO": "lead@example.test",
        }
        result = run(db, "report", "sla", "--last-week", "--as-of", CLOCK, "--email", env=env)
        assert result.returncode == 0, result.stderr
    finally:
        smtp.close()
    ((recipients, message),) = smtp.messages
    today = T0.date()  # a Friday: last week is Monday 9 to Sunday 15 November
    monday = today - timedelta(days=today.weekday() + 7)
    assert monday == date(2026, 11, 9)
    assert recipients == ["lead@example.test"]
    assert message["Subject"] == f"SLA report {monday} to {monday + timedelta(days=6)}"
    (attachment,) = list(message.iter_attachments())
    assert attachment.get_filename() == f"sla-report-{monday}-{monday + timedelta(days=6)}.html"
    assert b"Where the time went" in attachment.get_content().encode()


def test_notify_from_the_command_line(db: Path, tmp_path: Path) -> None:
    local = tmp_path / "notify.db"
    local.write_bytes(db.read_bytes())
    preview = run(local, "notify", "--as-of", CLOCK, "--dry-run", "--json")
    assert preview.returncode == 0, preview.stderr
    (channel,) = json.loads(preview.stdout)["channels"]
    assert channel["status"] == "dry run" and channel["digest"]["total"] == channel["items"] > 0

    slack = SlackSink()
    try:
        env = {"SLACK_WEBHOOK_URL": slack.url}
        sent = run(local, "notify", "--as-of", CLOCK, env=env)
        assert sent.returncode == 0, sent.stderr
        assert sent.stdout.startswith(f"slack: sent, {channel['items']} item(s)")
        assert len(slack.posts) == 1
        later = (T0 + timedelta(days=4)).isoformat()
        # The default cadence is hourly: the wall clock has moved on far less, so it is not due yet.
        early = run(local, "notify", "--as-of", later, env=env)
        assert early.returncode == 0 and early.stdout.startswith("Not due yet")
    finally:
        slack.close()
    # Run from a shell: the `system` actor, naming the OS user who ran it.
    engine = make_engine(f"sqlite:///{local}")
    try:
        with session_scope(engine) as session:
            query = select(AuditEntry).where(col(AuditEntry.action) == "alerts.notify")
            who = {(e.actor, e.role, bool(e.params.get("os_user"))) for e in session.execute(query).scalars()}
        assert who == {("system", None, True)}
    finally:
        engine.dispose()
