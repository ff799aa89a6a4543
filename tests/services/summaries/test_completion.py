"""Never silent: every discrepancy and blocked check the text leaves out is appended as "Also: …"."""

from __future__ import annotations

from typing import Any

from services.lookup.detail import OrderDetail
from services.summaries.completion import complete, completion_lines, missing_mentions
from services.summaries.facts import build_facts
from tests.services.summaries.factories import (
    all_scenarios,
    cancelled_but_shipped,
    overdue_missing_at_3pl,
    sync_delay_mismatch_stalled,
)


def _document(detail: OrderDetail | None = None) -> dict[str, Any]:
    return build_facts(detail or sync_delay_mismatch_stalled()).document


def test_mentioned_by_code_or_by_words() -> None:
    document = _document()
    by_code = (
        "Findings: tracking_mismatch, shipped_not_synced and stalled in transit. "
        "Replacement blocked: replacement.exists."
    )
    by_words = (
        "The 3PL shipped but the store has not synced. "
        "The store's tracking number does not match the 3PL's. The parcel has had no scan for nine days. "
        "A replacement already exists, so another one cannot be created."
    )
    assert completion_lines(by_code, document) == []
    assert completion_lines(by_words, document) == []


def test_left_out_discrepancy_gets_an_also_line_in_fixed_wording() -> None:
    document = _document()
    text = (
        "The store has not synced the 3PL's shipment. The parcel is stalled in transit. "
        "A replacement already exists, so it is blocked."
    )
    assert completion_lines(text, document) == [
        "Also: tracking mismatch: Store tracking 1Z999AA10123456784 does not match 3PL tracking "
        "9400111899229988776655."
    ]


def test_words_must_meet_in_one_sentence() -> None:
    document = _document(cancelled_but_shipped())
    text = (
        "The customer cancelled. Separately, the warehouse shipped it and the parcel hit an exception. "
        "A replacement is blocked: the order is cancelled and refunded."
    )
    assert [m.code for m in missing_mentions(text, document)] == ["cancelled_but_shipped"]


def test_blocked_check_needs_the_consequence_not_only_the_fact() -> None:
    document = _document(overdue_missing_at_3pl())
    silent = "Order #1042 is overdue and missing at the 3PL; nothing has shipped."
    told = (
        "Order #1042 is overdue and missing at the 3PL; nothing has shipped, so no replacement is possible."
    )
    assert completion_lines(silent, document) == [
        "Also: replacement blocked by order.shipped: Nothing of #1042 has shipped: no store fulfillment "
        "and no completed 3PL shipment."
    ]
    assert completion_lines(told, document) == []


def test_two_findings_with_one_code_each_need_their_tracking_number() -> None:
    document = _document(cancelled_but_shipped())
    second = {"code": "carrier_exception", "detail": "Carrier reports failure for 1Z999AA10123456784."}
    document["carrier"].append({"tracking_code": "1Z999AA10123456784"})
    document["discrepancies"].append(second)
    text = (
        "Cancelled but shipped. Parcel 9400111899223344556677 hit a carrier exception. "
        "Replacement blocked: cancelled and refunded."
    )
    assert completion_lines(text, document) == ["Also: carrier exception: " + second["detail"]]


def test_completing_twice_adds_nothing_more() -> None:
    for detail in all_scenarios():
        document = _document(detail)
        completed = complete("Here is the order.", document)
        assert completed.startswith("Here is the order.\nAlso: ")
        assert completion_lines(completed, document) == []
        assert complete(completed, document) == completed


def test_cancelled_not_stopped_is_mentioned_by_words_or_appended() -> None:
    document = _document(cancelled_but_shipped())
    detail = "Store says cancelled, but 3PL order 9001 may still ship (shipment 7 (Processing))."
    document["discrepancies"] = [{"code": "cancelled_not_stopped", "detail": detail}]
    told = "The customer cancelled, but the warehouse may still ship it."
    assert [m.code for m in missing_mentions(told, document) if m.kind == "discrepancy"] == []
    silent = "The customer cancelled. The warehouse has it."
    assert [m.code for m in missing_mentions(silent, document) if m.kind == "discrepancy"] == [
        "cancelled_not_stopped"
    ]
    assert f"Also: cancelled but not stopped at the 3PL: {detail}" in completion_lines(silent, document)
