"""Alert settings: admin only and audited; the channels they and the secrets configure."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sqlalchemy import inspect, select
from sqlalchemy.engine import Engine

from db.models.audit import AuditEntry
from db.session import session_scope
from services.errors import InputError, PermissionDenied
from services.notify import AlertConfig, configured_channels, load_config, save_config
from services.notify.config import T_SETTINGS, report_recipients
from services.permissions import Actor, Role
from services.settings import Settings
from tests.services.conftest import register_actors

NOW = datetime(2026, 11, 20, 18, tzinfo=UTC)
ADMIN = Actor("root", Role.ADMIN)
ACTORS = (ADMIN,)  # known to the database (tests/services/conftest.py)
SECRETS = Settings(
    slack_webhook_url="https://hooks.slack.com/services/T/B/secret",
    smtp_url="smtp://mailer:pw@127.0.0.1:2525",
    alert_email_from="recon@example.test",
    alert_email_to="ops@example.test",
)


@pytest.mark.parametrize("role", [Role.AGENT, Role.OPS, Role.LEAD])
def test_only_an_admin_changes_the_settings_and_a_refusal_is_audited(engine: Engine, role: Role) -> None:
    someone = Actor("someone", role)
    register_actors(engine, [someone])  # refused for the role the database gives them
    with pytest.raises(PermissionDenied), session_scope(engine) as session:
        save_config(session, AlertConfig(slack_enabled=False), actor=someone, now=NOW)
    with session_scope(engine) as session:
        (entry,) = session.execute(select(AuditEntry)).scalars()
        assert (entry.action, entry.outcome) == ("alerts.settings", "denied")
    with engine.connect() as conn:
        assert load_config(conn) == AlertConfig()


def test_saved_settings_configure_the_channels_and_keep_no_secret(engine: Engine) -> None:
    with engine.connect() as conn:
        assert [c.name for c in configured_channels(conn, SECRETS)] == ["slack", "email"]
        assert configured_channels(conn, SECRETS)[1].recipients == ("ops@example.test",)
    config = AlertConfig(slack_enabled=False, email_to=("a@example.test", "b@example.test"), report_to=())
    with session_scope(engine) as session:
        save_config(session, config, actor=ADMIN, now=NOW)
    with engine.connect() as conn:
        (email,) = configured_channels(conn, SECRETS)
        assert (email.name, email.recipients) == ("email", ("a@example.test", "b@example.test"))
        assert report_recipients(load_config(conn), SECRETS) == ("a@example.test", "b@example.test")
        stored = [tuple(row) for row in conn.execute(select(T_SETTINGS))]
    assert not any("secret" in str(v) or "pw" in str(v) for row in stored for v in row)
    columns = {c["name"] for c in inspect(engine).get_columns("alert_settings")}
    assert not columns & {"slack_webhook_url", "smtp_url", "smtp_password"}
    with session_scope(engine) as session:
        (entry,) = session.execute(select(AuditEntry).where(AuditEntry.outcome == "ok")).scalars()
    assert entry.params["before"]["slack_enabled"] is True and entry.params["after"]["slack_enabled"] is False


def test_bad_addresses_and_cadence_are_refused(engine: Engine) -> None:
    for config in (
        AlertConfig(email_to=("ops@",)),
        AlertConfig(report_to=("x y@z",)),
        AlertConfig(digest_every_minutes=0),
    ):
        with pytest.raises(InputError), session_scope(engine) as session:
            save_config(session, config, actor=ADMIN, now=NOW)
    with engine.connect() as conn:
        assert load_config(conn).updated_by is None
