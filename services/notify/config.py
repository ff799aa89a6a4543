"""Alert and report settings kept in the database, and the channels they and the secrets configure.

Admins choose the channels, the digest recipients, the cadence and the report recipients (audited,
`Permission.ADMINISTER`); each user chooses whether to get a digest of their own claims. The webhook URL
and the SMTP credentials are read from `Settings` (environment or secrets.toml) only.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any, Literal

from sqlalchemy import Table, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Connection
from sqlmodel import Session

from db.models.alerts import AlertPreference, AlertSettings
from db.models.auth import AppUser
from services import audit
from services.errors import InputError
from services.permissions import Actor, Permission, require
from services.settings import Settings

T_SETTINGS: Table = AlertSettings.__table__  # type: ignore[attr-defined]
T_PREFERENCE: Table = AlertPreference.__table__  # type: ignore[attr-defined]
T_USER: Table = AppUser.__table__  # type: ignore[attr-defined]
CADENCES = {"every 15 minutes": 15, "hourly": 60, "every 4 hours": 240, "daily": 1440}


def split_addresses(text: str | None) -> tuple[str, ...]:
    return tuple(a.strip() for a in (text or "").replace(";", ",").split(",") if a.strip())


@dataclass(frozen=True)
class AlertConfig:
    slack_enabled: bool = True
    email_enabled: bool = True
    email_to: tuple[str, ...] = ()  # empty: ALERT_EMAIL_TO
    digest_every_minutes: int = 60
    report_to: tuple[str, ...] = ()  # empty: the digest recipients
    updated_by: str | None = None
    updated_at: datetime | None = None

    def as_params(self) -> dict[str, Any]:
        return {
            "slack_enabled": self.slack_enabled,
            "email_enabled": self.email_enabled,
            "email_to": list(self.email_to),
            "digest_every_minutes": self.digest_every_minutes,
            "report_to": list(self.report_to),
        }


def load_config(conn: Connection) -> AlertConfig:
    """The stored settings, or the defaults when an admin has saved none."""
    row = conn.execute(select(T_SETTINGS).where(T_SETTINGS.c.id == 1)).first()
    if row is None:
        return AlertConfig()
    return AlertConfig(
        slack_enabled=row.slack_enabled,
        email_enabled=row.email_enabled,
        email_to=split_addresses(row.email_to),
        digest_every_minutes=row.digest_every_minutes,
        report_to=split_addresses(row.report_to),
        updated_by=row.updated_by,
        updated_at=row.updated_at,
    )


def _check_addresses(field: str, addresses: tuple[str, ...]) -> None:
    for address in addresses:
        if address.count("@") != 1 or " " in address or address.startswith("@") or address.endswith("@"):
            raise InputError(f"{field}: {address!r} is not an email address")


def _upsert(session: Session, table: Table, values: dict[str, Any], key: str) -> None:
    dialect = postgresql if session.get_bind().dialect.name == "postgresql" else sqlite
    statement = dialect.insert(table).values(**values)
    session.execute(
        statement.on_conflict_do_update(
            index_elements=[key], set_={k: statement.excluded[k] for k in values if k != key}
        )
    )


def save_config(session: Session, config: AlertConfig, *, actor: Actor | None, now: datetime) -> AlertConfig:
    """Store `config` (admin only) and audit the change with the old and new values."""
    require(session, actor, Permission.ADMINISTER, action="alerts.settings", clock=lambda: now)
    assert actor is not None
    _check_addresses("digest recipients", config.email_to)
    _check_addresses("report recipients", config.report_to)
    if config.digest_every_minutes < 1:
        raise InputError("the digest cadence must be at least one minute")
    before = load_config(session.connection())
    _upsert(
        session,
        T_SETTINGS,
        {
            "id": 1,
            "slack_enabled": config.slack_enabled,
            "email_enabled": config.email_enabled,
            "email_to": ", ".join(config.email_to),
            "digest_every_minutes": config.digest_every_minutes,
            "report_to": ", ".join(config.report_to),
            "updated_at": now,
            "updated_by": actor.username,
        },
        "id",
    )
    audit.append(
        session,
        actor=actor.username,
        role=actor.role,
        action="alerts.settings",
        outcome=audit.Outcome.OK,
        params={"before": before.as_params(), "after": config.as_params()},
        at=now,
    )
    return replace(config, updated_by=actor.username, updated_at=now)


def own_claims_digest(conn: Connection, username: str) -> bool:
    row = conn.execute(select(T_PREFERENCE.c.own_claims).where(T_PREFERENCE.c.username == username)).first()
    return bool(row and row.own_claims)


def set_own_claims_digest(session: Session, *, enabled: bool, actor: Actor | None, now: datetime) -> None:
    """A user's own choice: a digest, by email, of the new breaches among the orders they claimed."""
    require(session, actor, Permission.QUEUES, action="alerts.own_claims", clock=lambda: now)
    assert actor is not None
    _upsert(
        session,
        T_PREFERENCE,
        {"username": actor.username, "own_claims": enabled, "updated_at": now},
        "username",
    )
    audit.append(
        session,
        actor=actor.username,
        role=actor.role,
        action="alerts.own_claims",
        outcome=audit.Outcome.OK,
        params={"enabled": enabled},
        at=now,
    )


# ---------------------------------------------------------------- channels


@dataclass(frozen=True)
class Channel:
    """Where a digest goes. `name` keys what it was told; `owner` narrows it to that user's claims."""

    name: str
    kind: Literal["slack", "email"]
    recipients: tuple[str, ...] = ()
    owner: str | None = None


def email_recipients(config: AlertConfig, settings: Settings) -> tuple[str, ...]:
    return config.email_to or split_addresses(settings.alert_email_to)


def report_recipients(config: AlertConfig, settings: Settings) -> tuple[str, ...]:
    return config.report_to or email_recipients(config, settings)


def configured_channels(conn: Connection, settings: Settings) -> list[Channel]:
    """The team channels (Slack, email) that are set up and enabled, then each opted-in user's own."""
    config = load_config(conn)
    channels = []
    if settings.slack_webhook_url and config.slack_enabled:
        channels.append(Channel("slack", "slack"))
    mail_ready = bool(settings.smtp_url and settings.alert_email_from)
    team = email_recipients(config, settings)
    if mail_ready and config.email_enabled and team:
        channels.append(Channel("email", "email", team))
    if mail_ready:
        query = (
            select(T_USER.c.username, T_USER.c.email)
            .join(T_PREFERENCE, T_PREFERENCE.c.username == T_USER.c.username)
            .where(
                T_PREFERENCE.c.own_claims.is_(True), T_USER.c.disabled.is_(False), T_USER.c.email.is_not(None)
            )
            .order_by(T_USER.c.username)
        )
        channels += [
            Channel(f"email:{r.username}", "email", (r.email,), r.username) for r in conn.execute(query)
        ]
    return channels
