"""A digest as data: the oldest items in full, grouped by owner, and a count of the rest (SPEC §9).

Rendering for Slack and email lives in `services.notify.render`; this module decides what is in it.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from urllib.parse import quote

from services.notify.items import OVERDUE, Item

CAP = 50  # items shown in full; the rest are counted, with a link to the queue
UNASSIGNED = "unassigned"
KIND_LABELS = {OVERDUE: "overdue"}


@dataclass(frozen=True)
class Line:
    """One item as shown: the order, what is wrong, when it was due, and its lookup link."""

    kind: str
    order: str
    due: str  # the due day (store date), e.g. "Fri Nov 20", or "" when unknown
    detail: str
    link: str

    def as_dict(self) -> dict[str, str]:
        return {
            "kind": self.kind,
            "order": self.order,
            "due": self.due,
            "detail": self.detail,
            "link": self.link,
        }


@dataclass(frozen=True)
class Digest:
    channel: str
    as_of: datetime
    total: int
    groups: tuple[tuple[str, tuple[Line, ...]], ...]  # (owner, lines), owners in order of their oldest item
    more: int  # items counted but not shown
    queue_link: str

    breaches: int = 0  # of `total`, the orders that entered the overdue queue; the rest are discrepancies

    @property
    def subject(self) -> str:
        parts = []
        if self.breaches:
            parts.append(f"{self.breaches} new breach{'es' if self.breaches != 1 else ''}")
        found = self.total - self.breaches
        if found:
            parts.append(f"{found} new discrepanc{'ies' if found != 1 else 'y'}")
        return "order-recon: " + " and ".join(parts or ["nothing new"])

    def as_dict(self) -> dict[str, Any]:
        return {
            "channel": self.channel,
            "as_of": self.as_of.isoformat(),
            "total": self.total,
            "breaches": self.breaches,
            "groups": [{"owner": o, "items": [line.as_dict() for line in lines]} for o, lines in self.groups],
            "more": self.more,
            "queue_link": self.queue_link,
        }


def lookup_link(console_url: str, order: str) -> str:
    return f"{console_url.rstrip('/')}/lookup?order={quote(order)}"


def queue_link(console_url: str) -> str:
    return f"{console_url.rstrip('/')}/overdue"


def build_digest(
    channel: str,
    items: Sequence[Item],
    *,
    owners: dict[int, str],
    as_of: datetime,
    console_url: str,
    cap: int = CAP,
) -> Digest:
    """The digest of `items` (already oldest first): the first `cap` grouped by owner, the rest counted."""
    shown = list(items[:cap])
    groups: dict[str, list[Line]] = {}
    for item in shown:
        due = f"{item.due_day:%a %b %d}" if item.due_day is not None else ""
        line = Line(
            kind=KIND_LABELS.get(item.kind, item.kind.replace("_", " ")),
            order=item.order,
            due=due,
            detail=item.detail,
            link=lookup_link(console_url, item.order),
        )
        groups.setdefault(owners.get(item.order_id, UNASSIGNED), []).append(line)
    return Digest(
        channel=channel,
        as_of=as_of,
        total=len(items),
        groups=tuple((owner, tuple(lines)) for owner, lines in groups.items()),
        more=len(items) - len(shown),
        queue_link=queue_link(console_url),
        breaches=sum(item.kind == OVERDUE for item in items),
    )
