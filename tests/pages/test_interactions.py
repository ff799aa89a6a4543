"""Driving the pages: search, deep links, claims, filters, refresh, sign-in and sign-out."""

from __future__ import annotations

import re
from datetime import UTC, datetime

import pytest
from sqlalchemy import select

from db.models import AuditEntry
from db.session import session_scope
from services import auth, claims
from services.errors import ConflictError
from services.permissions import Actor, Role
from tests.pages.conftest import app, column, titles


def markdown(at) -> str:
    return "\n".join(m.value for m in at.markdown)


def test_search_by_number_shows_the_three_systems_and_the_checks(console_db, console_env) -> None:
    console_env(console_db)
    at = app("agent")
    at.text_input(key="lookup.query").set_value("2001").run()
    assert not at.exception
    assert "#2001" in [h.value for h in at.subheader]
    text = markdown(at)
    for heading in ("Store", "3PL", "Carrier", "Checks before a replacement"):
        assert heading in text
    assert "`order.exists`" in text and "✅" in text
    assert "overdue" in text
    assert at.query_params["order"] == "#2001"


def test_deep_link_opens_the_order(console_db, console_env) -> None:
    console_env(console_db)
    at = app("agent", run=False)
    at.query_params["order"] = "#2006"
    at.run()
    assert not at.exception
    assert "#2006" in [h.value for h in at.subheader]


def test_unknown_order_says_so(console_db, console_env) -> None:
    console_env(console_db)
    at = app("agent")
    at.text_input(key="lookup.query").set_value("#999999").run()
    assert not at.exception
    assert any("No order matches" in i.value for i in at.info)


def test_offline_summary_is_labelled(console_db, console_env) -> None:
    console_env(console_db)
    at = app("agent", state={"lookup.query": "#2001"})
    at.button(key="lookup.summarize").click().run()
    assert not at.exception
    assert any("offline summary" in c.value for c in at.caption)


def _queue_orders(at) -> list[str]:
    return [name.lstrip("#") for name in column(at, "order")]


def test_claim_release_and_conflict(fresh_db, console_env) -> None:
    console_env(fresh_db)
    at = app("agent", "overdue")
    first = _queue_orders(at)[0]
    at.multiselect(key="overdue.selected").set_value([f"#{first}"]).run()
    at.button(key="overdue.claim").click().run()
    assert not at.exception
    assert column(at, "owner")[0] == "agent"

    other = app("ops", "overdue")
    other.multiselect(key="overdue.selected").set_value([f"#{first}"]).run()
    other.button(key="overdue.claim").click().run()
    assert any(f"#{first} is already claimed by agent" in w.value for w in other.warning)

    mine = app("agent", "overdue", state={"overdue.owner": "me"})
    assert _queue_orders(mine) == [first]
    unclaimed = app("agent", "overdue", state={"overdue.owner": "unclaimed"})
    assert first not in _queue_orders(unclaimed)

    at.button(key="overdue.release").click().run()
    assert column(at, "owner")[0] == "—"
    with session_scope(fresh_db.engine) as session:
        actions = [e.action for e in session.execute(select(AuditEntry)).scalars()]
    assert actions.count("order.claim") == 1 and actions.count("order.release") == 1


def test_release_by_someone_else_needs_an_admin(fresh_db) -> None:
    now = datetime.now(UTC)
    agent, ops, admin = (Actor(n, Role(n)) for n in ("agent", "ops", "admin"))
    with session_scope(fresh_db.engine) as session:
        claims.claim(session, order="#2001", actor=agent, now=now)
    with pytest.raises(ConflictError), session_scope(fresh_db.engine) as session:
        claims.release(session, order="#2001", actor=ops, now=now)
    with session_scope(fresh_db.engine) as session:
        claims.release(session, order="#2001", actor=admin, now=now)
        assert claims.my_claims(session.connection(), "agent") == []


def test_filters_narrow_the_queue(simulated_db, console_env) -> None:
    console, sources = simulated_db
    console_env(console, sources)
    at = app("agent", "overdue", as_of=None)
    total = at.metric[0].value
    method = at.selectbox(key="overdue.method").options[1]
    at.selectbox(key="overdue.method").set_value(method).run()
    assert not at.exception
    shown = column(at, "shipping method")
    assert len(shown) > 0 and set(shown) == {method}
    assert int(at.metric[0].value.replace(",", "")) <= int(total.replace(",", ""))


