"""Digests to a real Slack webhook and a real SMTP server on loopback: content, owners, once per channel."""

from __future__ import annotations

import re
from datetime import datetime, timedelta

import pytest
from sqlalchemy import select, text
from sqlalchemy.engine import Engine

from db.models.audit import AuditEntry
from db.session import session_scope
from services import claims, queries, queue
from services.auth.admin import create_user
from services.errors import ConfigurationError
from services.notify import AlertConfig, notify, save_config, set_own_claims_digest
from services.notify.digest import CAP
from services.permissions import SYSTEM_ACTOR, Actor, Role
from services.settings import Settings
from services.store import T_CLASS
from tests.services.conftest import register_actors
from tests.services.notify.sinks import SlackSink, SmtpSink
from tests.services.notify.support import POLICY, T0

ADMIN = Actor("root", Role.ADMIN)
ACTORS = (ADMIN,)  # known to the database (tests/services/conftest.py)
SYSTEM = Actor(SYSTEM_ACTOR, Role.ADMIN, os_user="tests")  # who runs `order-recon notify`
LINK = re.compile(r"<(http://console\.test/lookup\?order=[^|>]+)\|([^>]+)>")


def settings_for(slack: SlackSink | None, smtp: SmtpSink | None) -> Settings:
    return Settings(
        slack_webhook_url=slack.url if slack else None,
        smtp_url=smtp.url() if smtp else None,
        alert_email_to="ops@example.test, lead@example.test" if smtp else None,
        alert_email_from="order-recon@example.test",
        console_url="http://console.test",
    )


def run(engine: Engine, settings: Settings, as_of: datetime, **kwargs: object):  # type: ignore[no-untyped-def]
    # Each run an hour after the last at least, so the default cadence never holds one back.
    run.clock = getattr(run, "clock", T0) + timedelta(hours=2)  # type: ignore[attr-defined]
    return notify(engine, settings, POLICY, as_of=as_of, now=run.clock, actor=SYSTEM, **kwargs)  # type: ignore[attr-defined, arg-type]


def expected_items(engine: Engine, as_of: datetime) -> set[tuple[str, str]]:
    """(kind, order) of the queue and of the discrepancies, without any order in the informational view."""
    with engine.connect() as conn:
        overdue = queue.overdue_queue(conn, as_of=as_of, policy=POLICY)
        found = queries.discrepancies(conn, as_of=as_of, policy=POLICY)
        informational = {r.order for r in queries.informational_view(conn, as_of=as_of, policy=POLICY)}
    assert informational, "the store must have informational orders for the test to mean anything"
    return {("overdue", r.order) for r in overdue} | {
        (d.code, d.order) for d in found if d.order not in informational
    }


def announced(engine: Engine, channel: str) -> set[tuple[str, str]]:
    with engine.connect() as conn:
        rows = conn.execute(
            text(
                "SELECT a.kind, o.name FROM alert_announcement a JOIN store_order o ON o.id = a.order_id "
                "WHERE a.channel = :channel"
            ),
            {"channel": channel},
        )
        return {(r.kind, r.name) for r in rows}


def slack_orders(post: dict) -> list[str]:  # type: ignore[type-arg]
    return [
        m.group(2)
        for block in post["blocks"]
        if block["type"] == "section"
        for m in LINK.finditer(block["text"]["text"])
    ]


def due_days(engine: Engine, orders: list[str]) -> dict[str, object]:
    with engine.connect() as conn:
        rows = conn.execute(
            select(T_CLASS.c.order_name, T_CLASS.c.due_day).where(T_CLASS.c.order_name.in_(orders))
        )
        return {r.order_name: r.due_day for r in rows}


