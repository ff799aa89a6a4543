"""Replacement orders the console asked the 3PL for: claimed before the call, settled after it."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, BigInteger, Column, Integer, String, Text, UniqueConstraint
from sqlmodel import Field, SQLModel

from db.types import UTCDateTime

PENDING, CREATED, FAILED = "pending", "created", "failed"


def _ts(*, nullable: bool = True) -> Any:
    return Field(default=None, sa_column=Column(UTCDateTime(), nullable=nullable))


class Replacement(SQLModel, table=True):
    """One replacement `<store order id>-R<seq>`; the unique (order_id, seq) is the exactly-once claim.

    `status`: `pending` (claimed, the 3PL call may be under way), `created` (the 3PL order is known:
    `warehouse_order_id`), `failed` (the 3PL has no such order; `error` says why; the next attempt for
    the order re-claims this row and re-sends the same `reference_id`). No FK to `store_order`: the row
    records a real 3PL order and outlives whatever happens to the store data.
    """

    __tablename__ = "replacement"
    __table_args__ = (UniqueConstraint("order_id", "seq", name="uq_replacement_order_seq"),)

    id: int | None = Field(default=None, sa_column=Column(Integer, primary_key=True, autoincrement=True))
    order_id: int = Field(sa_column=Column(BigInteger, nullable=False, index=True))
    order_name: str = Field(sa_column=Column(String(64), nullable=False))
    seq: int = Field(sa_column=Column(Integer, nullable=False))
    reference_id: str = Field(sa_column=Column(String(64), nullable=False, unique=True))
    status: str = Field(sa_column=Column(String(16), nullable=False))
    items: list[dict[str, Any]] = Field(sa_column=Column(JSON, nullable=False))
    payload: dict[str, Any] = Field(sa_column=Column(JSON, nullable=False))
    requested_by: str = Field(sa_column=Column(String(128), nullable=False))
    role: str = Field(sa_column=Column(String(16), nullable=False))
    requested_at: datetime = _ts(nullable=False)
    warehouse_order_id: int | None = Field(default=None, sa_column=Column(BigInteger))
    completed_at: datetime | None = _ts()
    error: str | None = Field(default=None, sa_column=Column(Text))
