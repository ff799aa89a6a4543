"""Guided fixes the console sent to a source: claimed before the call, settled after it."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, BigInteger, Column, Integer, String, Text
from sqlmodel import Field, SQLModel

from db.types import UTCDateTime

PENDING, DONE, FAILED = "pending", "done", "failed"


def _ts(*, nullable: bool = True) -> Any:
    return Field(default=None, sa_column=Column(UTCDateTime(), nullable=nullable))


class GuidedFix(SQLModel, table=True):
    """One guided fix of one order; the unique `fix_key` is the exactly-once claim.

    `fix_key` names the kind and the target it changes (e.g. ``cancel-at-3pl:<3PL order id>``), so two
    requests for the same change collide whoever sends them. `status`: `pending` (claimed, the call may
    be under way), `done` (the target shows the change), `failed` (the target does not; `error` says why,
    and the next attempt re-claims this row). No FK to `store_order`: the row records a real request.
    """

    __tablename__ = "guided_fix"

    id: int | None = Field(default=None, sa_column=Column(Integer, primary_key=True, autoincrement=True))
    fix_key: str = Field(sa_column=Column(String(160), nullable=False, unique=True))
    kind: str = Field(sa_column=Column(String(32), nullable=False))
    order_id: int = Field(sa_column=Column(BigInteger, nullable=False, index=True))
    order_name: str = Field(sa_column=Column(String(64), nullable=False))
    status: str = Field(sa_column=Column(String(16), nullable=False))
    request: dict[str, Any] = Field(sa_column=Column(JSON, nullable=False))
    fingerprint: str = Field(sa_column=Column(String(64), nullable=False))
    requested_by: str = Field(sa_column=Column(String(128), nullable=False))
    role: str = Field(sa_column=Column(String(16), nullable=False))
    requested_at: datetime = _ts(nullable=False)
    completed_at: datetime | None = _ts()
    resolution: str | None = Field(default=None, sa_column=Column(String(48)))
    error: str | None = Field(default=None, sa_column=Column(Text))
