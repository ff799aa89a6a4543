"""EasyPost connector: trackers (paged newest first with `before_id` / `has_more`), by id, by tracking code;
webhook subscriptions (`GET`/`POST /v2/webhooks`).

Calls are flows (see `services.sources.http`), shared by `EasyPostClient` and `AsyncEasyPostClient`.
EasyPost authenticates with HTTP basic auth: the API key as the user name, no password.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from checks.model import Tracker
from services.settings import Settings
from services.sources.easypost.parse import parse_tracker
from services.sources.http import AsyncSourceClient, Call, Flow, Reply, SourceClient, SourceConfig
from services.sources.json_fields import field, items, parsed, text

SOURCE = "easypost"
PAGE_SIZE = 100  # EasyPost's maximum


def config(settings: Settings, **overrides: Any) -> SourceConfig:
    api_url, key = settings.source_credentials(SOURCE)
    assert api_url and key
    return SourceConfig(
        source=SOURCE,
        base_url=api_url,
        url_setting="EASYPOST_API_URL",
        secret_setting="EASYPOST_API_KEY",
        basic_auth=(key, ""),
        timeout_s=settings.source_timeout_s,
        retry_after_header="Retry-After",
        **overrides,
    )


@dataclass(frozen=True)
class TrackerPage:
    trackers: list[Tracker]
    has_more: bool

    @property
    def last_id(self) -> str | None:
        """The `before_id` of the next (older) page."""
        return self.trackers[-1].id if self.trackers else None


def _trackers(reply: Reply) -> list[Tracker]:
    return parsed(items(reply.body, "trackers", optional=False), parse_tracker, path="trackers")


def _page(reply: Reply) -> TrackerPage:
    return TrackerPage(_trackers(reply), bool(field(reply.body, "has_more", bool, optional=True)))


def _iso(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def trackers_page_call(
    *,
    before_id: str | None = None,
    start_datetime: datetime | None = None,
    tracking_code: str | None = None,
    page_size: int = PAGE_SIZE,
) -> Call[TrackerPage]:
    params: dict[str, Any] = {"page_size": page_size}
    if before_id:
        params["before_id"] = before_id
    if start_datetime is not None:
        params["start_datetime"] = _iso(start_datetime)
    if tracking_code:
        params["tracking_code"] = tracking_code
    return Call("GET /v2/trackers", "v2/trackers", _page, params=params)


def _one(reply: Reply) -> Tracker | None:
    return None if reply.status == 404 else parse_tracker(reply.body)


def tracker_call(tracker_id: str) -> Call[Tracker | None]:
    return Call("GET /v2/trackers/{id}", f"v2/trackers/{tracker_id}", _one, accept=frozenset({404}))


def tracker_by_code_flow(tracking_code: str) -> Flow[Tracker | None]:
    """The newest tracker for `tracking_code`, or None."""
    page: TrackerPage = yield trackers_page_call(tracking_code=tracking_code, page_size=5)
    matches = [t for t in page.trackers if t.tracking_code == tracking_code]
    return max(matches, key=lambda t: (t.created_at is not None, t.created_at, t.id)) if matches else None


@dataclass(frozen=True)
class WebhookSubscription:
    """A webhook registered at EasyPost; `created` is False when it was there already."""

    id: str
    url: str
    created: bool


def _webhooks(reply: Reply) -> list[tuple[str, str, bool]]:
    """(id, url, disabled) of each registered webhook."""
    out = []
    for i, raw in enumerate(items(reply.body, "webhooks", optional=False)):
        path = f"webhooks[{i}]."
        hook_id, url = text(raw, "id", path=path), text(raw, "url", path=path)
        assert hook_id is not None and url is not None
        out.append((hook_id, url, field(raw, "disabled_at", str, path=path, optional=True) is not None))
    return out


def _created(reply: Reply) -> str:
    hook_id = text(reply.body, "id")
    assert hook_id is not None
    return hook_id


def subscribe_webhooks_flow(url: str, secret: str | None) -> Flow[WebhookSubscription]:
    """Register `url` unless an enabled webhook already has it (EasyPost sends every event to every
    webhook: there are no topics to choose). The secret signs the deliveries (`X-Hmac-Signature`)."""
    existing = yield Call("GET /v2/webhooks", "v2/webhooks", _webhooks)
    for hook_id, hook_url, disabled in existing:
        if hook_url == url and not disabled:
            return WebhookSubscription(hook_id, url, created=False)
    body: dict[str, Any] = {"url": url}
    if secret:
        body["webhook_secret"] = secret
    hook_id = yield Call(
        "POST /v2/webhooks", "v2/webhooks", _created, method="POST", json_body={"webhook": body}
    )
    return WebhookSubscription(hook_id, url, created=True)


class EasyPostClient(SourceClient):
    """Blocking EasyPost client (sync engine)."""

    configure = staticmethod(config)

    def tracker_pages(
        self,
        *,
        start_datetime: datetime | None = None,
        before_id: str | None = None,
        page_size: int = PAGE_SIZE,
    ) -> Iterator[TrackerPage]:
        """Trackers created at or after `start_datetime`, newest first, page by page (`before_id`)."""
        while True:
            page = self.call(
                trackers_page_call(before_id=before_id, start_datetime=start_datetime, page_size=page_size)
            )
            yield page
            if not page.has_more or page.last_id is None:
                return
            before_id = page.last_id

    def tracker(self, tracker_id: str) -> Tracker | None:
        return self.call(tracker_call(tracker_id))

    def tracker_by_code(self, tracking_code: str) -> Tracker | None:
        return self.run(tracker_by_code_flow(tracking_code))

    def subscribe_webhooks(
        self, url: str, topics: Sequence[str] = (), *, secret: str | None = None
    ) -> WebhookSubscription:
        """Make sure EasyPost sends its events to `url` (idempotent). `topics` is accepted for the
        connectors' common signature; EasyPost has none (the receiver keeps the `tracker.*` events)."""
        return self.run(subscribe_webhooks_flow(url, secret))


class AsyncEasyPostClient(AsyncSourceClient):
    """Async EasyPost client (per-order refresh)."""

    configure = staticmethod(config)

    async def tracker(self, tracker_id: str) -> Tracker | None:
        return await self.call(tracker_call(tracker_id))

    async def tracker_by_code(self, tracking_code: str) -> Tracker | None:
        return await self.run(tracker_by_code_flow(tracking_code))


__all__ = [
    "AsyncEasyPostClient",
    "EasyPostClient",
    "TrackerPage",
    "WebhookSubscription",
    "config",
    "tracker_by_code_flow",
    "tracker_call",
    "trackers_page_call",
]