def test_agent_sees_no_export_or_bulk_refresh(console_db, console_env) -> None:
    console_env(console_db)
    at = app("agent", "overdue")
    keys = {b.key for b in at.button}
    assert "overdue.refresh" not in keys and "overdue.sync" not in keys
    assert not [d for d in at.get("download_button")]
    ops = app("ops", "overdue")
    assert "overdue.refresh" in {b.key for b in ops.button}
    assert [d for d in ops.get("download_button")]


def test_informational_counts_and_rows(console_db, console_env) -> None:
    console_env(console_db)
    at = app("agent", "informational")
    assert not at.exception
    labels = [m.label for m in at.metric]
    assert "False alarms kept out of the queue" in labels
    assert len(column(at, "order")) > 0


def test_admin_adds_and_disables_a_user_who_is_then_signed_out(fresh_db, console_env, monkeypatch) -> None:
    console_env(fresh_db)
    monkeypatch.setattr(auth.credentials, "BCRYPT_ROUNDS", 4)
    at = app("admin", "admin_users")
    at.text_input(key="admin.add.username").set_value("dana")
    at.text_input(key="admin.add.password").set_value("correct horse battery")
    at.selectbox(key="admin.add.role").set_value(Role.OPS)
    at.button(key="FormSubmitter:admin.add-Add user").click().run()
    assert not at.exception and not at.error
    assert "dana" in column(at, "username")

    dana = app("dana", "overdue")
    assert "Overdue queue" in titles(dana)
    at.selectbox(key="admin.edit.user").set_value("dana").run()
    at.button(key="admin.edit.disable").click().run()
    dana.run()
    assert "Overdue queue" not in titles(dana)
    assert any("disabled" in w.value for w in dana.warning)


def test_sign_in_form_records_each_attempt_once(fresh_db, console_env) -> None:
    console_env(fresh_db)
    at = app(None)
    at.text_input[0].set_value("agent")
    at.text_input[1].set_value("wrong password")
    at.button[0].click().run()
    assert any("Wrong username or password" in e.value for e in at.error)
    at.run()  # a plain rerun is not another attempt
    at.text_input[1].set_value(fresh_db.passwords["agent"])
    at.button[0].click().run()
    assert "Order lookup" in titles(at)
    with session_scope(fresh_db.engine) as session:
        outcomes = [
            e.outcome
            for e in session.execute(select(AuditEntry).where(AuditEntry.action == "sign_in")).scalars()
        ]
    assert outcomes == ["failed", "ok"]


def test_sign_out_returns_to_the_sign_in_form(console_db, console_env) -> None:
    console_env(console_db)
    at = app("lead")
    at.sidebar.button(key="auth.sign_out").click().run()
    assert "Order lookup" not in titles(at)
    assert any("signed out" in w.value for w in at.warning)


def test_short_cookie_key_stops_the_app_outside_demo_mode(console_db, console_env) -> None:
    console_env(console_db, COOKIE_KEY="short")
    at = app("admin")
    assert any("COOKIE_KEY" in e.value for e in at.error)
    assert "Order lookup" not in titles(at)


def test_a_missing_audit_key_stops_the_app_outside_demo_mode(console_db, console_env, monkeypatch) -> None:
    console_env(console_db, AUDIT_KEY="")
    at = app("admin")
    assert any("AUDIT_KEY" in e.value for e in at.error)
    assert "Order lookup" not in titles(at)


def test_demo_mode_never_shows_passwords(console_db, console_env) -> None:
    """Passwords are printed once by `make run` and stored only hashed: the page has none to show, even
    from an old secrets file that still holds some."""
    console_env(console_db, DEMO_MODE="true", COOKIE_KEY="")
    at = app(None, secrets={"demo_users": {"agent": "agent-password"}})
    assert not at.table and "agent-password" not in str([i.value for i in at.info])
    assert any("printed in the terminal" in i.value for i in at.info)


def test_refresh_from_the_simulator(simulated_db, console_env) -> None:
    console, sources = simulated_db
    console_env(console, sources)
    at = app("ops", "overdue", as_of=None)
    order = "#" + _queue_orders(at)[0]
    at = app("ops", as_of=None, state={"lookup.query": order})
    at.button(key="lookup.refresh.All").click().run()
    assert not at.exception, [e.message for e in at.exception]
    assert not at.error, [e.value for e in at.error]
    assert any(f"{order} refreshed from store, 3PL, carrier" in s.label for s in at.get("status"))


