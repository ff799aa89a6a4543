"""The one function every CSV export passes its cells through (the audit log's included)."""

from __future__ import annotations

from typing import Any

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def neutralise(value: Any) -> Any:
    """A text cell a spreadsheet would run as a formula gets a leading `'`; numbers and None pass.

    Source strings (item titles, a failed sign-in's username) are typed by strangers: `=HYPERLINK(...)`
    must arrive as text.
    """
    if value is None:
        return ""
    if isinstance(value, bool | int | float):
        return value
    text = str(value)
    return "'" + text if text.startswith(FORMULA_STARTS) else text
