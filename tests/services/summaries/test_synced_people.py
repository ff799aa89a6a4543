"""End to end: an order synced over HTTP from the simulator, whose note names who paid for it, the old
street on the customer's record and the phone the 3PL has for the recipient. The summary request the
loopback model server receives holds none of them, though the note itself is sent (redacted)."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import select
from sqlalchemy.engine import Engine
from sqlmodel import Session

from services import store
from services.lookup.orders import order_detail
from services.store import T_ORDER
from services.summaries import summarize
from services.sync import sync_all
from tests.services.sources.simulator import simulator
from tests.services.summaries.fake_openai import FakeOpenAI, Reply

pytestmark = pytest.mark.timeout(240)

NOTE = re.compile(r"(?P<bill>.+) ordered this for me\. My account still says (?P<street>.+) but I moved")


def test_a_synced_orders_people_named_in_its_note_never_reach_the_model(
    engine: Engine, fake_openai: FakeOpenAI
) -> None:
    with simulator(orders=200) as sim:
        settings = sim.settings(
            openai_api_key="sk-test-not-a-real-key",
            openai_base_url=fake_openai.url,
            openai_model="fake-model-1",
            openai_timeout_s=5.0,
        )
        now = sim.now()
        for result in sync_all(engine, settings, settings.policy(), now=now).values():
            assert result.ok, result
    with engine.connect() as conn:
        noted = conn.execute(
            select(T_ORDER.c.id, T_ORDER.c.name, T_ORDER.c.note)
            .where(T_ORDER.c.note.like("%ordered this for me%"))
            .order_by(T_ORDER.c.id)
        ).all()
        assert noted, "the simulator sends notes that name the people of their order"
        order_id, name, note = noted[0]
        (view,) = store.load_views(conn, [order_id])
        detail = order_detail(conn, name=name, as_of=now, policy=settings.policy())
    assert detail is not None
    order, warehouse = view.store, view.warehouse
    assert warehouse is not None and warehouse.recipient is not None
    billing, record = order.billing_address, order.customer_address
    assert billing is not None and record is not None and order.shipping_address is not None
    mentioned = NOTE.search(note)
    assert mentioned is not None
    # Known only from the billing address and the customer record: the shipping address names neither.
    assert mentioned["bill"].endswith(billing.name or "-") and billing.name != order.shipping_address.name
    assert mentioned["street"] == record.address1 != order.shipping_address.address1
    phone = warehouse.recipient.phone
    assert phone and phone in note

    fake_openai.answer_always(Reply("Noted."))
    with Session(engine, expire_on_commit=False) as session:
        summary = summarize(detail, session=session, settings=settings)
    assert summary.engine == "model", summary.fallback_reason
    (request,) = fake_openai.requests
    sent = request.body.decode("utf-8").lower()
    assert "ordered this for me" in sent  # the note went, through the redactor
    first, last = (billing.name or "").split(" ", 1)
    number, street = (record.address1 or "").split(" ", 1)
    digits = re.sub(r"\D", "", phone)
    for private in (first, last, f"{number} {street}", street, digits[-7:], phone):
        assert private.lower() not in sent, private
    assert digits[-4:] not in re.sub(r"\D", "", sent.split("ordered this for me", 1)[1][:200])
