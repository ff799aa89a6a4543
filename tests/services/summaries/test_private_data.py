"""No personal detail of any kind, written in any free-text place of an order, reaches the model.

The order below puts a billing name and street, the customer's street abbreviated and in upper case,
an old and a neighbour's address, non-US phones, a bare 10-digit number, transliterated names,
two-letter name parts, lower-case names in item titles and a spelled-out email into every place a
person or a source system writes free text: the order note, refund notes, item titles, the shipping
line title, the cancel reason, scan messages and locations, the warehouse name and the tags. The
request bodies the loopback model server receives must hold none of it.
"""

from __future__ import annotations

import dataclasses
import json

import pytest
from sqlmodel import Session, select

from checks.model import Address, OrderView, Refund, Tracker, TrackingEvent, WarehouseOrder
from db.models.audit import AuditEntry
from services.permissions import Actor, Role
from services.settings import Settings
from services.summaries import summarize
from services.summaries.redact import redactor_for
from services.summaries.request_audit import request_digest
from tests.services.summaries.factories import MUG, at, customer_order, detail_for, overdue_missing_at_3pl
from tests.services.summaries.fake_openai import FakeOpenAI, Reply

BILLING = Address(
    name="Jürgen Müller",
    address1="Friedrichstraße 12",
    city="Berlin",
    country_code="DE",
    zip="10117",
    phone="+49 30 901820",
)
CUSTOMER_RECORD = Address(name="Mei Li Wu", address1="8 Quay Street", city="London", country_code="GB")
RECIPIENT = Address(name="Dana Reyes", address1="41 Pier Road", phone="07700 900123", country_code="GB")

# Written the way people write them, in free text.
MENTIONS = (
    "JUERGEN MUELLER",
    "juergen mueller",
    "Jürgen",
    "FRIEDRICHSTR. 12",
    "Friedrichstr. 12",
    "41 Pier Rd",
    "41 PIER ROAD",
    "17 Harbour Lane",  # an old address, known nowhere else
    "19 Elm Street",  # the neighbour's
    "07700 900123",
    "030 901820",
    "+44 7700 900456",  # a phone known nowhere else
    "2075550199",  # bare 10 digits
    "Li",
    "Wu",
    "mei",
    "dana dot reyes at gmail dot com",
    "dana.reyes (at) gmail (dot) com",
    "https://evil.example/track?u=dana",
)
FORBIDDEN = (
    "Jürgen",
    "Juergen",
    "Jurgen",
    "Müller",
    "Mueller",
    "Muller",
    "Friedrich",
    "Pier",
    "Harbour",
    "Elm Street",
    "Quay",
    "7700",
    "900123",
    "901820",
    "2075550199",
    "dana",
    "reyes",
    "gmail",
    "evil.example",
    "Mei",
)


def _everywhere() -> str:
    return "; ".join(MENTIONS)


def pii_everywhere_detail():  # type: ignore[no-untyped-def]
    text = _everywhere()
    base = overdue_missing_at_3pl()
    order = customer_order(
        note=f"Customer says: {text}",
        billing_address=BILLING,
        customer_address=CUSTOMER_RECORD,
        customer_email="dana.reyes@gmail.com",
        line_items=(dataclasses.replace(MUG, title=f"mug for mei li wu {text}"),),
        shipping_method=f"Express to 41 Pier Rd 2075550199 {text}",
        cancel_reason=text,
        tags=text,
        refunds=(Refund(id=1, created_at=at("2026-07-01 11:00"), note=f"refund asked by {text}"),),
    )
    warehouse = WarehouseOrder(
        id=910421,
        reference_id=str(order.id),
        order_number="1042",
        status="Processing",
        created_date=at("2026-07-01 10:05"),
        recipient=RECIPIENT,
    )
    tracker = Tracker(
        id="trk_1",
        tracking_code="9400111899223344556677",
        status="in_transit",
        carrier="USPS",
        events=(TrackingEvent(at("2026-07-02 09:00"), "in_transit", f"Left with {text}", location=text),),
    )
    view = OrderView(store=order, warehouse=warehouse, trackers=(tracker,))
    return detail_for(view, as_of=at("2026-07-06 12:00"), checks=base.checks)


