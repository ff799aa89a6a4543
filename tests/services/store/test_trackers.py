"""Trackers written with their scans as JSON text read back as they came, and a tracker counts as
unchanged exactly when nothing of it, scans included, differs from what is stored."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime

import orjson
from sqlalchemy.engine import Engine

from checks.model import Tracker, TrackingEvent
from services import store
from services.sources.easypost.client import EasyPostClient
from services.store.cursor_io import bulk_select
from tests.services.sources.simulator import simulator


def _trackers() -> tuple[list[Tracker], datetime]:
    with simulator(orders=200) as sim, EasyPostClient(sim.settings()) as client:
        found = [t for page in client.tracker_pages(page_size=100) for t in page.trackers]
        return found, sim.now()


def test_trackers_round_trip_with_their_scans(engine: Engine) -> None:
    trackers, now = _trackers()
    assert any(len(t.events) > 2 for t in trackers)  # scans to carry
    with engine.begin() as conn:
        store.write_trackers(conn, trackers, now)
    with engine.connect() as conn:
        stored = store.load_trackers(conn, [t.id for t in trackers])
        newest = dict(
            bulk_select(conn, store.T_TRACKER, ("id", "last_scan_at"), "id", [t.id for t in trackers])
        )
        oldest = dict(
            bulk_select(conn, store.T_TRACKER, ("id", "first_scan_at"), "id", [t.id for t in trackers])
        )
    assert stored == {t.id: t for t in trackers}
    assert newest == {t.id: t.last_scan_at for t in trackers}
    assert oldest == {t.id: t.first_scan_at for t in trackers}
    assert any(t.first_scan_at for t in trackers)


def test_a_tracker_is_unchanged_only_when_nothing_of_it_differs(engine: Engine) -> None:
    trackers, now = _trackers()
    with engine.begin() as conn:
        store.write_trackers(conn, trackers, now)
    scanned = next(t for t in trackers if t.events)
    first = scanned.events[0]
    changed = {
        "a new scan": replace(scanned, events=(*scanned.events, TrackingEvent(first.datetime, "in_transit"))),
        "a scan's message": replace(
            scanned, events=(replace(first, message=f"{first.message} (again)"), *scanned.events[1:])
        ),
        "its status": replace(scanned, status="failure" if scanned.status != "failure" else "delivered"),
        "not stored": replace(scanned, id="trk_unknown", tracking_code="1ZUNKNOWN"),
    }
    with engine.connect() as conn:
        same = store.unchanged_trackers(conn, [store.as_written(t) for t in trackers])
        assert same == {t.id for t in trackers}
        for what, tracker in changed.items():
            assert store.unchanged_trackers(conn, [store.as_written(tracker)]) == set(), what


def test_a_tracker_as_written_is_the_tracker_without_its_scans_and_their_json() -> None:
    trackers, _ = _trackers()
    for t in trackers:
        written = store.as_written(t)
        assert written.tracker == replace(
            t, events=(), scanned_at=t.last_scan_at, first_scanned_at=t.first_scan_at
        )
        assert written.events_json == orjson.dumps(t.events).decode()
