"""ShipBob API `2026-07` webhook subscriptions: which topics the console follows and an idempotent
subscribe (list first, create only what is missing)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import Any

from services.errors import SourceProtocolError
from services.sources.http import Flow, Reply
from services.sources.json_fields import items, text
from services.sources.shipbob.replies import SOURCE, VERSION, call, listing, shape, vendor_message

WEBHOOKS = f"{VERSION}/webhook"
# ShipBob's 2026-07 topic names for the events the console follows (shipped, delivered, exception,
# on hold, cancelled).
DEFAULT_TOPICS = (
    "order.shipped",
    "order.shipment.delivered",
    "order.shipment.exception",
    "order.shipment.on_hold",
    "order.shipment.cancelled",
)


@dataclass(frozen=True)
class WebhookSubscription:
    id: str
    url: str
    topics: tuple[str, ...]
    created: bool = False  # made by this call (False: it already existed)


def _subscription(raw: Any) -> WebhookSubscription:
    return WebhookSubscription(
        id=text(raw, "id") or "",
        url=text(raw, "url") or "",
        topics=tuple(str(t) for t in items(raw, "topics")),
    )


def subscribe_flow(
    url: str, topics: Sequence[str], secret: str | None, description: str
) -> Flow[list[WebhookSubscription]]:
    """Idempotent: the subscriptions already at `url` are kept, and one subscription is created only
    for the topics none of them covers."""
    existing = yield from listing(WEBHOOKS, _subscription, {"RecordsPerPage": 100})
    mine = [s for s in existing if s.url == url]
    missing = [t for t in dict.fromkeys(topics) if not any(t in s.topics for s in mine)]
    if not missing:
        return mine
    body: dict[str, Any] = {"url": url, "topics": missing, "description": description}
    if secret:
        body["secret"] = secret
    name = f"POST /{WEBHOOKS}"

    def parse(reply: Reply) -> WebhookSubscription:
        if reply.status == 422:
            raise SourceProtocolError(
                f"subscription refused: {vendor_message(reply.body)}", source=SOURCE, call=name, status=422
            )
        return replace(_subscription(shape(reply, dict, name)), created=True)

    created = yield call(name, WEBHOOKS, parse, method="POST", json_body=body, accept=frozenset({422}))
    return [*mine, created]


__all__ = ["DEFAULT_TOPICS", "WEBHOOKS", "WebhookSubscription", "subscribe_flow"]
