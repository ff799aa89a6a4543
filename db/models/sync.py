"""One row per sync run: what was asked, how far it got, and where the next run picks up."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Column, Index, Integer, String, Text
from sqlmodel import Field, SQLModel

from db.types import UTCDateTime


class SyncRun(SQLModel, table=True):
    """A full, incremental or per-order sync of one source.

    The row is updated in the same transaction as every page it writes, so after a crash it still says
    truthfully how far the run got (`status` stays 'running'; the next run treats it as failed).
    """

    __tablename__ = "sync_run"
    __table_args__ = (Index("ix_sync_run_source_started", "source", "started_at"),)

    id: int | None = Field(default=None, sa_column=Column(Integer, primary_key=True, autoincrement=True))
    source: str = Field(sa_column=Column(String(16), nullable=False))  # shopify | shipbob | easypost
    mode: str = Field(sa_column=Column(String(16), nullable=False))  # full | incremental | order
    status: str = Field(sa_column=Column(String(16), nullable=False))  # running | ok | failed
    started_at: datetime = Field(sa_column=Column(UTCDateTime(), nullable=False))
    finished_at: datetime | None = Field(default=None, sa_column=Column(UTCDateTime()))
    pages: int = Field(default=0, sa_column=Column(Integer, nullable=False))
    records: int = Field(default=0, sa_column=Column(Integer, nullable=False))
    reclassified: int = Field(default=0, sa_column=Column(Integer, nullable=False))
    error: str | None = Field(default=None, sa_column=Column(Text))
    # The source is stored through this point: set when a pass completes (its start), or as far as a
    # partial run fetched when its pages come in time order.
    watermark: datetime | None = Field(default=None, sa_column=Column(UTCDateTime()))
    # The pass this run belongs to (a failed pass is resumed by the next run): its lower bound on
    # updated/created time (None: everything), when it began, and the position reached in it.
    pass_since: datetime | None = Field(default=None, sa_column=Column(UTCDateTime()))
    pass_started_at: datetime | None = Field(default=None, sa_column=Column(UTCDateTime()))
    cursor: str | None = Field(default=None, sa_column=Column(String(128)))
    # Set when this run re-scanned recent days (the store's updated_at filter misses some changes).
    rescan_from: datetime | None = Field(default=None, sa_column=Column(UTCDateTime()))
    order_name: str | None = Field(default=None, sa_column=Column(String(64)))