def _leaks(body: bytes) -> list[str]:
    text = json.dumps(json.loads(body), ensure_ascii=False).lower()
    return [form for form in FORBIDDEN if form.lower() in text]


def test_no_personal_detail_in_any_free_text_place_reaches_the_model(
    fake_openai: FakeOpenAI, settings: Settings, session: Session
) -> None:
    fake_openai.answer_always(Reply("Noted."))
    summary = summarize(pii_everywhere_detail(), session=session, settings=settings)
    assert summary.engine == "model", summary.fallback_reason
    assert len(fake_openai.requests) == 1
    body = fake_openai.requests[0].body
    assert _leaks(body) == []
    user = fake_openai.requests[0].json["messages"][1]["content"]
    assert "MUG-BLUE" in user and "9400111899223344556677" in user  # the structured facts stay


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("JUERGEN MUELLER paid", "[CUSTOMER_NAME] paid"),
        ("MUELLER, Juergen", "[CUSTOMER_NAME], [CUSTOMER_NAME]"),
        ("ship to FRIEDRICHSTR. 12 please", "ship to [STREET] please"),
        ("was 41 Pier Rd", "was [STREET]"),
        ("call 030 901820", "call [PHONE]"),
        ("or 07700 900123", "or [PHONE]"),
        ("Li and Wu", "[CUSTOMER_NAME] and [CUSTOMER_NAME]"),
        ("mail dana dot reyes at gmail dot com", "mail [EMAIL]"),
        ("used to live at 17 Harbour Lane", "used to live at [STREET]"),
        ("see www.example.com/x", "see [URL]"),
    ],
)
def test_the_redactor_knows_every_form(text: str, expected: str) -> None:
    redactor = redactor_for(pii_everywhere_detail().view)
    assert redactor.scrub_free_text(text) == expected


def test_a_failing_redactor_sends_nothing(
    fake_openai: FakeOpenAI, settings: Settings, session: Session
) -> None:
    """Fail closed: an address that breaks the redactor gives the rule-based summary, no request."""
    detail = overdue_missing_at_3pl()
    broken = dataclasses.replace(detail.view.store, shipping_address=Address(name=12345))  # type: ignore[arg-type]
    detail = dataclasses.replace(detail, view=dataclasses.replace(detail.view, store=broken))
    summary = summarize(detail, session=session, settings=settings)
    assert summary.engine == "fallback" and "personal data" in (summary.fallback_reason or "")
    assert fake_openai.requests == []


def test_each_model_request_is_audited_as_a_hash_with_fact_keys_and_endpoint(
    fake_openai: FakeOpenAI, settings: Settings, session: Session
) -> None:
    fake_openai.answer_always(Reply("Noted."))
    actor = Actor("olga", Role.AGENT)
    summarize(overdue_missing_at_3pl(), session=session, settings=settings, actor=actor)
    entries = session.exec(select(AuditEntry).where(AuditEntry.action == "model.request")).all()
    assert len(entries) == 1
    entry = entries[0]
    assert (entry.actor, entry.role, entry.order_name, entry.outcome) == ("olga", "agent", "#1042", "ok")
    params = entry.params or {}
    assert params["endpoint"] == settings.openai_base_url
    assert "store.items" in params["fact_keys"] and "notes[order note]" in params["fact_keys"]
    sent = fake_openai.requests[0].json
    from services.summaries.model import ModelConfig

    config = ModelConfig.from_settings(settings)
    assert config is not None
    assert params["sha256"] == request_digest(config, sent["messages"])
    assert "ignore previous" not in json.dumps(params)  # the text itself is never recorded
