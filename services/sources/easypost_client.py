"""EasyPost connector: trackers (paged newest first with `before_id` / `has_more`), by id, by tracking code.

Calls are flows (see `services.sources.http`), shared by `EasyPostClient` and `AsyncEasyPostClient`.
EasyPost authenticates with HTTP basic auth: the API key as the user name, no password.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from checks.model import Tracker
from services.settings import Settings
from services.sources.easypost import parse_tracker
from services.sources.fields import RecordError, field, items
from services.sources.http import AsyncSourceClient, Call, Flow, Reply, SourceClient, SourceConfig

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
    out = []
    for i, raw in enumerate(items(reply.body, "trackers", optional=False)):
        try:
            out.append(parse_tracker(raw))
        except RecordError as exc:
            raise RecordError(f"trackers[{i}].{exc.field}", exc.problem) from None
    return out


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
    "config",
    "tracker_by_code_flow",
    "tracker_call",
    "trackers_page_call",
]
