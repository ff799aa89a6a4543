"""Alerts: each user's own digest choice; for admins, channels, recipients, cadence and report recipients.

Secrets (the Slack webhook URL, the SMTP password) are never entered here: the page only says whether
the environment or secrets.toml provides them. Every change is audited by the services.
"""

from __future__ import annotations

from datetime import UTC, datetime

import streamlit as st

from services import notify
from services.notify.config import split_addresses
from services.permissions import Permission, allowed
from ui import resources
from ui.auth import current_actor
from ui.errors import shown_once

actor, settings = current_actor(), resources.settings()
st.title("Alerts")
with shown_once():
    notice = st.session_state.pop("alerts.notice", None)
    if notice:
        st.success(notice)
    with resources.connect() as conn:
        config = notify.load_config(conn)
        mine = notify.own_claims_digest(conn, actor.username)

    st.markdown("#### Your digests")
    own = st.toggle(
        "Email me the new breaches among the orders I claimed",
        value=mine,
        key="alerts.own_claims",
        help="Sent to the email address of your user, at the digest cadence.",
    )
    if own != mine:
        with resources.session() as session:
            notify.set_own_claims_digest(session, enabled=own, actor=actor, now=datetime.now(UTC))
        st.session_state["alerts.notice"] = "Saved your choice."
        st.rerun()

    if allowed(actor.role, Permission.ADMINISTER):
        st.markdown("#### Channels and recipients")
        mail_ready = bool(settings.smtp_url and settings.alert_email_from)
        st.caption(
            f"Slack webhook: {'set' if settings.slack_webhook_url else 'not set (SLACK_WEBHOOK_URL)'} · "
            f"SMTP: {'set' if mail_ready else 'not set (SMTP_URL, ALERT_EMAIL_FROM)'} · "
            "secrets come from the environment or secrets.toml, never from here."
        )
        cadences = list(notify.CADENCES)
        current = next(
            (name for name, minutes in notify.CADENCES.items() if minutes == config.digest_every_minutes),
            "hourly",
        )
        with st.form("alerts.settings"):
            slack_on = st.checkbox("Send digests to Slack", value=config.slack_enabled, key="alerts.slack")
            email_on = st.checkbox("Send digests by email", value=config.email_enabled, key="alerts.email")
            email_to = st.text_area(
                "Digest recipients (comma-separated; empty: ALERT_EMAIL_TO)",
                value=", ".join(config.email_to),
                key="alerts.email_to",
            )
            cadence = st.selectbox(
                "Digest cadence", cadences, index=cadences.index(current), key="alerts.cadence"
            )
            report_to = st.text_area(
                "Weekly report recipients (comma-separated; empty: the digest recipients)",
                value=", ".join(config.report_to),
                key="alerts.report_to",
            )
            if st.form_submit_button("Save", icon=":material/save:"):
                with resources.session() as session:
                    notify.save_config(
                        session,
                        notify.AlertConfig(
                            slack_enabled=slack_on,
                            email_enabled=email_on,
                            email_to=split_addresses(email_to),
                            digest_every_minutes=notify.CADENCES[cadence],
                            report_to=split_addresses(report_to),
                        ),
                        actor=actor,
                        now=datetime.now(UTC),
                    )
                st.session_state["alerts.notice"] = "Saved the alert settings."
                st.rerun()
        if config.updated_by and config.updated_at:
            st.caption(f"Last changed by {config.updated_by} at {config.updated_at:%Y-%m-%d %H:%M} UTC.")
