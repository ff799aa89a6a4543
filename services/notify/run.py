"""One `notify` run: for each channel, what is new, sent once, recorded in the transaction that marks it.

Per channel: read the new items, send the digest, then in one transaction store the message as sent
(`alert_digest`) and every item it covers (`alert_announcement`). A channel whose send fails records
nothing, so its items are new again next run; a channel that succeeded never gets them twice. A run
holds a named lock, so two runs at once cannot both send.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, Literal

from sqlalchemy import Table, desc, insert, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Connection, Engine

from checks.policy import SlaPolicy
from db.models.alerts import AlertDigest, AlertRun
from db.session import session_scope
from services import audit
from services.errors import ConfigurationError, DeliveryError
from services.locks import named_lock
from services.notify.config import Channel, configured_channels, load_config
from services.notify.digest import CAP, Digest, build_digest
from services.notify.items import T_ANNOUNCED, Item, new_items, owners_of
from services.notify.render import email_message, slack_message
from services.notify.transport import post_slack, send_email
from services.permissions import Actor, audit_as
from services.settings import Settings

T_DIGEST: Table = AlertDigest.__table__  # type: ignore[attr-defined]
T_RUN: Table = AlertRun.__table__  # type: ignore[attr-defined]
CADENCE_SLACK = timedelta(minutes=1)  # a cron tick a few seconds early still counts as due
Status = Literal["sent", "failed", "nothing new", "dry run"]


@dataclass(frozen=True)
class ChannelOutcome:
    channel: str
    status: Status
    items: int
    digest: Digest | None = None
    error: str | None = None

    def as_dict(self) -> dict[str, Any]:
        return {
            "channel": self.channel,
            "status": self.status,
            "items": self.items,
            "error": self.error,
            "digest": self.digest.as_dict() if self.digest else None,
        }


@dataclass(frozen=True)
class NotifyResult:
    as_of: datetime
    dry_run: bool
    channels: list[ChannelOutcome] = field(default_factory=list)
    not_due_until: datetime | None = None  # set when the cadence says it is too early

    @property
    def ok(self) -> bool:
        return all(c.status != "failed" for c in self.channels)

    def as_dict(self) -> dict[str, Any]:
        return {
            "as_of": self.as_of.isoformat(),
            "dry_run": self.dry_run,
            "not_due_until": self.not_due_until.isoformat() if self.not_due_until else None,
            "channels": [c.as_dict() for c in self.channels],
        }


def _not_due_until(conn: Connection, every_minutes: int, now: datetime) -> datetime | None:
    last = conn.scalar(select(T_RUN.c.ran_at).order_by(desc(T_RUN.c.ran_at)).limit(1))
    if last is None:
        return None
    due = last + timedelta(minutes=every_minutes)
    return due if now < due - CADENCE_SLACK else None


def _send(channel: Channel, digest: Digest, settings: Settings) -> str:
    """Deliver `digest`; return the message exactly as sent (what `alert_digest.body` keeps)."""
    timeout = settings.alert_timeout_s
    if channel.kind == "slack":
        payload = slack_message(digest)
        assert settings.slack_webhook_url
        post_slack(settings.slack_webhook_url, payload, channel=channel.name, timeout=timeout)
        return json.dumps(payload, ensure_ascii=False)
    assert settings.smtp_url and settings.alert_email_from
    message = email_message(digest, sender=settings.alert_email_from, recipients=channel.recipients)
    send_email(settings.smtp_url, message, channel=channel.name, timeout=timeout)
    return message.as_string()


def _record(conn: Connection, digest: Digest, items: list[Item], body: str, now: datetime) -> None:
    """The message as sent and every item it covers, in the caller's (one) transaction."""
    digest_id = conn.execute(
        insert(T_DIGEST)
        .values(
            channel=digest.channel,
            sent_at=now,
            as_of=digest.as_of,
            items=digest.total,
            subject=digest.subject,
            body=body,
        )
        .returning(T_DIGEST.c.id)
    ).scalar_one()
    dialect = postgresql if conn.dialect.name == "postgresql" else sqlite
    rows = [
        {"channel": digest.channel, "kind": i.kind, "order_id": i.order_id, "digest_id": digest_id}
        for i in items
    ]
    for start in range(0, len(rows), 5000):
        conn.execute(dialect.insert(T_ANNOUNCED).on_conflict_do_nothing(), rows[start : start + 5000])


