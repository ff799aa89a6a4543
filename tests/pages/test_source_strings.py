"""Source strings reach the page as text: a title, a refund note or a scan message cannot draw a link or an
image, or colour a fake warning."""

from __future__ import annotations

from streamlit.testing.v1 import AppTest


def _panels() -> None:
    import dataclasses

    from checks.model import Refund, Tracker, TrackingEvent
    from tests.services.summaries.factories import MUG, at, customer_order, detail_for, overdue_missing_at_3pl
    from ui.order_panels import carrier_panel, check_marks, store_panel

    hostile = ":red[Session expired] [sign in again](http://evil.test/login) ![x](http://evil.test/p.png)"
    base = overdue_missing_at_3pl()
    order = customer_order(
        line_items=(dataclasses.replace(MUG, title=hostile),),
        refunds=(Refund(id=1, created_at=at("2026-07-01 11:00"), note=hostile),),
        shipping_method=hostile,
    )
    tracker = Tracker(
        id="t", tracking_code="9400", status="in_transit",
        events=(TrackingEvent(at("2026-07-02 09:00"), "in_transit", hostile, location=hostile),),
    )  # fmt: skip
    detail = detail_for(
        dataclasses.replace(base.view, store=order, trackers=(tracker,)),
        as_of=at("2026-07-06 12:00"),
        checks=base.checks,
    )
    from services.settings import Settings

    store_panel(detail, show_contact=True, settings=Settings())
    carrier_panel(detail)
    check_marks(detail.checks)


def test_source_strings_are_escaped_in_the_order_panels() -> None:
    at = AppTest.from_function(_panels, default_timeout=30).run()
    assert not at.exception, [e.message for e in at.exception]
    shown = [m.value for m in at.markdown] + [c.value for c in at.caption]
    with_hostile = [v for v in shown if "Session expired" in v]
    assert len(with_hostile) >= 4  # title, shipping method, refund note, scan message and location
    for value in with_hostile:
        assert ":red[" not in value and "](http" not in value and "![" not in value, value
