"""EasyPost `Tracker` → `checks.model.Tracker`."""

from __future__ import annotations

from typing import Any

from checks.model import Tracker, TrackingEvent
from services.sources.json_fields import field, items, text, timestamp


def place_name(city: Any, state: Any, country: Any) -> str | None:
    """Where a scan happened, as shown: the parts that are set, comma-separated."""
    return ", ".join(str(v) for v in (city, state, country) if v) or None


def parse_tracker(raw: Any) -> Tracker:
    tracker_id = text(raw, "id", max_length=64)
    code = text(raw, "tracking_code", max_length=128)
    status = text(raw, "status")
    assert tracker_id is not None and code is not None and status is not None
    events = []
    for i, detail in enumerate(items(raw, "tracking_details")):
        path = f"tracking_details[{i}]."
        moment = timestamp(detail, "datetime", path=path)
        assert moment is not None
        location = field(detail, "tracking_location", dict, path=path, optional=True) or {}
        place = place_name(location.get("city"), location.get("state"), location.get("country"))
        events.append(
            TrackingEvent(
                datetime=moment,
                status=text(detail, "status", path=path, optional=True),
                message=text(detail, "message", path=path, optional=True),
                status_detail=text(detail, "status_detail", path=path, optional=True),
                location=place,
            )
        )
    return Tracker(
        id=tracker_id,
        tracking_code=code,
        status=status,
        status_detail=text(raw, "status_detail", optional=True),
        carrier=text(raw, "carrier", optional=True),
        created_at=timestamp(raw, "created_at", optional=True),
        updated_at=timestamp(raw, "updated_at", optional=True),
        events=tuple(events),
        public_url=text(raw, "public_url", optional=True),
    )
