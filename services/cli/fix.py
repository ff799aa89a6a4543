"""`order-recon fix`: preview or run a guided fix from a runbook (SPEC §8).

    order-recon fix NAME KIND --dry-run [--json]
    order-recon fix NAME KIND --execute --fingerprint F --as USER

KIND is one of cancel-at-3pl, send-to-3pl, fulfill-in-store, push-tracking. `--execute` signs USER in
(the password from a prompt on a terminal, else the first line of stdin): the role comes from the
database and every step is audited as that user. The dry run is audited as the OS user with the agent
role (previewing needs no sign-in; it sends nothing).

Exit codes: 0 success; 2 bad input (unknown order or kind, wrong fingerprint format, failed sign-in);
3 a check blocks (each blocked check's code and message on stderr); 1 a source failed, or the fix was
refused for another reason (stale preview, already reserved, no permission).
"""

from __future__ import annotations

import argparse
import getpass
import json
import re
import sys
from typing import TYPE_CHECKING, Any

from db.session import session_scope
from services.cli.system import system_actor
from services.errors import ActionBlocked, AuthenticationError, InputError
from services.lookup.orders import normalize_name

if TYPE_CHECKING:
    from services.cli.context import Context

KINDS = ("cancel-at-3pl", "send-to-3pl", "fulfill-in-store", "push-tracking")
BLOCKED_EXIT = 3
_FINGERPRINT = re.compile(r"^[0-9a-f]{64}$")


def register(sub: Any, common: argparse.ArgumentParser) -> None:
    """Add the `fix` command to the `order-recon` subparsers."""
    parser = sub.add_parser("fix", parents=[common], help="preview or run a guided fix of one order")
    parser.add_argument("name", metavar="NAME", help="the order, e.g. #1001")
    parser.add_argument("kind", metavar="KIND", choices=KINDS, help=" | ".join(KINDS))
    mode = parser.add_mutually_exclusive_group(required=True)
    mode.add_argument(
        "--dry-run", action="store_true", help="show the checks, the request and its fingerprint"
    )
    mode.add_argument("--execute", action="store_true", help="send the request the dry run showed")
    parser.add_argument("--json", action="store_true", help="with --dry-run: the plan as JSON")
    parser.add_argument("--fingerprint", metavar="F", help="with --execute: the dry run's fingerprint")
    parser.add_argument("--as", dest="as_user", metavar="USER", help="with --execute: who runs it")
    parser.set_defaults(handler=cmd_fix)


def _password(user: str) -> str:
    if sys.stdin.isatty():
        return getpass.getpass(f"password for {user}: ")
    return sys.stdin.readline().rstrip("\r\n")


def _print_plan(plan: Any) -> None:
    print(f"{plan.kind} for {plan.order}: {'ready' if plan.actionable else 'blocked'}")
    for r in plan.checks:
        print(f"  [{r.level.value}] {r.code}: {r.message}")
    if plan.request is not None:
        request = plan.request
        print(f"request: {request.system} {request.method} {request.path}")
        if request.body is not None:
            print(json.dumps(request.body, indent=2, sort_keys=True))
    print(f"fingerprint: {plan.fingerprint}")


def _blocked(plan_or_error: Any) -> int:
    results = plan_or_error.results if isinstance(plan_or_error, ActionBlocked) else plan_or_error.checks
    for r in results:
        if r.level.value == "blocked":
            print(f"blocked: {r.code}: {r.message}", file=sys.stderr)
    return BLOCKED_EXIT


def cmd_fix(ctx: Context) -> int:
    from services import fixes

    args = ctx.args
    fix = fixes.fix_for(args.kind)
    if args.dry_run:
        if args.fingerprint or args.as_user:
            raise InputError("--fingerprint and --as go with --execute, not --dry-run")
        actor = system_actor()  # a preview sends nothing; audited naming the OS user, as other commands
        with session_scope(ctx.engine) as session:
            plan = fixes.dry_run(
                session, ctx.settings, ctx.policy, fix, order=args.name, actor=actor, now=ctx.now
            )
        if args.json:
            print(json.dumps(plan.as_dict(), indent=2, sort_keys=True, default=str))
        else:
            _print_plan(plan)
        return 0 if plan.actionable else _blocked(plan)
    if args.json:
        raise InputError("--json goes with --dry-run")
    if not args.fingerprint or not _FINGERPRINT.match(args.fingerprint):
        raise InputError("--execute needs --fingerprint F: the 64 hex digits the dry run printed")
    if not args.as_user:
        raise InputError("--execute needs --as USER: the console user who runs the fix")
    from services.auth.sign_in import verify_password

    try:
        with session_scope(ctx.engine) as session:
            actor = verify_password(session, args.as_user, _password(args.as_user), ctx.now)
    except AuthenticationError as exc:
        raise InputError(f"sign-in as {args.as_user} refused: {exc}") from None
    try:
        result = fixes.execute(
            ctx.engine,
            ctx.settings,
            ctx.policy,
            fix,
            order=args.name,
            fingerprint=args.fingerprint,
            confirmation=normalize_name(args.name),  # the name typed on the command line
            actor=actor,
        )
    except ActionBlocked as exc:
        return _blocked(exc)
    record, detail = result.record, result.detail
    print(f"{fix.kind} of {record.order_name} done ({record.resolution}) by {record.requested_by}")
    if detail is not None:
        codes = ", ".join(d.code for d in detail.discrepancies) or "none"
        print(f"now: category {detail.category}; discrepancies: {codes}")
    return 0


__all__ = ["BLOCKED_EXIT", "KINDS", "cmd_fix", "register"]