def test_each_breach_and_discrepancy_is_announced_once_to_each_channel(
    loaded: Engine, slack: SlackSink, smtp: SmtpSink
) -> None:
    settings = settings_for(slack, smtp)
    expected = expected_items(loaded, T0)
    result = run(loaded, settings, T0)

    assert [(c.channel, c.status, c.items) for c in result.channels] == [
        ("slack", "sent", len(expected)),
        ("email", "sent", len(expected)),
    ]
    assert announced(loaded, "slack") == expected == announced(loaded, "email")
    # Slack: the oldest CAP in full, oldest due first, each linked to its lookup; the rest counted.
    (post,) = slack.posts
    shown = slack_orders(post)
    assert len(shown) == CAP
    days = due_days(loaded, shown)
    assert [days[o] for o in shown] == sorted(days[o] for o in shown)
    later = due_days(loaded, [order for _, order in expected if order not in shown])
    assert min(later.values()) >= max(days.values())  # type: ignore[type-var]
    assert f"and {len(expected) - CAP} more" in post["blocks"][-1]["elements"][0]["text"]
    assert "http://console.test/overdue" in post["blocks"][-1]["elements"][0]["text"]
    # Email: multipart text and HTML, to every recipient, the same items.
    ((recipients, message),) = smtp.messages
    assert sorted(recipients) == ["lead@example.test", "ops@example.test"]
    assert message.get_content_type() == "multipart/alternative"
    breaches = sum(kind == "overdue" for kind, _ in expected)
    assert (
        message["Subject"]
        == f"order-recon: {breaches} new breaches and {len(expected) - breaches} new discrepancies"
    )
    assert post["text"] == message["Subject"]
    plain = message.get_body(("plain",)).get_content()  # type: ignore[union-attr]
    html = message.get_body(("html",)).get_content()  # type: ignore[union-attr]
    for order in shown:
        assert order in plain and f"lookup?order=%23{order[1:]}" in html

    # Nothing new: nothing sent, to either channel.
    again = run(loaded, settings, T0)
    assert [c.status for c in again.channels] == ["nothing new", "nothing new"]
    assert len(slack.posts) == 1 and len(smtp.messages) == 1


def test_a_later_run_announces_only_what_is_new_and_never_an_informational_order(
    loaded: Engine, slack: SlackSink
) -> None:
    settings = settings_for(slack, None)
    run(loaded, settings, T0)
    later = T0 + timedelta(days=4)
    new = expected_items(loaded, later) - expected_items(loaded, T0)
    assert new, "four days on, some pending orders must have become overdue"
    result = run(loaded, settings, later)
    assert result.channels[0].items == len(new)
    digest = result.channels[0].digest
    assert digest is not None
    shown = {(line.kind.replace(" ", "_"), line.order) for _, lines in digest.groups for line in lines}
    assert shown <= new
    with loaded.connect() as conn:
        informational = {r.order for r in queries.informational_view(conn, as_of=later, policy=POLICY)}
    assert not {order for _, order in announced(loaded, "slack")} & informational


def test_a_digest_groups_by_owner(loaded: Engine, slack: SlackSink, smtp: SmtpSink) -> None:
    with loaded.connect() as conn:
        oldest = [r.order for r in queue.overdue_queue(conn, as_of=T0, policy=POLICY, limit=3)]
    alice, bob = Actor("alice", Role.AGENT), Actor("bob", Role.OPS)
    register_actors(loaded, [alice, bob])
    with session_scope(loaded) as session:
        claims.claim(session, order=oldest[0], actor=alice, now=T0)
        claims.claim(session, order=oldest[2], actor=bob, now=T0)
    result = run(loaded, settings_for(slack, smtp), T0)
    digest = result.channels[0].digest
    assert digest is not None
    groups = {
        owner: {line.order for line in lines} for owner, lines in digest.groups
    }  # an order may have 2 items
    assert groups["alice"] == {oldest[0]}
    assert groups["bob"] == {oldest[2]}
    assert oldest[1] in groups["unassigned"]
    sections = [b["text"]["text"] for b in slack.posts[0]["blocks"] if b["type"] == "section"]
    assert sections[0].startswith("*alice*") and oldest[0] in sections[0]
    html = smtp.messages[0][1].get_body(("html",)).get_content()  # type: ignore[union-attr]
    assert html.index(">alice<") < html.index(oldest[0]) < html.index(">bob<") < html.index(oldest[2])


def test_a_failing_channel_is_retried_and_the_other_gets_nothing_twice(
    loaded: Engine, slack: SlackSink, smtp: SmtpSink
) -> None:
    settings = settings_for(slack, smtp)
    expected = expected_items(loaded, T0)
    slack.status = 500
    first = run(loaded, settings, T0)
    assert [(c.channel, c.status) for c in first.channels] == [("slack", "failed"), ("email", "sent")]
    assert not first.ok and "500" in (first.channels[0].error or "")
    assert announced(loaded, "slack") == set() and announced(loaded, "email") == expected

    slack.status = 200
    second = run(loaded, settings, T0)
    assert [(c.channel, c.status) for c in second.channels] == [("slack", "sent"), ("email", "nothing new")]
    assert announced(loaded, "slack") == expected
    assert len(slack.posts) == 1 and len(smtp.messages) == 1
    with loaded.connect() as conn:
        digests = conn.execute(text("SELECT channel, items, body FROM alert_digest ORDER BY id")).all()
    assert [(d.channel, d.items) for d in digests] == [("email", len(expected)), ("slack", len(expected))]
    assert '"blocks"' in digests[1].body  # the Slack message exactly as sent

    with session_scope(loaded) as session:
        entries = (
            session.execute(select(AuditEntry).where(AuditEntry.action == "alerts.notify")).scalars().all()
        )
    assert [e.outcome for e in entries] == ["failed", "ok"]
    assert entries[0].params["channels"]["slack"]["status"] == "failed"


