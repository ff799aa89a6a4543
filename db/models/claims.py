"""Who is working an overdue order right now, so two people don't work the same one."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, Column, ForeignKey, String
from sqlmodel import Field, SQLModel

from db.types import UTCDateTime


class OrderClaim(SQLModel, table=True):
    """At most one claim per order (the primary key): a second claimant is refused by the database."""

    __tablename__ = "order_claim"

    order_id: int = Field(
        sa_column=Column(
            BigInteger,
            ForeignKey("store_order.id", ondelete="CASCADE"),
            primary_key=True,
            autoincrement=False,
        )
    )
    username: str = Field(sa_column=Column(String(64), nullable=False, index=True))
    claimed_at: datetime = Field(sa_column=Column(UTCDateTime(), nullable=False))
