"""`order-recon webhooks`: run the receiver, or register its URL with the three services.

    order-recon webhooks serve [--host 127.0.0.1] [--port 8788]
    order-recon webhooks subscribe --url https://public-host/webhooks

`serve` needs SHOPIFY_WEBHOOK_SECRET, SHIPBOB_WEBHOOK_SECRET and EASYPOST_WEBHOOK_SECRET (a missing one
is named, exit 2). `subscribe` registers `<url>/shopify`, `<url>/shipbob` and `<url>/easypost`; running
it again changes nothing.
"""

from __future__ import annotations

import argparse
import sys
from typing import TYPE_CHECKING, Any

from services.errors import InputError

if TYPE_CHECKING:
    from services.cli.context import Context


def register(sub: Any, common: argparse.ArgumentParser) -> None:
    """Add the `webhooks` command group to the `order-recon` subparsers."""
    parser = sub.add_parser("webhooks", parents=[common], help="receive webhooks, or subscribe to them")
    group = parser.add_subparsers(dest="webhooks_command", required=True, parser_class=type(parser))
    serve = group.add_parser("serve", parents=[common], help="run the webhook receiver")
    serve.add_argument("--host", default="127.0.0.1")
    serve.add_argument("--port", type=int, default=8788)
    serve.set_defaults(handler=cmd_serve)
    subscribe = group.add_parser("subscribe", parents=[common], help="register the receiver's URL")
    subscribe.add_argument("--url", required=True, help="the public base URL, e.g. https://host/webhooks")
    subscribe.set_defaults(handler=cmd_subscribe)


def cmd_serve(ctx: Context) -> int:
    import uvicorn

    from services.webhooks.app import create_app

    ctx.settings.webhook_secrets()  # before anything else: a missing secret is named, exit 2
    if not 0 <= ctx.args.port <= 65535:
        raise InputError(f"--port {ctx.args.port} is not a port")
    app = create_app(ctx.engine, ctx.settings, ctx.policy)
    print(f"webhook receiver on http://{ctx.args.host}:{ctx.args.port}/webhooks/{{shopify,shipbob,easypost}}")
    sys.stdout.flush()
    uvicorn.run(app, host=ctx.args.host, port=ctx.args.port, log_level="warning", access_log=False)
    return 0


def cmd_subscribe(ctx: Context) -> int:
    from services.webhooks.subscribe import subscribe_all

    results = subscribe_all(ctx.settings, ctx.args.url)
    failed = 0
    for result in results:
        print(result.line())
        failed += not result.ok
    return 1 if failed else 0
