"""Preset ranges of due days for the SLA page, in the store's calendar."""

from __future__ import annotations

from datetime import date, timedelta

PRESETS = ("Last 7 days", "Last 30 days", "This month", "Last month")


def preset_range(name: str, today: date) -> tuple[date, date]:
    """The (first, last) due day of a preset, ending no later than `today`."""
    if name == "Last 7 days":
        return today - timedelta(days=6), today
    if name == "Last 30 days":
        return today - timedelta(days=29), today
    first_of_month = today.replace(day=1)
    if name == "This month":
        return first_of_month, today
    if name == "Last month":
        last = first_of_month - timedelta(days=1)
        return last.replace(day=1), last
    raise ValueError(f"unknown period preset {name!r}")
