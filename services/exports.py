"""CSV exports, whoever asks (a page's button, a table's own download, the CLI): one path for all.

`export_csv` checks the actor against the role stored in the database (SPEC §7: every export needs the
metrics permission, the audit log the admin one), writes the rows through the one neutralising function,
audits the export with its row count, and ends the file with the signed audit head.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Callable, Iterable, Mapping
from datetime import datetime
from typing import Any, TextIO

from sqlmodel import Session

from services import audit, audit_head
from services.csv_cells import neutralise
from services.permissions import Actor, Permission, require

EXPORT_AUDIT_ACTION = "export.audit"

__all__ = ["EXPORT_AUDIT_ACTION", "export_csv", "export_rows", "neutralise", "write_rows"]


def write_rows(out: TextIO, rows: Iterable[Mapping[str, Any]]) -> int:
    """Rows of dicts as CSV (header from the first row), every cell neutralised; returns the count."""
    writer: csv.DictWriter[str] | None = None
    count = 0
    for row in rows:
        if writer is None:
            writer = csv.DictWriter(out, fieldnames=list(row))
            writer.writeheader()
        writer.writerow({k: neutralise(_flat(v)) for k, v in row.items()})
        count += 1
    return count


def export_csv(
    session: Session,
    actor: Actor | None,
    *,
    action: str,
    write: Callable[[Session, TextIO], int],
    now: datetime,
    permission: Permission = Permission.METRICS,
    params: Mapping[str, Any] | None = None,
) -> bytes:
    """The CSV `write` produces, for an actor allowed to export it; audited, and ending with the head.

    Raises PermissionDenied (audited as denied) for an actor without the permission."""
    require(session, actor, permission, action=action, params=params, clock=lambda: now)
    assert actor is not None
    out = io.StringIO()
    count = write(session, out)
    audit.append(
        session,
        actor=actor.username,
        role=actor.role,
        action=action,
        outcome=audit.Outcome.OK,
        params={**(params or {}), "rows": count},
        at=now,
    )
    session.flush()
    out.write(audit_head.head_line(session) + "\n")
    return out.getvalue().encode("utf-8")


def export_rows(
    session: Session,
    actor: Actor | None,
    rows: Callable[[Session], Iterable[Mapping[str, Any]]],
    *,
    action: str,
    now: datetime,
    permission: Permission = Permission.METRICS,
) -> bytes:
    """`export_csv` for rows of dicts."""
    return export_csv(
        session,
        actor,
        action=action,
        write=lambda own, out: write_rows(out, rows(own)),
        now=now,
        permission=permission,
    )


def _flat(value: Any) -> Any:
    if isinstance(value, list | tuple):
        return " ".join(str(v) for v in value)
    return value
