"""SPEC §9 stage ends: the 3PL hand-over and the first carrier scan of an order."""

from __future__ import annotations

from checks.shipping import first_scan_at, handed_over_at
from tests.checks.factories import at, replacement_order, tracker, tracking_event, view, warehouse_order


def test_the_hand_over_is_the_matched_3pl_orders_creation() -> None:
    assert handed_over_at(view()) is None
    original = warehouse_order(created_date=at("2026-07-01T14:05:00Z"))
    later = replacement_order(created_date=at("2026-07-01T09:00:00Z"))
    assert handed_over_at(view(warehouse=original, replacements=(later,))) == at("2026-07-01T14:05:00Z")


def test_a_label_created_is_not_a_scan() -> None:
    label = tracking_event(datetime=at("2026-07-01T20:00:00Z"), status="pre_transit")
    scan = tracking_event(datetime=at("2026-07-02T08:00:00Z"), status="in_transit")
    later = tracking_event(datetime=at("2026-07-03T08:00:00Z"), status="delivered")
    assert tracker(events=(later, label, scan)).first_scan_at == at("2026-07-02T08:00:00Z")
    assert tracker(events=(label,)).first_scan_at is None
    # A detail without a status is still a scan of the carrier's.
    assert tracker(events=(tracking_event(status=None), label)).first_scan_at == at("2026-07-02T18:00:00Z")


def test_a_tracker_read_without_its_scans_has_the_stored_first_scan() -> None:
    stored = at("2026-07-02T08:00:00Z")
    assert tracker(events=(), first_scanned_at=stored).first_scan_at == stored
    assert tracker(events=()).first_scan_at is None


def test_the_orders_first_scan_is_the_oldest_of_its_trackers() -> None:
    one = tracker(id="a", events=(tracking_event(datetime=at("2026-07-03T08:00:00Z")),))
    two = tracker(id="b", events=(tracking_event(datetime=at("2026-07-02T08:00:00Z")),))
    unscanned = tracker(id="c", events=(tracking_event(status="pre_transit"),))
    assert first_scan_at(view(trackers=(one, two, unscanned))) == at("2026-07-02T08:00:00Z")
    assert first_scan_at(view(trackers=(unscanned,))) is None
    assert first_scan_at(view()) is None
