"""Personal data is replaced by placeholders before anything leaves the process."""

from __future__ import annotations

import json

from services.summaries.facts import build_facts
from services.summaries.redact import redact_facts, redactor_for
from tests.services.summaries.factories import (
    CUSTOMER_NAME,
    EMAIL,
    INJECTION_NOTE,
    PERSONAL_DATA,
    all_scenarios,
    cancelled_but_shipped,
    customer_order,
)


def test_known_personal_data_becomes_placeholders() -> None:
    redactor = redactor_for(customer_order())
    text = f"{CUSTOMER_NAME} ({EMAIL}, +1 207 555 0142) lives at 41 Pier Road, Apt 3B, Portland ME 04101."
    assert (
        redactor.scrub(text)
        == "[CUSTOMER_NAME] ([EMAIL], [PHONE]) lives at [STREET], [STREET], Portland ME [STREET]."
    )


def test_phone_in_any_format_and_name_parts_without_accents() -> None:
    redactor = redactor_for(customer_order())
    assert redactor.scrub("call (207) 555-0142 or 207.555.0142 or 2075550142") == (
        "call [PHONE] or [PHONE] or [PHONE]"
    )
    assert (
        redactor.scrub("Signed by DANA NUNEZ on Pier Road")
        == "Signed by [CUSTOMER_NAME] [CUSTOMER_NAME] on [STREET]"
    )
    assert redactor.scrub("Ms. Reyes, dana.nunez.reyes@EXAMPLE.com") == "Ms. [CUSTOMER_NAME], [EMAIL]"


def test_other_email_and_phone_looking_strings_are_scrubbed() -> None:
    redactor = redactor_for(customer_order())
    assert redactor.scrub("write to someone@else.org or +44 20 7946 0958 or 503-555-0199") == (
        "write to [EMAIL] or [PHONE] or [PHONE]"
    )
    assert redactor.scrub_free_text("text me 5035550199") == "text me [PHONE]"


def test_tracking_numbers_ids_dates_and_places_survive() -> None:
    redactor = redactor_for(customer_order())
    text = (
        "USPS 9400111899223344556677, UPS 1Z999AA10123456784, FedEx 794612345678, DHL 1234567890, "
        "order 5410000010421 at 2026-07-01T10:00:00+00:00 in Portland ME US; the customer will call"
    )
    assert redactor.scrub(text) == text


def test_redacted_facts_hold_no_personal_data_and_keep_the_notes() -> None:
    for detail in all_scenarios():
        redacted = redact_facts(build_facts(detail), detail.view.store)
        dumped = json.dumps(redacted.document, ensure_ascii=False).lower()
        assert [form for form in PERSONAL_DATA if form.lower() in dumped] == []
    notes = redact_facts(build_facts(cancelled_but_shipped()), cancelled_but_shipped().view.store).document[
        "notes"
    ]
    assert notes[0]["text"].startswith("[CUSTOMER_NAME] called from [PHONE], asked us to resend to [STREET]")


def test_injection_note_is_kept_verbatim() -> None:
    detail = all_scenarios()[0]
    notes = redact_facts(build_facts(detail), detail.view.store).document["notes"]
    assert notes == [{"source": "order note", "text": INJECTION_NOTE}]