OIDC = {
    "auth": {
        "redirect_uri": "http://localhost:8501/oauth2callback",
        "cookie_secret": "s" * 32,
        "client_id": "id",
        "client_secret": "secret",
        "server_metadata_url": "https://idp.example.com/.well-known/openid-configuration",
    }
}


def test_company_sign_in_maps_the_email_to_a_role(fresh_db, console_env, monkeypatch) -> None:
    console_env(fresh_db)
    monkeypatch.setattr(auth.credentials, "BCRYPT_ROUNDS", 4)
    with session_scope(fresh_db.engine) as session:
        auth.create_user(
            session,
            username="erin",
            password="a long password",
            role=Role.LEAD,
            email="Erin@Example.com",
            actor=Actor("admin", Role.ADMIN),
            now=datetime.now(UTC),
        )
    at = app(None, secrets=OIDC, run=False)
    at.user = {"is_logged_in": True, "email": "erin@example.com", "name": "Erin"}
    at.run()
    assert not at.exception
    assert "Order lookup" in titles(at)
    assert "`lead`" in at.sidebar.markdown[0].value
    at.switch_page("pages/sla.py").run()  # a lead may open the metrics
    assert "SLA metrics" in titles(at)

    stranger = app(None, secrets=OIDC, run=False)
    stranger.user = {"is_logged_in": True, "email": "nobody@example.com"}
    stranger.run()
    assert any("has no role in order-recon" in e.value for e in stranger.error)
    assert "Order lookup" not in titles(stranger)


def test_signed_out_page_offers_company_sign_in(console_db, console_env) -> None:
    console_env(console_db)
    at = app(None, secrets=OIDC, run=False)
    at.user = {"is_logged_in": False}
    at.run()
    assert "login.oidc" in {b.key for b in at.button}


def test_refresh_without_sources_says_why_and_keeps_the_order(console_db, console_env) -> None:
    console_env(console_db)
    at = app("agent", state={"lookup.query": "#2001"})
    at.button(key="lookup.refresh.Store").click().run()
    assert not at.exception
    assert any(
        "Could not refresh #2001" in s.label and "SHOPIFY_SHOP_URL" in s.label for s in at.get("status")
    )
    assert "Checks before a replacement" in markdown(at)


def test_sync_now_syncs_every_source_and_audits_each(simulated_db, console_env) -> None:
    console, sources = simulated_db
    console_env(console, sources)
    at = app("ops", "overdue", as_of=None)
    at.button(key="overdue.sync").click().run()
    assert not at.exception, [e.message for e in at.exception]
    labels = [s.label for s in at.get("status")]
    for label in ("3PL", "carrier", "store"):
        assert any(re.fullmatch(rf"{label}: [\d,]+ records", x) for x in labels), labels
    with session_scope(console.engine) as session:
        synced = session.execute(
            select(AuditEntry).where(AuditEntry.action == "sync.source", AuditEntry.actor == "ops")
        ).scalars()
        outcomes = {(e.outcome, (e.params or {})["source"]) for e in synced}
    assert outcomes >= {("ok", "shipbob"), ("ok", "easypost"), ("ok", "shopify")}


def test_sync_now_while_another_sync_of_a_source_runs_says_so_and_syncs_the_others(
    simulated_db, console_env
) -> None:
    from services.locks import named_lock
    from services.sync import lock_name

    console, sources = simulated_db
    console_env(console, sources)
    at = app("ops", "overdue", as_of=None)
    with named_lock(console.engine, lock_name("shipbob")):  # a cron sync of the 3PL holds it
        at.button(key="overdue.sync").click().run()
    assert not at.exception, [e.message for e in at.exception]
    labels = [s.label for s in at.get("status")]
    assert "another sync of 3PL is running; nothing to do" in labels, labels
    for label in ("carrier", "store"):
        assert any(re.fullmatch(rf"{label}: [\d,]+ records", x) for x in labels), labels


def test_the_sign_in_page_starts_loading_the_table_and_chart_libraries(
    console_db, console_env, monkeypatch
) -> None:
    from ui import warmup

    console_env(console_db)
    monkeypatch.setattr(warmup, "_loaded", None)
    at = app(None)
    assert "Order lookup" not in titles(at)  # the run stopped at the sign-in form
    assert warmup._loaded is not None and warmup._loaded.wait(60)
