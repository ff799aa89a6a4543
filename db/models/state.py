"""Small key/value facts about the database itself (e.g. the policy its classifications follow)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Column, String, Text
from sqlmodel import Field, SQLModel

from db.types import UTCDateTime


class AppState(SQLModel, table=True):
    __tablename__ = "app_state"

    key: str = Field(sa_column=Column(String(64), primary_key=True))
    value: str = Field(sa_column=Column(Text, nullable=False))
    updated_at: datetime | None = Field(default=None, sa_column=Column(UTCDateTime()))
