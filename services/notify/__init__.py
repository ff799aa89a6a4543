"""Digests of new breaches and discrepancies to Slack and email, each announced once per channel (SPEC §9).

items      what a channel has not been told yet (the queue's and discrepancies' own queries)
digest     what a digest holds: the oldest 50 grouped by owner, a count of the rest
render     the digest as Block Kit JSON and as a multipart email
transport  Slack webhook (httpx) and SMTP (smtplib) delivery
config     the admin's settings, users' choices, the channels they configure
run        one run: send, then record what was sent and mark it announced in one transaction
"""

from services.notify.config import (
    CADENCES,
    AlertConfig,
    Channel,
    configured_channels,
    load_config,
    own_claims_digest,
    report_recipients,
    save_config,
    set_own_claims_digest,
)
from services.notify.digest import CAP, Digest
from services.notify.render import email_message, slack_message
from services.notify.run import ChannelOutcome, NotifyResult, notify
from services.notify.transport import post_slack, send_email

__all__ = [
    "CADENCES",
    "CAP",
    "AlertConfig",
    "Channel",
    "ChannelOutcome",
    "Digest",
    "NotifyResult",
    "configured_channels",
    "email_message",
    "load_config",
    "notify",
    "own_claims_digest",
    "post_slack",
    "report_recipients",
    "save_config",
    "send_email",
    "set_own_claims_digest",
    "slack_message",
]
