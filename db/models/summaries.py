"""The AI summary cache: one model answer per facts fingerprint (the same facts never cost a second call)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Column, String, Text
from sqlmodel import Field, SQLModel

from db.types import UTCDateTime


def _ts(*, nullable: bool = True) -> Any:
    return Field(default=None, sa_column=Column(UTCDateTime(), nullable=nullable))


class SummaryCache(SQLModel, table=True):
    """A model answer, keyed by the sha256 of the redacted facts it was written from.

    Only model answers are stored; rule-based summaries are cheap to rebuild and must not stop the
    model from being tried again. Rows hold no personal data: the model never saw any.
    """

    __tablename__ = "summary_cache"

    fingerprint: str = Field(sa_column=Column(String(64), primary_key=True))
    order_name: str = Field(sa_column=Column(String(64), nullable=False, index=True))
    engine: str = Field(sa_column=Column(String(16), nullable=False))
    model: str | None = Field(default=None, sa_column=Column(String(200)))
    text: str = Field(sa_column=Column(Text, nullable=False))
    created_at: datetime = _ts(nullable=False)
    first_token_ms: float | None = None
    latency_ms: float | None = None
    prompt_tokens: int | None = None
    completion_tokens: int | None = None
    tokens_estimated: bool = False
