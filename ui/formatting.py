"""One way to show times and statuses: store time with its zone, dashes for nothing."""

from __future__ import annotations

import re
from datetime import datetime

from checks.policy import SlaPolicy

NOTHING = "—"


def store_time(moment: datetime | None, policy: SlaPolicy, *, seconds: bool = False) -> str:
    """`2026-07-06 10:00 EDT`: the store's clock, with its zone abbreviation."""
    if moment is None:
        return NOTHING
    return policy.local(moment).strftime("%Y-%m-%d %H:%M:%S %Z" if seconds else "%Y-%m-%d %H:%M %Z")


def ago(moment: datetime | None, now: datetime) -> str:
    """`3 h ago`, `2 d ago`: how old a piece of data is."""
    if moment is None:
        return "never"
    seconds = max(0.0, (now - moment).total_seconds())
    if seconds < 90:
        return "just now"
    if seconds < 90 * 60:
        return f"{seconds / 60:.0f} min ago"
    if seconds < 36 * 3600:
        return f"{seconds / 3600:.0f} h ago"
    return f"{seconds / 86400:.0f} d ago"


def text(value: object) -> str:
    return NOTHING if value is None or value == "" else str(value)


def md(value: object) -> str:
    """A source string for a Markdown element: escaped, so an item title or a scan message cannot load an
    image, draw a link ("session expired, sign in again") or colour text; `—` when empty."""
    from services.summaries import escape_markdown

    return NOTHING if value is None or value == "" else escape_markdown(str(value))


def words(code: object) -> str:
    """A raw code as words: `arrived_at_destination` -> `arrived at destination`; nothing -> a dash."""
    if code is None or code == "" or code == "None":
        return NOTHING
    return str(code).replace("_", " ")


ISO_MOMENT = re.compile(r"\b\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?(?:Z|[+-]\d{2}:\d{2})")


def local_times(sentence: str | None, policy: SlaPolicy) -> str:
    """A stored sentence with every ISO moment in it (`2026-12-06T00:49:38+00:00`) in store time."""
    if not sentence:
        return NOTHING

    def local(match: re.Match[str]) -> str:
        try:
            moment = datetime.fromisoformat(match.group(0).replace("Z", "+00:00"))
        except ValueError:
            return match.group(0)
        return store_time(moment, policy)

    return ISO_MOMENT.sub(local, sentence)
