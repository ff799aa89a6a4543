"""Finding audit entries the way a person types: part of a user or an order, any case, `#` or not.

Reads the audit table through its model; writing and the hash chain stay `services.audit`'s. Action and
outcome are chosen from the values that exist (`actions`), so they are matched exactly.
"""

from __future__ import annotations

import csv
from datetime import datetime
from typing import Any, TextIO

from sqlalchemy import ColumnElement, func, select
from sqlmodel import Session

from db.models import AuditEntry
from services import audit

_ENTRY = AuditEntry.__table__  # type: ignore[attr-defined]
EXPORT_BATCH = 1000


def _contains(column: Any, part: str) -> ColumnElement[bool]:
    escaped = part.lower().replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return func.lower(column).like(f"%{escaped}%", escape="\\")


def matching(
    *,
    actor: str | None = None,
    action: str | None = None,
    order: str | None = None,
    outcome: str | None = None,
    since: datetime | None = None,
    until: datetime | None = None,
) -> list[ColumnElement[bool]]:
    """Conditions: part of the actor or order (case-insensitive, `#` optional), exact action and outcome."""
    c = _ENTRY.c
    where: list[ColumnElement[bool]] = []
    if actor and actor.strip():
        where.append(_contains(c.actor, actor.strip()))
    if order and order.strip().lstrip("#"):
        where.append(_contains(c.order_name, order.strip().lstrip("#")))
    if action:
        where.append(c.action == action)
    if outcome:
        where.append(c.outcome == outcome)
    if since is not None:
        where.append(c.at >= since)
    if until is not None:
        where.append(c.at < until)
    return where


def actions(session: Session) -> list[str]:
    """Every action the log holds, for a dropdown."""
    return sorted(session.execute(select(_ENTRY.c.action).distinct()).scalars())


def count(session: Session, **filters: Any) -> int:
    where = matching(**filters)
    return int(session.execute(select(func.count()).select_from(_ENTRY).where(*where)).scalar_one())


def entries(session: Session, *, limit: int = 100, offset: int = 0, **filters: Any) -> list[AuditEntry]:
    """One page of the matching entries, newest first."""
    statement = (
        select(AuditEntry)
        .where(*matching(**filters))
        .order_by(_ENTRY.c.id.desc())
        .limit(max(0, limit))
        .offset(max(0, offset))
    )
    return list(session.execute(statement).scalars().all())


def _cell(value: str | None) -> str:
    if value is None:
        return ""
    return "'" + value if value[:1] in ("=", "+", "-", "@", "\t", "\r") else value


def export_csv(session: Session, out: TextIO, **filters: Any) -> int:
    """The matching entries as CSV in chain order, with the columns of `services.audit.export_csv`."""
    where, after, written = matching(**filters), 0, 0
    writer = csv.writer(out)
    writer.writerow(audit.CSV_COLUMNS)
    while True:
        rows = session.execute(
            select(_ENTRY).where(*where, _ENTRY.c.id > after).order_by(_ENTRY.c.id).limit(EXPORT_BATCH)
        ).all()
        for row in rows:
            writer.writerow(
                (
                    row.id,
                    row.at.isoformat(),
                    _cell(row.actor),
                    row.role or "",
                    _cell(row.action),
                    _cell(row.order_name),
                    row.outcome,
                    audit.canonical_json(row.params) if row.params is not None else "",
                    _cell(row.detail),
                    row.prev_hash,
                    row.hash,
                )
            )
        written += len(rows)
        if len(rows) < EXPORT_BATCH:
            return written
        after = rows[-1].id