def _digest_for(
    conn: Connection, channel: Channel, items: list[Item], settings: Settings, as_of: datetime
) -> Digest:
    owners = owners_of(conn, [i.order_id for i in items[:CAP]])
    return build_digest(channel.name, items, owners=owners, as_of=as_of, console_url=settings.console_url)


def _run_channel(
    engine: Engine,
    channel: Channel,
    settings: Settings,
    policy: SlaPolicy,
    as_of: datetime,
    now: datetime,
    dry_run: bool,
) -> ChannelOutcome:
    with engine.connect() as conn:
        items = new_items(conn, channel=channel.name, as_of=as_of, policy=policy, owner=channel.owner)
        if not items:
            return ChannelOutcome(channel.name, "nothing new", 0)
        digest = _digest_for(conn, channel, items, settings, as_of)
    if dry_run:
        return ChannelOutcome(channel.name, "dry run", len(items), digest)
    try:
        body = _send(channel, digest, settings)
    except DeliveryError as exc:
        return ChannelOutcome(channel.name, "failed", len(items), digest, str(exc))
    with engine.begin() as conn:
        _record(conn, digest, items, body, now)
    return ChannelOutcome(channel.name, "sent", len(items), digest)


def notify(
    engine: Engine,
    settings: Settings,
    policy: SlaPolicy,
    *,
    as_of: datetime,
    now: datetime,
    actor: Actor,
    dry_run: bool = False,
) -> NotifyResult:
    """Send each configured channel what is new for it at `as_of`; audited as `alerts.notify` by `actor`
    (the CLI's `system` actor is recorded with no role, naming the OS user who ran it).

    Does nothing (and says until when) when the last run is more recent than the digest cadence. A dry
    run sends and records nothing; with no channel configured it previews what a new channel would get.
    """
    with engine.connect() as conn:
        channels = configured_channels(conn, settings)
        cadence = load_config(conn).digest_every_minutes
        not_due = None if dry_run else _not_due_until(conn, cadence, now)
    if not channels:
        if not dry_run:
            raise ConfigurationError(
                "No alert channel is configured: set SLACK_WEBHOOK_URL, or SMTP_URL, ALERT_EMAIL_FROM and "
                "ALERT_EMAIL_TO (see the README's Alerts section).",
                setting="SLACK_WEBHOOK_URL",
            )
        channels = [Channel("preview", "slack")]
    if not_due is not None:
        return NotifyResult(as_of, dry_run, [], not_due)
    with named_lock(engine, "alerts.notify"):
        outcomes = [_run_channel(engine, c, settings, policy, as_of, now, dry_run) for c in channels]
    result = NotifyResult(as_of, dry_run, outcomes)
    params: dict[str, Any] = {
        "as_of": as_of.isoformat(),
        "dry_run": dry_run,
        "channels": {o.channel: {"status": o.status, "items": o.items} for o in outcomes},
    }
    with session_scope(engine) as session:
        if not dry_run:
            session.execute(
                insert(T_RUN).values(
                    ran_at=now,
                    as_of=as_of,
                    new_items=sum(o.items for o in outcomes),
                    sent=sum(o.status == "sent" for o in outcomes),
                    failed=sum(o.status == "failed" for o in outcomes),
                )
            )
        audit_as(
            session,
            actor,
            action="alerts.notify",
            outcome=audit.Outcome.OK if result.ok else audit.Outcome.FAILED,
            params=params,
            detail="; ".join(o.error for o in outcomes if o.error) or None,
            at=now,
        )
    return result
