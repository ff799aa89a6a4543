"""`order-recon notify` (digests of new breaches) and `order-recon report sla` (the leadership report).

    order-recon notify [--as-of ISO] [--dry-run] [--json]
    order-recon report sla --from D --to D [--as-of ISO] --out FILE.html|FILE.pdf [--email]
    order-recon report sla --last-week [--out FILE] --email

Exit 0 when every channel (or the email) succeeded, 1 when one failed (it is retried next run), 2 for
bad input. Whoever can run these holds the database credentials, so they act as the `system` actor; both
are audited naming the OS user.
"""

from __future__ import annotations

import argparse
import sys
from datetime import timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

from services.cli.system import system_actor
from services.errors import InputError

if TYPE_CHECKING:
    from services.cli.context import Context
    from services.notify import NotifyResult


def register(sub: Any, common: argparse.ArgumentParser) -> None:
    """Add `notify` and `report sla` to the `order-recon` subparsers."""
    parser = sub.add_parser(
        "notify", parents=[common], help="send digests of new breaches to Slack and email"
    )
    parser.add_argument("--as-of", dest="as_of", default=None, help="ISO time to evaluate at (default: now)")
    parser.add_argument("--dry-run", action="store_true", help="print what would be sent; send nothing")
    parser.add_argument("--json", action="store_true", help="print JSON")
    parser.set_defaults(handler=cmd_notify)

    report = sub.add_parser("report", parents=[common], help="the leadership report")
    kinds = report.add_subparsers(dest="report_kind", required=True, parser_class=type(report))
    sla = kinds.add_parser("sla", parents=[common], help="SLA report for a period of due days (HTML or PDF)")
    sla.add_argument("--from", dest="date_from", default=None)
    sla.add_argument("--to", dest="date_to", default=None)
    sla.add_argument("--last-week", action="store_true", help="Monday to Sunday of last week (store time)")
    sla.add_argument("--as-of", dest="as_of", default=None, help="ISO time to evaluate at (default: now)")
    sla.add_argument("--out", default=None, help="write the report to FILE.html or FILE.pdf")
    sla.add_argument("--email", action="store_true", help="email it to the report recipients")
    sla.set_defaults(handler=cmd_report_sla)


# ---------------------------------------------------------------- notify


def _describe(result: NotifyResult) -> str:
    from services.notify.render import text_body

    if result.not_due_until is not None:
        return f"Not due yet: the next digest is due at {result.not_due_until.isoformat(timespec='minutes')}."
    lines = []
    for outcome in result.channels:
        error = f": {outcome.error}" if outcome.error else ""
        lines.append(f"{outcome.channel}: {outcome.status}, {outcome.items} item(s){error}")
        if result.dry_run and outcome.digest is not None:
            lines.append(text_body(outcome.digest))
    return "\n".join(lines)


def cmd_notify(ctx: Context) -> int:
    from services.cli.output import emit
    from services.notify import notify

    result = notify(
        ctx.engine,
        ctx.settings,
        ctx.policy,
        as_of=ctx.as_of,
        now=ctx.now,
        actor=system_actor(),
        dry_run=ctx.args.dry_run,
    )
    emit(ctx.args, result.as_dict(), lambda: _describe(result))
    return 0 if result.ok else 1


# ---------------------------------------------------------------- report sla


def _period(ctx: Context) -> tuple[Any, Any]:
    from services.cli.context import parse_day

    args = ctx.args
    if args.last_week:
        if args.date_from or args.date_to:
            raise InputError("--last-week and --from/--to are exclusive")
        today = ctx.policy.local_date(ctx.as_of)
        monday = today - timedelta(days=today.weekday() + 7)
        return monday, monday + timedelta(days=6)
    if not (args.date_from and args.date_to):
        raise InputError("report sla needs --from and --to, or --last-week")
    start, end = parse_day(args.date_from, "--from"), parse_day(args.date_to, "--to")
    if start > end:
        raise InputError(f"--from {start} is after --to {end}")
    return start, end


def cmd_report_sla(ctx: Context) -> int:
    from services.reports import email_report, render_report, report_format

    args = ctx.args
    if not args.out and not args.email:
        raise InputError("say where the report goes: --out FILE.html|FILE.pdf, --email, or both")
    out = Path(args.out) if args.out else None
    fmt = report_format(out) if out else "html"
    date_from, date_to = _period(ctx)
    actor = system_actor()
    rendered = render_report(
        ctx.engine,
        date_from=date_from,
        date_to=date_to,
        as_of=ctx.as_of,
        policy=ctx.policy,
        settings=ctx.settings,
        actor=actor,
        now=ctx.now,
        fmt=fmt,
    )
    if out is not None:
        out.write_bytes(rendered.content)
        print(
            f"Wrote the SLA report for {date_from} to {date_to} to {out} ({len(rendered.content):,} bytes)."
        )
    if args.email:
        recipients = email_report(ctx.engine, rendered, settings=ctx.settings, actor=actor, now=ctx.now)
        print(f"Emailed the SLA report for {date_from} to {date_to} to {', '.join(recipients)}.")
    sys.stdout.flush()
    return 0
