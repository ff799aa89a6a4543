"""Reading ShipBob API `2026-07` replies: ShipBob's error words, retired paths, the two paging styles.

Orders page by `Page`/`Limit` with a `next-page` header; inventory levels, channels and webhooks by a
`next` link in the body. A path ShipBob does not serve (a retired version such as `1.0` answers 404 or
410) raises `EndpointGone` with ShipBob's own message, at once rather than after retries (a
`SourceProtocolError` would be retried as a malformed reply).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from services.errors import SourceError, SourceProtocolError
from services.sources.http import Call, Flow, Reply
from services.sources.json_fields import items, parsed, text

SOURCE = "shipbob"
VERSION = "2026-07"
GONE = frozenset({404, 410})
_VERSION_SEGMENT = re.compile(r"/(\d{4}-\d{2}|\d+\.\d+)/")


class EndpointGone(SourceError):
    """ShipBob answered 404/410 for a path: a retired API version, an unknown resource or a wrong URL."""


@dataclass(frozen=True)
class Page:
    """One page of a ShipBob listing, parsed, and the next page's URL."""

    records: list[Any]
    next_url: str | None


def vendor_message(body: Any) -> str:
    """ShipBob's words from an error body: `message`, a problem's `title`/`detail`, or field errors."""
    if isinstance(body, dict):
        said = [str(body[k]) for k in ("message", "title", "detail") if isinstance(body.get(k), str)]
        if said:
            return "; ".join(said)
        return "; ".join(
            f"{k}: {' '.join(map(str, v)) if isinstance(v, list) else v}" for k, v in body.items()
        )[:300]
    return str(body)[:300] if body is not None else "no body"


def checked(name: str, parse: Callable[[Reply], Any]) -> Callable[[Reply], Any]:
    """`parse`, after turning a 404/410 into `EndpointGone` (naming a version the connector does not speak)."""

    def read(reply: Reply) -> Any:
        if reply.status in GONE:
            match = _VERSION_SEGMENT.search(reply.url.path)
            version = match.group(1) if match else None
            hint = (
                f"API version {version} is not served (the connector speaks {VERSION})"
                if version and version != VERSION
                else "not found (an unknown id, or check SHIPBOB_API_URL)"
            )
            raise EndpointGone(
                f"{reply.url.path}: {hint}; ShipBob says: {vendor_message(reply.body)}",
                source=SOURCE,
                call=name,
                status=reply.status,
            )
        return parse(reply)

    return read


def call(name: str, path: str, parse: Callable[[Reply], Any], **kwargs: Any) -> Call[Any]:
    """A ShipBob call: 404/410 reach `parse` (through `checked`) instead of the generic not-found error."""
    accept = GONE | kwargs.pop("accept", frozenset())
    return Call(name, path, checked(name, parse), accept=accept, **kwargs)


def shape(reply: Reply, kind: type, what: str) -> Any:
    if not isinstance(reply.body, kind):
        raise SourceProtocolError(
            f"expected {what}, got {type(reply.body).__name__}", source=SOURCE, call=what, status=reply.status
        )
    return reply.body


def link(reply: Reply, href: str | None) -> str | None:
    """A next-page link as an absolute URL: ShipBob gives either one or a path below the API base."""
    if not href:
        return None
    if href.startswith(("http://", "https://")):
        return href
    path = reply.url.path
    match = _VERSION_SEGMENT.search(path)
    base = path[: match.start()] if match else ""
    return str(reply.url.copy_with(raw_path=(base + "/" + href.lstrip("/")).encode()))


def iso(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat(timespec="seconds")


# ---------------------------------------------------------------- body-linked listings


def linked_page(name: str, parse_item: Callable[[Any], Any]) -> Callable[[Reply], Page]:
    def parse(reply: Reply) -> Page:
        body = shape(reply, dict, name)
        return Page(parsed(items(body, "items"), parse_item), link(reply, text(body, "next", optional=True)))

    return parse


def all_pages(first: Call[Page], name: str, parse_item: Callable[[Any], Any]) -> Flow[list[Any]]:
    page: Page = yield first
    records = list(page.records)
    while page.next_url:
        page = yield call(f"{name} (next page)", page.next_url, linked_page(name, parse_item))
        records += page.records
    return records


def listing(path: str, parse_item: Callable[[Any], Any], params: dict[str, Any]) -> Flow[list[Any]]:
    name = f"GET /{path}"
    return all_pages(call(name, path, linked_page(name, parse_item), params=params), name, parse_item)


__all__ = [
    "GONE",
    "SOURCE",
    "VERSION",
    "EndpointGone",
    "Page",
    "call",
    "iso",
    "link",
    "listing",
    "shape",
    "vendor_message",
]
