"""The webhook receiver, an ASGI app (Starlette): `POST /webhooks/{shopify,shipbob,easypost}`, `GET /healthz`.

For each delivery, in this order:
1. the body is read up to 1 MB (more: 413, nothing stored);
2. the signature is checked on the raw bytes (missing or wrong: 401, nothing stored);
3. the body is decoded strictly and its topic and event id read (unusable: 400, nothing stored);
4. the event is stored, unique by (source, event id), so a redelivery is stored once;
5. the reply is 200 (`{"stored": true}`, or false for a redelivery), and the applier is woken.
Applying happens after the reply, in `services.webhooks.worker.Applier` in this process.
"""

from __future__ import annotations

import logging
import time
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from typing import Any

from sqlalchemy.engine import Engine
from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from checks.policy import SlaPolicy
from services.settings import Settings
from services.webhooks import signatures
from services.webhooks.deliveries import SOURCES, DeliveryError, IgnoredDelivery, read_delivery
from services.webhooks.events import store_event
from services.webhooks.worker import Applier

log = logging.getLogger("order_recon.webhooks")
MAX_BODY = 1024 * 1024


class BodyTooLarge(Exception):
    pass


async def _read_body(request: Request) -> bytes:
    declared = request.headers.get("content-length")
    if declared is not None and declared.isdigit() and int(declared) > MAX_BODY:
        raise BodyTooLarge
    chunks, size = [], 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > MAX_BODY:
            raise BodyTooLarge
        chunks.append(chunk)
    return b"".join(chunks)


def create_app(
    engine: Engine,
    settings: Settings,
    policy: SlaPolicy,
    *,
    clock: Callable[[], datetime] | None = None,
    apply: bool = True,
    poll_s: float = 1.0,
) -> Starlette:
    """The receiver. `settings.webhook_secrets()` is read now: a missing secret is a ConfigurationError.
    With `apply=False` events are only stored (the applier does not run)."""
    secrets = settings.webhook_secrets()
    now = clock or (lambda: datetime.now(UTC))
    applier = Applier(engine, settings, policy, poll_s=poll_s, clock=now) if apply else None

    def verify(source: str, body: bytes, headers: Any) -> None:
        if source == "shopify":
            signatures.verify_shopify(secrets["shopify"], body, headers)
        elif source == "shipbob":
            signatures.verify_shipbob(secrets["shipbob"], body, headers, now=time.time())
        else:
            signatures.verify_easypost(secrets["easypost"], body, headers)

    async def receive(request: Request) -> Response:
        source = request.path_params["source"]
        if source not in SOURCES:
            return JSONResponse({"error": "unknown source"}, status_code=404)
        try:
            body = await _read_body(request)
        except BodyTooLarge:
            log.warning("webhook %s refused: body over %d bytes", source, MAX_BODY)
            return JSONResponse({"error": "body too large"}, status_code=413)
        try:
            verify(source, body, request.headers)
        except signatures.SignatureError as exc:
            log.warning("webhook %s refused: %s", source, exc)
            return JSONResponse({"error": "signature"}, status_code=401)
        received_at = now()
        try:
            delivery = read_delivery(source, request.headers, body, received_at=received_at)
        except IgnoredDelivery as exc:
            log.info("webhook %s ignored: %s", source, exc)
            return JSONResponse({"stored": False, "ignored": str(exc)[:300]})
        except DeliveryError as exc:
            log.warning("webhook %s refused: %s", source, exc)
            return JSONResponse({"error": str(exc)[:300]}, status_code=400)
        row_id = await run_in_threadpool(store_event, engine, delivery, body, now=received_at)
        if applier is not None and row_id is not None:
            applier.wake()
        return JSONResponse({"stored": row_id is not None, "event_id": delivery.event_id})

    async def healthz(request: Request) -> Response:
        return JSONResponse({"ok": True})

    @asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        if applier is not None:
            applier.start()
        try:
            yield
        finally:
            if applier is not None:
                await applier.stop()

    return Starlette(
        routes=[
            Route("/webhooks/{source}", receive, methods=["POST"]),
            Route("/healthz", healthz, methods=["GET"]),
        ],
        lifespan=lifespan,
    )
