"""Digests of new breaches: what each channel was sent, what it has been told, and who wants what (SPEC §9)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, Boolean, Column, ForeignKey, Integer, String, Text
from sqlmodel import Field, SQLModel

from db.types import UTCDateTime


class AlertDigest(SQLModel, table=True):
    """One message sent to one channel, exactly as sent."""

    __tablename__ = "alert_digest"

    id: int | None = Field(default=None, sa_column=Column(Integer, primary_key=True, autoincrement=True))
    channel: str = Field(sa_column=Column(String(96), nullable=False, index=True))
    sent_at: datetime = Field(sa_column=Column(UTCDateTime(), nullable=False))
    as_of: datetime = Field(sa_column=Column(UTCDateTime(), nullable=False))
    items: int = Field(sa_column=Column(Integer, nullable=False))
    subject: str = Field(sa_column=Column(String(200), nullable=False))
    body: str = Field(sa_column=Column(Text, nullable=False))


class AlertAnnouncement(SQLModel, table=True):
    """An order's breach (`kind` "overdue") or one of its discrepancies (`kind` its code), told to a channel.

    The primary key is what makes "announced once per channel" hold, even for two runs at once.
    """

    __tablename__ = "alert_announcement"

    channel: str = Field(sa_column=Column(String(96), primary_key=True))
    kind: str = Field(sa_column=Column(String(32), primary_key=True))
    order_id: int = Field(
        sa_column=Column(
            BigInteger,
            ForeignKey("store_order.id", ondelete="CASCADE"),
            primary_key=True,
            autoincrement=False,
        )
    )
    digest_id: int = Field(
        sa_column=Column(
            Integer, ForeignKey("alert_digest.id", ondelete="CASCADE"), nullable=False, index=True
        )
    )


class AlertRun(SQLModel, table=True):
    """One `notify` run, sent or not: the digest cadence counts from the last one."""

    __tablename__ = "alert_run"

    id: int | None = Field(default=None, sa_column=Column(Integer, primary_key=True, autoincrement=True))
    ran_at: datetime = Field(sa_column=Column(UTCDateTime(), nullable=False, index=True))
    as_of: datetime = Field(sa_column=Column(UTCDateTime(), nullable=False))
    new_items: int = Field(sa_column=Column(Integer, nullable=False))
    sent: int = Field(sa_column=Column(Integer, nullable=False))
    failed: int = Field(sa_column=Column(Integer, nullable=False))


class AlertSettings(SQLModel, table=True):
    """The admin's alert and report settings: one row (id 1). Secrets never live here."""

    __tablename__ = "alert_settings"

    id: int = Field(sa_column=Column(Integer, primary_key=True, autoincrement=False))
    slack_enabled: bool = Field(sa_column=Column(Boolean, nullable=False))
    email_enabled: bool = Field(sa_column=Column(Boolean, nullable=False))
    email_to: str = Field(sa_column=Column(Text, nullable=False))
    digest_every_minutes: int = Field(sa_column=Column(Integer, nullable=False))
    report_to: str = Field(sa_column=Column(Text, nullable=False))
    updated_at: datetime = Field(sa_column=Column(UTCDateTime(), nullable=False))
    updated_by: str = Field(sa_column=Column(String(64), nullable=False))


class AlertPreference(SQLModel, table=True):
    """Whether a user gets, by email, a digest of the new breaches among their own claims."""

    __tablename__ = "alert_preference"

    username: str = Field(sa_column=Column(String(64), primary_key=True))
    own_claims: bool = Field(sa_column=Column(Boolean, nullable=False))
    updated_at: datetime = Field(sa_column=Column(UTCDateTime(), nullable=False))
