"""The append-only audit log (a hash chain) and its one-row head."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, BigInteger, Column, String, Text
from sqlmodel import Field, SQLModel

from db.types import UTCDateTime

GENESIS_HASH = "0" * 64


class AuditEntry(SQLModel, table=True):
    """One thing someone did or tried. `id` is a gapless sequence assigned under the chain lock."""

    __tablename__ = "audit_entry"

    id: int = Field(sa_column=Column(BigInteger, primary_key=True, autoincrement=False))
    at: datetime = Field(sa_column=Column(UTCDateTime(), nullable=False, index=True))
    actor: str = Field(sa_column=Column(String(128), nullable=False, index=True))
    role: str | None = Field(default=None, sa_column=Column(String(16)))
    action: str = Field(sa_column=Column(String(64), nullable=False, index=True))
    order_name: str | None = Field(default=None, sa_column=Column(String(64), index=True))
    params: dict[str, Any] | None = Field(default=None, sa_column=Column(JSON(none_as_null=True)))
    outcome: str = Field(sa_column=Column(String(16), nullable=False))
    detail: str | None = Field(default=None, sa_column=Column(Text))
    prev_hash: str = Field(sa_column=Column(String(64), nullable=False))
    hash: str = Field(sa_column=Column(String(64), nullable=False, unique=True))


class AuditHead(SQLModel, table=True):
    """Exactly one row (id 1): the last entry's id and hash. Updating it is the chain's write lock."""

    __tablename__ = "audit_head"

    id: int = Field(sa_column=Column(BigInteger, primary_key=True, autoincrement=False))
    last_id: int = Field(default=0, sa_column=Column(BigInteger, nullable=False, default=0))
    last_hash: str = Field(default=GENESIS_HASH, sa_column=Column(String(64), nullable=False))
    # Entries up to this id were chained with plain SHA-256 (before the log was keyed); later ones by HMAC.
    legacy_until: int = Field(default=0, sa_column=Column(BigInteger, nullable=False, default=0))
    # HMAC of (last_id, last_hash, legacy_until) under AUDIT_KEY: the head cannot be moved back unsigned.
    signature: str | None = Field(default=None, sa_column=Column(String(64)))
    key_id: str | None = Field(default=None, sa_column=Column(String(16)))
