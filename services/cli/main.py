"""`order-recon` command line. Exit 0 on success, 2 on bad input (one line on stderr), 1 on other failures
(a source or the database included, one line on stderr, no traceback)."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable, Sequence
from typing import Any

from sqlalchemy.exc import ArgumentError, DBAPIError

from checks.results import is_actionable
from services import queries, queue
from services.cli.context import Context, Parser, parse_day
from services.cli.output import emit, format_table
from services.database_errors import as_database_error
from services.errors import InputError, NotFoundError, OrderReconError

# ---------------------------------------------------------------- commands


def cmd_import(ctx: Context) -> int:
    from services.snapshot import import_snapshot  # each command imports what it uses: start-up time

    report = import_snapshot(ctx.args.directory, engine=ctx.engine, policy=ctx.policy, now=ctx.now)
    parts = ", ".join(f"{n} {k}" for k, n in report.counts.items())
    missing = f"; absent: {', '.join(report.missing_files)}" if report.missing_files else ""
    print(f"Imported {parts}; classified {report.classified} order(s){missing}.")
    return 0


def cmd_queue(ctx: Context) -> int:
    with ctx.engine.connect() as conn:
        found = queue.overdue_queue(conn, as_of=ctx.as_of, policy=ctx.policy, has_fix=ctx.args.has_fix)
        rows = [r.as_dict() for r in found]
    emit(
        ctx.args,
        rows,
        lambda: format_table(
            rows,
            ["order", "due_at", "business_days_late", "shipping_method", "warehouse", "discrepancies"],
            "The overdue queue is empty.",
        ),
    )
    return 0


def cmd_informational(ctx: Context) -> int:
    with ctx.engine.connect() as conn:
        rows = [r.as_dict() for r in queries.informational_view(conn, as_of=ctx.as_of, policy=ctx.policy)]
    emit(
        ctx.args,
        rows,
        lambda: format_table(
            rows, ["order", "category", "vendor_late", "reason"], "No informational orders."
        ),
    )
    return 0


def cmd_discrepancies(ctx: Context) -> int:
    with ctx.engine.connect() as conn:
        codes = queries.FIXABLE_CODES if ctx.args.has_fix else None
        found = queries.discrepancies(conn, as_of=ctx.as_of, policy=ctx.policy, codes=codes)
        rows = [r.as_dict() for r in found]
    emit(ctx.args, rows, lambda: format_table(rows, ["order", "code", "detail"], "No discrepancies."))
    return 0


def cmd_check(ctx: Context) -> int:
    from services.lookup import orders

    inventory = live_inventory_or_none(ctx)
    with ctx.engine.connect() as conn:
        detail = orders.order_detail(
            conn, name=ctx.args.name, as_of=ctx.as_of, policy=ctx.policy, inventory=inventory
        )
    name = orders.normalize_name(ctx.args.name)
    results = detail.checks if detail is not None else orders.missing_order_checks(name, ctx.policy)
    actionable = is_actionable(results)
    result_rows = [r.as_dict() for r in results]
    payload = {"order": name, "actionable": actionable, "results": result_rows}
    emit(
        ctx.args,
        payload,
        lambda: (
            f"{name}: {'actionable' if actionable else 'blocked'}\n"
            + format_table(result_rows, ["code", "level", "message"], "")
        ),
    )
    return 0


def live_inventory_or_none(ctx: Context) -> Any:
    """Live 3PL inventory when a 3PL is configured; None means 'use the stored inventory'."""
    if not ctx.settings.source_configured("shipbob"):
        return None
    from services import store
    from services.lookup import orders
    from services.sources.shipbob.client import fetch_inventory_for_skus  # connectors are optional here

    with ctx.engine.connect() as conn:
        order_id = orders.find_order_id(conn, ctx.args.name)
        found = store.load_store_orders(conn, [order_id]) if order_id is not None else {}
    if not found:
        return None
    skus = sorted({li.sku for order in found.values() for li in order.line_items if li.sku})
    return fetch_inventory_for_skus(ctx.settings, skus)


def cmd_metrics(ctx: Context) -> int:
    from services import sla
    from services.cli.system import system_actor

    start, end = parse_day(ctx.args.date_from, "--from"), parse_day(ctx.args.date_to, "--to")
    if start > end:
        raise InputError(f"--from {start} is after --to {end}")
    with ctx.engine.connect() as conn:
        metrics = sla.sla_metrics(
            conn, date_from=start, date_to=end, as_of=ctx.as_of, policy=ctx.policy, actor=system_actor()
        )
    payload = metrics.as_dict()
    emit(ctx.args, payload, lambda: format_table([payload], list(payload), ""))
    return 0


def cmd_summarize(ctx: Context) -> int:
    from sqlmodel import Session

    from services.cli.system import system_actor
    from services.lookup import orders
    from services.summaries import summarize, summary_as_json

    with Session(ctx.engine) as session:
        detail = orders.order_detail(
            session.connection(), name=ctx.args.name, as_of=ctx.as_of, policy=ctx.policy
        )
        if detail is None:
            raise NotFoundError(f"order {orders.normalize_name(ctx.args.name)} is not in the store data")
        summary = summarize(detail, session=session, settings=ctx.settings, actor=system_actor())
    payload = summary_as_json(summary)
    emit(ctx.args, payload, lambda: f"{payload['order']} ({payload['engine']})\n{payload['summary']}")
    return 0


COMMANDS: dict[str, Callable[[Context], int]] = {
    "import": cmd_import,
    "queue": cmd_queue,
    "informational": cmd_informational,
    "discrepancies": cmd_discrepancies,
    "check": cmd_check,
    "metrics": cmd_metrics,
    "summarize": cmd_summarize,
}
Extension = Callable[[Any, argparse.ArgumentParser], None]


def _extensions() -> list[Extension]:
    """Commands that live in their own modules (imported lazily: they pull in HTTP clients)."""
    from services.cli.audit import register as register_audit
    from services.cli.fix import register as register_fix
    from services.cli.notify import register as register_notify
    from services.cli.policy import register as register_policy
    from services.cli.sync import register as register_sync
    from services.cli.users import register as register_users
    from services.cli.webhooks import register as register_webhooks

    return [
        register_sync,
        register_notify,
        register_webhooks,
        register_fix,
        register_audit,
        register_users,
        register_policy,
    ]


def build_parser(command: str | None = None) -> argparse.ArgumentParser:
    """The parser; commands in their own modules are loaded only when asked for (or for help)."""
    common = Parser(add_help=False)
    common.add_argument(
        "--config",
        default=argparse.SUPPRESS,
        help="SLA policy TOML (default: ORDER_RECON_CONFIG or the packaged policy)",
    )
    timed = Parser(add_help=False)
    timed.add_argument("--as-of", dest="as_of", default=None, help="ISO time to evaluate at (default: now)")
    timed.add_argument("--json", action="store_true", help="print JSON")
    parser = Parser(prog="order-recon", description="Reconcile store, 3PL and carrier data.")
    parser.add_argument("--config", default=None, help=argparse.SUPPRESS)
    sub = parser.add_subparsers(dest="command", required=True, parser_class=Parser)
    p = sub.add_parser("import", parents=[common], help="import a snapshot directory")
    p.add_argument("directory")
    p = sub.add_parser("queue", parents=[common, timed], help="the overdue queue")
    p.add_argument("--has-fix", action="store_true", help="only orders with a discrepancy a guided fix mends")
    sub.add_parser("informational", parents=[common, timed], help="orders kept out of the queue, with why")
    p = sub.add_parser("discrepancies", parents=[common, timed], help="differences between the systems")
    p.add_argument("--has-fix", action="store_true", help="only the discrepancies a guided fix mends")
    p = sub.add_parser("check", parents=[common, timed], help="validation checks before a replacement")
    p.add_argument("name")
    p = sub.add_parser("metrics", parents=[common, timed], help="SLA metrics for a period of due days")
    p.add_argument("--from", dest="date_from", required=True)
    p.add_argument("--to", dest="date_to", required=True)
    p = sub.add_parser("summarize", parents=[common, timed], help="plain-language summary of one order")
    p.add_argument("name")
    if command is None or command not in COMMANDS:
        for extend in _extensions():
            extend(sub, common)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    if argv[:1] == ["sandbox"]:  # the simulator has its own parser and runs in the foreground
        from sandbox.cli import main as sandbox_main

        return sandbox_main(argv[1:])
    try:
        args = build_parser(argv[0] if argv else None).parse_args(argv)
        handler = getattr(args, "handler", None) or COMMANDS[args.command]
        return handler(Context(args))
    except (InputError, NotFoundError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except OrderReconError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    except ArgumentError as exc:  # a malformed DATABASE_URL: bad input
        print(f"error: database: {str(exc).splitlines()[0]}", file=sys.stderr)
        return 2
    except DBAPIError as exc:  # locked, read-only, deadlocked, unreachable: not the user's input
        print(f"error: {as_database_error(exc)}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:  # `order-recon queue | head` is fine
        sys.stderr.close()
        return 0
