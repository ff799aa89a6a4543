"""The rule-based summary: complete, labelled, fast."""

from __future__ import annotations

import time

from services.summaries import bench_fallback
from services.summaries.completion import completion_lines
from services.summaries.facts import build_facts
from services.summaries.fallback import fallback_text
from services.summaries.redact import redact_facts
from tests.services.summaries.factories import all_scenarios, cancelled_but_shipped, overdue_missing_at_3pl


def test_fallback_mentions_every_discrepancy_and_blocked_check() -> None:
    for detail in all_scenarios():
        document = build_facts(detail).document
        text = fallback_text(document, "no AI model configured")
        assert text.startswith("Rule-based summary (AI summary unavailable: no AI model configured).")
        assert completion_lines(text, document) == []
        for blocked in document["replacement_blocked_by"]:
            assert blocked in text


def test_fallback_says_status_fulfillment_and_shipping() -> None:
    text = fallback_text(build_facts(cancelled_but_shipped()).document, "timed out")
    assert "Order #1043 is cancelled" in text
    assert "Store: payment refunded" in text
    assert "3PL: order 910431 Completed at Cicero (IL)" in text
    assert "Carrier: USPS 9400111899223344556677 return_to_sender (refused)" in text
    overdue = fallback_text(build_facts(overdue_missing_at_3pl()).document, "x")
    assert "It was due by Thu Jul 02 2026 23:59 EDT." in overdue  # store time, as the page shows it
    assert "3PL: no matching order at the warehouse." in overdue


def test_fallback_is_fast_for_a_typical_order() -> None:
    detail = cancelled_but_shipped()
    started = time.perf_counter()
    fallback_text(redact_facts(build_facts(detail), detail.view.store).document, "x")
    assert time.perf_counter() - started < 0.5  # a test, not a benchmark: the budget is 50 ms


def test_bench_fallback_reports_milliseconds() -> None:
    timings = bench_fallback(cancelled_but_shipped(), repeat=20)
    assert set(timings) == {"runs", "mean_ms", "p95_ms", "max_ms"}
    assert 0 < timings["mean_ms"] < 500
