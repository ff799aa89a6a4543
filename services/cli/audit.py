"""`order-recon audit verify [--expect-head FILE]`, `audit head` and `audit export [--out FILE]`.

`verify` checks the head's signature and walks the HMAC chain: exit 0 when intact, 1 when broken,
printing the first entry that does not match (or where one is missing). With `--expect-head FILE` (a head
printed earlier by `audit head` and kept outside the database) it also fails when the log has fewer
entries than then, or another hash at that sequence. `head` prints the signed head (sequence, hash,
time). `export` writes the log as CSV, oldest first, to FILE or stdout, records the export in the log
itself (actor `system`, naming the OS user), and ends with a `# audit-head` line carrying the head.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any, TextIO

from sqlalchemy import Table, select

from db.models.audit import AuditEntry
from db.session import session_scope
from services import audit, audit_head
from services.cli.system import system_params
from services.errors import InputError
from services.exports import EXPORT_AUDIT_ACTION

EXPORT_ACTION = EXPORT_AUDIT_ACTION
ENTRY: Table = AuditEntry.__table__  # type: ignore[attr-defined]


def register(sub: argparse._SubParsersAction, common: argparse.ArgumentParser) -> None:
    """Add the `audit` command and its `verify` / `export` subcommands to the CLI's subparsers."""
    parser = sub.add_parser("audit", parents=[common], help="the audit log: verify its hash chain, export it")
    actions = parser.add_subparsers(dest="audit_command", required=True, parser_class=type(parser))
    verify = actions.add_parser("verify", parents=[common], help="check the hash chain (exit 1 when broken)")
    verify.add_argument(
        "--expect-head", default=None, metavar="FILE", help="a head printed earlier by `audit head`"
    )
    verify.set_defaults(handler=cmd_verify)
    head = actions.add_parser("head", parents=[common], help="print the signed head to keep elsewhere")
    head.set_defaults(handler=cmd_head)
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


def cmd_head(ctx: Any) -> int:
    with session_scope(ctx.engine) as session:
        head = audit_head.signed_head(session)
    print(head.as_json())
    return 0


def cmd_verify(ctx: Any) -> int:
    expected = None
    if ctx.args.expect_head:
        try:
            expected = audit_head.parse_head(Path(ctx.args.expect_head).read_text(encoding="utf-8"))
        except OSError as exc:
            raise InputError(f"cannot read {ctx.args.expect_head}: {exc.strerror}") from None
    with session_scope(ctx.engine) as session:
        report = audit.verify(session)
        if report.ok and expected is not None:
            report = audit_head.check_expected(session, expected)
        bad = (
            session.execute(select(ENTRY).where(ENTRY.c.id == report.first_bad_id)).first()
            if report.first_bad_id is not None
            else None
        )
    if report.ok:
        kept = f" The kept head (entry {expected.sequence}) is in the log." if expected else ""
        print(f"Audit chain intact: {report.checked} entries checked.{kept}")
        return 0
    print(f"Audit chain broken: {report.reason}.")
    if report.first_bad_id is not None:
        print(
            f"First bad entry: {_describe(bad)}"
            if bad is not None
            else f"First bad entry: {report.first_bad_id} (no such row)"
        )
    print(f"{report.checked} entries before it are intact.")
    return 1


def _export(ctx: Any, out: TextIO) -> int:
    target = ctx.args.out
    with session_scope(ctx.engine) as session:
        rows = audit.export_csv(session, out)
    with session_scope(ctx.engine) as session:
        audit.append(
            session,
            actor="system",
            role=None,
            action=EXPORT_ACTION,
            outcome=audit.Outcome.OK,
            params={"rows": rows, "out": str(target or "stdout"), **system_params()},
            at=ctx.now,
        )
    with session_scope(ctx.engine) as session:
        out.write(audit_head.head_line(session) + "\n")
    return rows


def cmd_export(ctx: Any) -> int:
    target = ctx.args.out
    if target:
        with Path(target).open("w", newline="", encoding="utf-8") as handle:
            rows = _export(ctx, handle)
    else:
        rows = _export(ctx, sys.stdout)
        sys.stdout.flush()
    print(
        f"Exported {rows} audit entries to {target or 'stdout'}.", file=sys.stdout if target else sys.stderr
    )
    return 0


__all__ = ["cmd_export", "cmd_head", "cmd_verify", "register"]
