"""`order-recon policy apply`: bring the stored classifications in step with the SLA policy.

    order-recon policy apply [--config sla.toml]

After a change to the policy file (or an upgrade whose rules store something new) every order is
reclassified once, in one transaction, and the change is written to the audit log by the `system` actor.
The console refuses to show orders classified under another policy until this has run; `make run` and
every other command run it first too.
"""

from __future__ import annotations

import argparse
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from services.cli.context import Context


def register(sub: Any, common: argparse.ArgumentParser) -> None:
    """Add the `policy` command group to the `order-recon` subparsers."""
    parser = sub.add_parser("policy", parents=[common], help="the SLA policy the stored orders follow")
    group = parser.add_subparsers(dest="policy_command", required=True, parser_class=type(parser))
    apply = group.add_parser(
        "apply", parents=[common], help="reclassify every order under the current policy"
    )
    apply.set_defaults(handler=cmd_apply)


def cmd_apply(ctx: Context) -> int:
    ctx.engine  # migrating and applying the policy is what opening the database does  # noqa: B018
    if ctx.reclassified:
        print(f"Reclassified {ctx.reclassified} order(s) under the SLA policy {ctx.policy.fingerprint()}.")
    else:
        print(f"The stored orders already follow the SLA policy {ctx.policy.fingerprint()}.")
    return 0
