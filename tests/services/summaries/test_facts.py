"""The facts document: what each system says, in a stable shape, and a fingerprint for the cache."""

from __future__ import annotations

import dataclasses
import json
from datetime import datetime, timedelta

from services.summaries.facts import build_facts
from tests.services.summaries.factories import (
    all_scenarios,
    at,
    cancelled_but_shipped,
    overdue_missing_at_3pl,
    sync_delay_mismatch_stalled,
)

TOP_LEVEL_KEYS = [
    "facts_version",
    "order",
    "store_timezone",
    "category",
    "store",
    "3pl",
    "carrier",
    "discrepancies",
    "checks",
    "replacement_blocked_by",
    "timeline",
    "notes",
    "as_of",
]


def test_document_has_a_stable_shape_and_is_json() -> None:
    for detail in all_scenarios():
        document = build_facts(detail).document
        assert list(document) == TOP_LEVEL_KEYS
        assert list(document["as_of"]) == ["evaluated_at", "store", "3pl", "carrier"]
        assert json.loads(json.dumps(document)) == document


def test_category_reason_deadline_and_findings_come_from_the_detail() -> None:
    detail = overdue_missing_at_3pl()
    document = build_facts(detail).document
    assert document["category"]["name"] == "overdue"
    assert document["category"]["reason"] == detail.classification.reason
    assert document["category"]["due_at"] == "2026-07-02T23:59:59-04:00"
    assert document["discrepancies"] == [{"code": "missing_at_3pl", "detail": detail.discrepancies[0].detail}]
    assert document["replacement_blocked_by"] == ["order.shipped"]
    assert {"code": "order.shipped", "level": "blocked", "message": detail.checks[3].message} in document[
        "checks"
    ]
    assert [i["open_quantity"] for i in document["store"]["items"]] == [2, 1]
    assert document["3pl"]["order"] is None


def test_each_system_is_described() -> None:
    document = build_facts(cancelled_but_shipped()).document
    assert document["store"]["financial_status"] == "refunded"
    assert document["store"]["cancelled_at"] == "2026-07-01T15:30:00-04:00"
    assert document["3pl"]["order"]["status"] == "Completed"
    assert document["3pl"]["order"]["warehouses"] == ["Cicero (IL)"]
    assert document["3pl"]["order"]["shipments"][0]["shipped_at"] == "2026-07-01T17:10:00-04:00"
    tracker = document["carrier"][0]
    assert tracker["status"] == "return_to_sender"
    assert tracker["latest_scans"][0]["at"] == "2026-07-05T09:12:00-04:00"  # newest first
    assert document["as_of"]["carrier"] == "2026-07-06T11:53:00-04:00"


def test_timeline_is_sorted_across_systems() -> None:
    timeline = build_facts(sync_delay_mismatch_stalled()).document["timeline"]
    moments = [datetime.fromisoformat(e["at"]) for e in timeline]
    assert moments == sorted(moments)
    assert {e["system"] for e in timeline} == {"store", "3pl", "carrier"}
    assert timeline[0] == {"at": "2026-07-01T10:00:00-04:00", "system": "store", "event": "order placed"}


def test_people_typed_text_is_kept_apart_as_notes() -> None:
    document = build_facts(cancelled_but_shipped()).document
    assert [n["source"] for n in document["notes"]] == ["refund 8800010431 note"]
    assert "note" not in json.dumps(document["store"]["refunds"])


def test_fingerprint_is_stable_and_follows_the_facts() -> None:
    first, again = build_facts(sync_delay_mismatch_stalled()), build_facts(sync_delay_mismatch_stalled())
    assert first.fingerprint == again.fingerprint
    assert len(first.fingerprint) == 64
    assert build_facts(sync_delay_mismatch_stalled(extra_scan=True)).fingerprint != first.fingerprint


def test_fingerprint_ignores_when_the_data_was_read() -> None:
    detail = cancelled_but_shipped()
    later: dict[str, datetime | None] = {k: at("2026-07-06 12:30") for k in ("store", "3pl", "carrier")}
    reread = dataclasses.replace(detail, sources_as_of=later, as_of=detail.as_of + timedelta(minutes=30))
    assert build_facts(reread).document["as_of"] != build_facts(detail).document["as_of"]
    assert build_facts(reread).fingerprint == build_facts(detail).fingerprint
