"""Shopify webhook subscriptions over the GraphQL Admin API `2026-10`, idempotent.

`subscribe_flow` lists the app's `webhookSubscriptions` and creates with `webhookSubscriptionCreate`
only the topics not already sent to the callback URL; a refused one raises with the store's
`userErrors`.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from services.sources.http import Call, Flow, Reply
from services.sources.json_fields import field, items
from services.sources.shopify.queries import WEBHOOK_CREATE_MUTATION, WEBHOOKS_QUERY, data_of, payload_of

ENDPOINT = "graphql.json"
GRAPHQL_STATUSES = frozenset({404, 410})
WEBHOOKS_CALL = "POST graphql.json (webhookSubscriptions)"
WEBHOOK_CREATE_CALL = "POST graphql.json (webhookSubscriptionCreate)"
# Issue 14 item 4: the topics the webhook receiver handles.
WEBHOOK_TOPICS = (
    "orders/create",
    "orders/updated",
    "orders/cancelled",
    "orders/fulfilled",
    "orders/partially_fulfilled",
    "fulfillments/create",
    "fulfillments/update",
    "refunds/create",
    "fulfillment_orders/placed_on_hold",
    "fulfillment_orders/hold_released",
)


def topic_enum(topic: str) -> str:
    """`orders/create` → `ORDERS_CREATE` (the GraphQL `WebhookSubscriptionTopic`)."""
    return topic.replace("/", "_").upper()


def _subscriptions(reply: Reply) -> tuple[list[dict[str, Any]], str | None]:
    connection = field(data_of(reply, WEBHOOKS_CALL), "webhookSubscriptions", dict, path="data.")
    found = [n for n in items(connection, "nodes", path="data.webhookSubscriptions.") if isinstance(n, dict)]
    info = field(connection, "pageInfo", dict, optional=True) or {}
    return found, info.get("endCursor") if info.get("hasNextPage") is True else None


def _created(reply: Reply) -> str:
    payload = payload_of(reply, WEBHOOK_CREATE_CALL, "webhookSubscriptionCreate")
    created = field(payload, "webhookSubscription", dict, path="data.webhookSubscriptionCreate.")
    return str(created.get("id"))


def subscribe_flow(callback_url: str, topics: Sequence[str] = WEBHOOK_TOPICS) -> Flow[dict[str, bool]]:
    """Subscribe `callback_url` to each topic not already sent there; {topic: newly created}."""
    existing: set[tuple[str, str]] = set()
    after: str | None = None
    while True:
        found, after = yield Call(
            WEBHOOKS_CALL,
            ENDPOINT,
            _subscriptions,
            method="POST",
            json_body={"query": WEBHOOKS_QUERY, "variables": {"after": after}},
            accept=GRAPHQL_STATUSES,
            read_only=True,
        )
        existing.update((str(n.get("topic")), str(n.get("uri"))) for n in found)
        if after is None:
            break
    out: dict[str, bool] = {}
    for topic in topics:
        enum = topic_enum(topic)
        if (enum, callback_url) in existing:
            out[topic] = False
            continue
        yield Call(
            WEBHOOK_CREATE_CALL,
            ENDPOINT,
            _created,
            method="POST",
            json_body={"query": WEBHOOK_CREATE_MUTATION, "variables": {"topic": enum, "uri": callback_url}},
            accept=GRAPHQL_STATUSES,
        )
        out[topic] = True
    return out


__all__ = ["WEBHOOK_TOPICS", "subscribe_flow", "topic_enum"]
