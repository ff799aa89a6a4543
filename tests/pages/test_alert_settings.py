"""The Alerts page: an admin's settings and a user's own choice, stored and audited; the SLA page's report."""

from __future__ import annotations

from sqlalchemy import select

from db.models.audit import AuditEntry
from db.session import session_scope
from services import notify
from tests.pages.conftest import app


def _actions(console) -> list[tuple[str, str]]:  # type: ignore[no-untyped-def]
    with session_scope(console.engine) as session:
        rows = session.execute(select(AuditEntry).where(AuditEntry.action.like("alerts.%"))).scalars()
        return [(e.actor, e.action) for e in rows]


def test_an_admin_sets_channels_recipients_and_cadence(fresh_db, console_env) -> None:
    console_env(fresh_db)
    at = app("admin", "alert_settings")
    assert not at.exception, [e.message for e in at.exception]
    at.checkbox(key="alerts.slack").uncheck()
    at.text_area(key="alerts.email_to").input("ops@example.test, lead@example.test")
    at.selectbox(key="alerts.cadence").select("every 4 hours")
    at.text_area(key="alerts.report_to").input("ceo@example.test")
    at.button[0].click().run()  # the form's submit button
    assert not at.exception, [e.message for e in at.exception]
    assert "Saved the alert settings." in [s.value for s in at.success]
    with fresh_db.engine.connect() as conn:
        config = notify.load_config(conn)
    assert (config.slack_enabled, config.email_to, config.digest_every_minutes, config.report_to) == (
        False,
        ("ops@example.test", "lead@example.test"),
        240,
        ("ceo@example.test",),
    )
    assert _actions(fresh_db) == [("admin", "alerts.settings")]


def test_a_bad_address_is_refused_and_nothing_is_saved(fresh_db, console_env) -> None:
    console_env(fresh_db)
    at = app("admin", "alert_settings")
    at.text_area(key="alerts.email_to").input("ops@example.test, not an address")
    at.button[0].click().run()
    assert any("not an email address" in e.value for e in at.error)
    with fresh_db.engine.connect() as conn:
        assert notify.load_config(conn).updated_by is None


def test_an_agent_chooses_own_digests_and_sees_no_admin_settings(fresh_db, console_env) -> None:
    console_env(fresh_db)
    at = app("agent", "alert_settings")
    assert not at.exception, [e.message for e in at.exception]
    assert len(at.text_area) == 0 and len(at.selectbox) == 0
    at.toggle(key="alerts.own_claims").set_value(True).run()
    assert not at.exception, [e.message for e in at.exception]
    with fresh_db.engine.connect() as conn:
        assert notify.own_claims_digest(conn, "agent")
    assert _actions(fresh_db) == [("agent", "alerts.own_claims")]


def test_the_sla_page_charts_the_stages_and_offers_the_report(console_db, console_env) -> None:
    console_env(console_db)
    at = app("lead", "sla")
    assert not at.exception, [e.message for e in at.exception]
    keys = [getattr(e, "key", None) for e in at.get("download_button")]
    labels = [e.proto.label for e in at.get("download_button")]
    assert "Leadership report (HTML)" in labels and "Leadership report (PDF)" in labels, (keys, labels)
    charts = [e.proto.spec for e in at.get("vega_lite_chart")]
    assert any("On-time rate per day" in spec for spec in charts)
    assert not any("Where the time went" in spec for spec in charts)  # drawn when its tab is opened
    at.session_state["sla.tab"] = "Where the time went"
    at.run()
    assert not at.exception, [e.message for e in at.exception]
    charts = [e.proto.spec for e in at.get("vega_lite_chart")]
    assert any("Where the time went" in spec for spec in charts)
