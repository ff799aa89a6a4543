"""Webhook deliveries as they were received, and how far applying each one got."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Column, Index, Integer, LargeBinary, String, Text, UniqueConstraint
from sqlmodel import Field, SQLModel

from db.types import UTCDateTime


class WebhookEvent(SQLModel, table=True):
    """One verified delivery from Shopify, ShipBob or EasyPost, stored before the sender gets its reply.

    The source's own event id is unique per source, so a redelivery is stored once. The raw body is kept
    as received (bytes): the event is applied from it later, and again after a failure or a crash.
    """

    __tablename__ = "webhook_event"
    __table_args__ = (
        UniqueConstraint("source", "event_id", name="uq_webhook_event_source_event"),
        Index("ix_webhook_event_due", "status", "next_attempt_at"),
        Index("ix_webhook_event_source_received", "source", "received_at"),
        Index("ix_webhook_event_record", "source", "record_key"),
    )

    id: int | None = Field(default=None, sa_column=Column(Integer, primary_key=True, autoincrement=True))
    source: str = Field(sa_column=Column(String(16), nullable=False))  # shopify | shipbob | easypost
    event_id: str = Field(sa_column=Column(String(255), nullable=False))
    topic: str = Field(sa_column=Column(String(128), nullable=False))
    # What the event is about ("order:<id>", "tracker:<id>"), so newer events of a record can be found.
    record_key: str | None = Field(default=None, sa_column=Column(String(128)))
    # When the source says the change happened (its trigger time), else when it was received.
    occurred_at: datetime = Field(sa_column=Column(UTCDateTime(), nullable=False))
    received_at: datetime = Field(sa_column=Column(UTCDateTime(), nullable=False))
    status: str = Field(sa_column=Column(String(16), nullable=False))  # received | applied | failed
    attempts: int = Field(default=0, sa_column=Column(Integer, nullable=False))
    next_attempt_at: datetime | None = Field(default=None, sa_column=Column(UTCDateTime()))
    applied_at: datetime | None = Field(default=None, sa_column=Column(UTCDateTime()))
    last_error: str | None = Field(default=None, sa_column=Column(Text))
    outcome: str | None = Field(default=None, sa_column=Column(String(255)))  # what applying it did
    payload: bytes = Field(sa_column=Column(LargeBinary, nullable=False))