def test_a_dry_run_sends_and_records_nothing(loaded: Engine, slack: SlackSink) -> None:
    result = run(loaded, settings_for(slack, None), T0, dry_run=True)
    assert result.channels[0].status == "dry run" and result.channels[0].items > CAP
    assert slack.posts == [] and announced(loaded, "slack") == set()
    assert run(loaded, settings_for(slack, None), T0).channels[0].status == "sent"


def test_the_cadence_holds_back_an_early_run(loaded: Engine, slack: SlackSink) -> None:
    settings = settings_for(slack, None)
    with session_scope(loaded) as session:
        save_config(session, AlertConfig(digest_every_minutes=240), actor=ADMIN, now=T0)
    first = notify(loaded, settings, POLICY, as_of=T0, now=T0, actor=SYSTEM)
    assert first.channels[0].status == "sent"
    early = notify(
        loaded, settings, POLICY, as_of=T0 + timedelta(days=4), now=T0 + timedelta(hours=1), actor=SYSTEM
    )
    assert early.channels == [] and early.not_due_until == T0 + timedelta(hours=4)
    due = notify(
        loaded, settings, POLICY, as_of=T0 + timedelta(days=4), now=T0 + timedelta(hours=4), actor=SYSTEM
    )
    assert due.channels[0].status == "sent" and len(slack.posts) == 2


def test_a_user_who_opted_in_gets_their_own_claims_only(loaded: Engine, smtp: SmtpSink) -> None:
    alice = Actor("alice", Role.AGENT)
    with session_scope(loaded) as session:
        create_user(session, username="alice", password="correct horse battery", role=Role.AGENT,
                    email="alice@example.test", actor=ADMIN, now=T0)  # fmt: skip
        save_config(session, AlertConfig(email_enabled=False), actor=ADMIN, now=T0)
        set_own_claims_digest(session, enabled=True, actor=alice, now=T0)
    with loaded.connect() as conn:
        oldest = [r.order for r in queue.overdue_queue(conn, as_of=T0, policy=POLICY, limit=2)]
    with session_scope(loaded) as session:
        claims.claim(session, order=oldest[1], actor=alice, now=T0)
    result = run(loaded, settings_for(None, smtp), T0)
    assert [(c.channel, c.status) for c in result.channels] == [("email:alice", "sent")]
    ((recipients, message),) = smtp.messages
    assert recipients == ["alice@example.test"]
    plain = message.get_body(("plain",)).get_content()  # type: ignore[union-attr]
    assert oldest[1] in plain and oldest[0] not in plain
    assert {order for _, order in announced(loaded, "email:alice")} == {oldest[1]}


def test_smtp_with_a_login(loaded: Engine) -> None:
    server = SmtpSink(credentials=("mailer", "s3cret"))
    try:
        good = settings_for(None, None).model_copy(
            update={"smtp_url": server.url("mailer", "s3cret"), "alert_email_to": "ops@example.test"}
        )
        bad = good.model_copy(update={"smtp_url": server.url("mailer", "wrong")})
        failed = run(loaded, bad, T0)
        assert failed.channels[0].status == "failed" and "s3cret" not in (failed.channels[0].error or "")
        assert server.messages == []
        assert run(loaded, good, T0).channels[0].status == "sent"
        assert len(server.messages) == 1
    finally:
        server.close()


def test_no_channel_is_a_configuration_error_but_a_dry_run_previews(loaded: Engine) -> None:
    with pytest.raises(ConfigurationError, match="SLACK_WEBHOOK_URL"):
        run(loaded, settings_for(None, None), T0)
    preview = run(loaded, settings_for(None, None), T0, dry_run=True)
    assert preview.channels[0].channel == "preview" and preview.channels[0].items > 0
