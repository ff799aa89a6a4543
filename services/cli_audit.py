"""`order-recon audit verify` and `order-recon audit export [--out FILE]`, registered into `services.cli`.

`verify` walks the hash chain: exit 0 when intact, 1 when broken, printing the first entry that does
not match (or where one is missing). `export` writes the log as CSV, oldest first, to FILE or stdout,
and records the export in the log itself (actor `cli:<OS user>`), after the rows it wrote.
"""

from __future__ import annotations

import argparse
import getpass
import sys
from pathlib import Path
from typing import Any, TextIO

from sqlalchemy import Table, select

from db.models.audit import AuditEntry
from db.session import session_scope
from services import audit

EXPORT_ACTION = "export.audit"
ENTRY: Table = AuditEntry.__table__  # type: ignore[attr-defined]


def register(sub: argparse._SubParsersAction, common: argparse.ArgumentParser) -> None:
    """Add the `audit` command and its `verify` / `export` subcommands to the CLI's subparsers."""
    parser = sub.add_parser("audit", parents=[common], help="the audit log: verify its hash chain, export it")
    actions = parser.add_subparsers(dest="audit_command", required=True, parser_class=type(parser))
    verify = actions.add_parser("verify", parents=[common], help="check the hash chain (exit 1 when broken)")
    verify.set_defaults(handler=cmd_verify)
    export = actions.add_parser("export", parents=[common], help="the log as CSV, oldest first")
    export.add_argument("--out", default=None, help="write to this file (default: stdout)")
    export.set_defaults(handler=cmd_export)


def _describe(entry: Any) -> str:
    at = entry.at.isoformat(timespec="seconds") if entry.at else "-"
    order = f" order={entry.order_name}" if entry.order_name else ""
    return (
        f"entry {entry.id}: at={at} actor={entry.actor} role={entry.role or '-'} action={entry.action}"
        f"{order} outcome={entry.outcome}"
    )


def cmd_verify(ctx: Any) -> int:
    with session_scope(ctx.engine) as session:
        report = audit.verify(session)
        bad = (
            session.execute(select(ENTRY).where(ENTRY.c.id == report.first_bad_id)).first()
            if report.first_bad_id is not None
            else None
        )
    if report.ok:
        print(f"Audit chain intact: {report.checked} entries checked.")
        return 0
    print(f"Audit chain broken: {report.reason}.")
    print(
        f"First bad entry: {_describe(bad)}"
        if bad is not None
        else f"First bad entry: {report.first_bad_id} (no such row)"
    )
    print(f"{report.checked} entries before it are intact.")
    return 1


def _export(ctx: Any, out: TextIO) -> int:
    with session_scope(ctx.engine) as session:
        return audit.export_csv(session, out)


def cmd_export(ctx: Any) -> int:
    target = ctx.args.out
    if target:
        with Path(target).open("w", newline="", encoding="utf-8") as handle:
            rows = _export(ctx, handle)
    else:
        rows = _export(ctx, sys.stdout)
        sys.stdout.flush()
    with session_scope(ctx.engine) as session:
        audit.append(
            session,
            actor=f"cli:{getpass.getuser()}"[:128],
            role=None,
            action=EXPORT_ACTION,
            outcome=audit.Outcome.OK,
            params={"rows": rows, "out": str(target or "stdout")},
            at=ctx.now,
        )
    print(
        f"Exported {rows} audit entries to {target or 'stdout'}.", file=sys.stdout if target else sys.stderr
    )
    return 0


__all__ = ["cmd_export", "cmd_verify", "register"]
