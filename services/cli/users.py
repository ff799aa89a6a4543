"""`order-recon users …`: people who sign in, managed from the shell (the first admin starts here).

    order-recon users add NAME --role ROLE [--display-name TEXT] [--email ADDRESS]
    order-recon users list [--json]
    order-recon users disable NAME | enable NAME
    order-recon users reset-password NAME
    order-recon users set-role NAME ROLE

Passwords come from a prompt (typed twice) or, when stdin is not a terminal, from its first line; never
from an argument, where the shell history and `ps` would keep them. Whoever can run this holds the
database credentials, so it acts as the `system` actor; every change is audited naming the OS user.
"""

from __future__ import annotations

import argparse
import getpass
import json
import sys
from typing import TYPE_CHECKING, Any

from db.session import session_scope
from services import auth
from services.cli.system import system_actor
from services.errors import InputError
from services.permissions import Role

if TYPE_CHECKING:
    from services.cli.context import Context


def register(sub: Any, common: argparse.ArgumentParser) -> None:
    """Add the `users` command and its subcommands to the `order-recon` subparsers."""
    parser = sub.add_parser(
        "users", parents=[common], help="add, list, disable, enable users; reset passwords"
    )
    actions = parser.add_subparsers(dest="users_command", required=True, parser_class=type(parser))
    add = actions.add_parser("add", parents=[common], help="add a user (password from a prompt or stdin)")
    add.add_argument("name")
    add.add_argument("--role", required=True, choices=[r.value for r in Role])
    add.add_argument("--display-name", default=None)
    add.add_argument("--email", default=None)
    add.set_defaults(handler=cmd_add)
    listing = actions.add_parser("list", parents=[common], help="every user with role and state")
    listing.add_argument("--json", action="store_true", help="print JSON")
    listing.set_defaults(handler=cmd_list)
    for name, handler, text in (
        ("disable", cmd_disable, "stop a user from signing in (ends their sessions)"),
        ("enable", cmd_enable, "let a disabled user sign in again"),
        ("reset-password", cmd_reset_password, "set a new password (ends their sessions)"),
    ):
        action = actions.add_parser(name, parents=[common], help=text)
        action.add_argument("name")
        action.set_defaults(handler=handler)
    role = actions.add_parser("set-role", parents=[common], help="change a user's role (ends their sessions)")
    role.add_argument("name")
    role.add_argument("role", choices=[r.value for r in Role])
    role.set_defaults(handler=cmd_set_role)


def read_password(prompt: str = "Password: ") -> str:
    """From the terminal, typed twice; else the first line of stdin (a pipe or a file)."""
    if sys.stdin.isatty():
        first = getpass.getpass(prompt)
        if getpass.getpass("Again: ") != first:
            raise InputError("The two passwords differ.")
        return first
    line = sys.stdin.readline()
    if not line:
        raise InputError("No password on stdin.")
    return line.rstrip("\r\n")


def cmd_add(ctx: Context) -> int:
    password = read_password()
    with session_scope(ctx.engine) as session:
        user = auth.create_user(
            session,
            username=ctx.args.name,
            password=password,
            role=ctx.args.role,
            display_name=ctx.args.display_name,
            email=ctx.args.email,
            actor=system_actor(),
            now=ctx.now,
        )
    print(f"Added {user.username} ({user.role}).")
    return 0


def cmd_list(ctx: Context) -> int:
    with session_scope(ctx.engine) as session:
        users = auth.list_users(session, actor=system_actor())
    rows = [
        {
            "username": u.username,
            "role": str(u.role),
            "display_name": u.display_name,
            "email": u.email,
            "disabled": u.disabled,
        }
        for u in users
    ]
    if ctx.args.json:
        print(json.dumps(rows, indent=2))
        return 0
    if not rows:
        print("No users. Add the first admin: order-recon users add NAME --role admin")
    for row in rows:
        state = "disabled" if row["disabled"] else "active"
        print(f"{row['username']:<24} {row['role']:<6} {state:<8} {row['email'] or ''}")
    return 0


def _set_disabled(ctx: Context, disabled: bool) -> int:
    with session_scope(ctx.engine) as session:
        user = auth.set_disabled(
            session, username=ctx.args.name, disabled=disabled, actor=system_actor(), now=ctx.now
        )
    print(f"{user.username} is {'disabled' if disabled else 'enabled'}.")
    return 0


def cmd_disable(ctx: Context) -> int:
    return _set_disabled(ctx, True)


def cmd_enable(ctx: Context) -> int:
    return _set_disabled(ctx, False)


def cmd_reset_password(ctx: Context) -> int:
    password = read_password("New password: ")
    with session_scope(ctx.engine) as session:
        user = auth.reset_password(
            session, username=ctx.args.name, password=password, actor=system_actor(), now=ctx.now
        )
    print(f"New password set for {user.username}; their sessions have ended.")
    return 0


def cmd_set_role(ctx: Context) -> int:
    with session_scope(ctx.engine) as session:
        user = auth.set_role(
            session, username=ctx.args.name, role=ctx.args.role, actor=system_actor(), now=ctx.now
        )
    print(f"{user.username} is now {user.role}.")
    return 0


__all__ = ["read_password", "register", "system_actor"]
