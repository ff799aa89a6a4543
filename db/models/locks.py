"""Named run locks (SQLite; PostgreSQL uses advisory locks and leaves this table empty)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Column, String
from sqlmodel import Field, SQLModel

from db.types import UTCDateTime


class RunLock(SQLModel, table=True):
    __tablename__ = "run_lock"

    name: str = Field(sa_column=Column(String(128), primary_key=True))
    holder: str = Field(sa_column=Column(String(128), nullable=False))
    acquired_at: datetime = Field(sa_column=Column(UTCDateTime(), nullable=False))
    # A holder that died leaves its row behind; past this instant the lock is free again.
    expires_at: datetime = Field(sa_column=Column(UTCDateTime(), nullable=False))
