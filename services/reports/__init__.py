"""The leadership SLA report (SPEC §9): one self-contained HTML or PDF file, and its email.

    stages  where the time went: handoff, 3PL, first scan per warehouse
    data    the figures, from the metrics' own code (equal to `order-recon metrics`)
    charts  matplotlib charts as inline SVG or PNG data URIs
    render  Jinja2 HTML, xhtml2pdf PDF

The report needs `Permission.METRICS` (ops, lead, admin; SPEC §7); each one made or sent is audited.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from email.message import EmailMessage
from pathlib import Path
from typing import Literal

from sqlalchemy.engine import Engine

from checks.policy import SlaPolicy
from db.session import session_scope
from services import audit
from services.errors import ConfigurationError, InputError
from services.notify.config import load_config, report_recipients
from services.notify.transport import send_email
from services.permissions import Actor, Permission, audit_as, require
from services.reports.data import ReportData, report_data
from services.reports.render import report_html, report_pdf
from services.settings import Settings

__all__ = ["RenderedReport", "ReportData", "email_report", "render_report", "report_data", "report_format"]

ReportFormat = Literal["html", "pdf"]


@dataclass(frozen=True)
class RenderedReport:
    data: ReportData
    fmt: ReportFormat
    content: bytes

    @property
    def file_name(self) -> str:
        return f"sla-report-{self.data.date_from}-{self.data.date_to}.{self.fmt}"

    @property
    def mime_type(self) -> str:
        return "application/pdf" if self.fmt == "pdf" else "text/html"


def report_format(path: Path) -> ReportFormat:
    suffix = path.suffix.lower()
    if suffix in (".html", ".htm"):
        return "html"
    if suffix == ".pdf":
        return "pdf"
    raise InputError(f"--out {path}: the report is written as .html or .pdf")


def _audit(engine: Engine, actor: Actor, action: str, now: datetime, **params: object) -> None:
    with session_scope(engine) as session:
        audit_as(
            session,
            actor,
            action=action,
            outcome=audit.Outcome.OK,
            params=params,
            at=now,
        )


def render_report(
    engine: Engine,
    *,
    date_from: date,
    date_to: date,
    as_of: datetime,
    policy: SlaPolicy,
    settings: Settings,
    actor: Actor | None,
    now: datetime,
    fmt: ReportFormat = "html",
) -> RenderedReport:
    """The report for due days [date_from, date_to] at `as_of`, as `fmt` bytes (audited as `report.sla`)."""
    params = {"from": date_from.isoformat(), "to": date_to.isoformat(), "format": fmt}
    with session_scope(engine) as session:
        require(session, actor, Permission.METRICS, action="report.sla", params=params, clock=lambda: now)
    assert actor is not None
    if date_from > date_to:
        raise InputError(f"the period starts ({date_from}) after it ends ({date_to})")
    with engine.connect() as conn:
        data = report_data(conn, date_from=date_from, date_to=date_to, as_of=as_of, policy=policy)
    html = report_html(data, policy=policy, console_url=settings.console_url, for_pdf=fmt == "pdf")
    content = report_pdf(html) if fmt == "pdf" else html.encode()
    _audit(engine, actor, "report.sla", now, **params, as_of=as_of.isoformat())
    return RenderedReport(data, fmt, content)


def _summary(report: RenderedReport) -> str:
    m = report.data.metrics
    rate = "—" if m.on_time_rate is None else f"{m.on_time_rate:.1%}"
    return (
        f"SLA report for due days {report.data.date_from} to {report.data.date_to}\n\n"
        f"On-time rate: {rate}\nOn time: {m.on_time:,}\nShipped late: {m.late:,}\n"
        f"Open, late: {m.open_breach:,}\nOpen, in time: {m.open:,}\nFalse alarms removed: {m.noise_removed:,}\n\n"
        f"The full report, with the breakdowns and where the time went, is attached ({report.file_name}).\n"
    )


def email_report(
    engine: Engine, report: RenderedReport, *, settings: Settings, actor: Actor | None, now: datetime
) -> tuple[str, ...]:
    """Email `report` (attached, a summary in the body) to the report recipients; returns them."""
    with session_scope(engine) as session:
        require(session, actor, Permission.METRICS, action="report.sla.email", clock=lambda: now)
        recipients = report_recipients(load_config(session.connection()), settings)
    assert actor is not None
    if not (settings.smtp_url and settings.alert_email_from):
        raise ConfigurationError("set SMTP_URL and ALERT_EMAIL_FROM to email the report", setting="SMTP_URL")
    if not recipients:
        raise ConfigurationError(
            "no report recipients: name them on the Alerts page or in ALERT_EMAIL_TO",
            setting="ALERT_EMAIL_TO",
        )
    message = EmailMessage()
    message["Subject"] = f"SLA report {report.data.date_from} to {report.data.date_to}"
    message["From"] = settings.alert_email_from
    message["To"] = ", ".join(recipients)
    message.set_content(_summary(report))
    maintype, subtype = report.mime_type.split("/")
    message.add_attachment(report.content, maintype=maintype, subtype=subtype, filename=report.file_name)
    send_email(settings.smtp_url, message, channel="report", timeout=settings.alert_timeout_s)
    _audit(
        engine,
        actor,
        "report.sla.email",
        now,
        **{"from": report.data.date_from.isoformat(), "to": report.data.date_to.isoformat()},
        recipients=list(recipients),
    )
    return recipients
