"""Delivery: a JSON post to a Slack incoming webhook (httpx), a message to an SMTP server (smtplib).

Either raises `DeliveryError` naming the channel, with the cause in one line and no secret in it.
"""

from __future__ import annotations

import smtplib
import ssl
from dataclasses import dataclass
from email.message import EmailMessage
from typing import Any
from urllib.parse import unquote, urlsplit

import httpx

from services.errors import ConfigurationError, DeliveryError


def post_slack(webhook_url: str, payload: dict[str, Any], *, channel: str, timeout: float = 10.0) -> None:
    """POST `payload` to the webhook; anything but a 2xx is a failure (Slack answers 200 "ok")."""
    try:
        response = httpx.post(webhook_url, json=payload, timeout=timeout)
    except httpx.HTTPError as exc:
        raise DeliveryError(f"Slack webhook unreachable: {type(exc).__name__}", channel=channel) from exc
    if not response.is_success:
        body = response.text.strip().splitlines()[0][:120] if response.text.strip() else ""
        raise DeliveryError(f"Slack webhook answered {response.status_code} {body}".rstrip(), channel=channel)


@dataclass(frozen=True)
class SmtpServer:
    host: str
    port: int
    implicit_tls: bool  # smtps://: TLS from the first byte; smtp://: STARTTLS when the server offers it
    username: str | None
    password: str | None

    @classmethod
    def parse(cls, url: str) -> SmtpServer:
        """`smtp://user:pass@host:587` or `smtps://user:pass@host:465`; user and password are optional."""
        parts = urlsplit(url)
        if parts.scheme not in ("smtp", "smtps") or not parts.hostname:
            raise ConfigurationError(
                "SMTP_URL must look like smtp://user:pass@host:587 or smtps://host:465", setting="SMTP_URL"
            )
        try:
            port = parts.port or (465 if parts.scheme == "smtps" else 587)
        except ValueError:
            raise ConfigurationError("SMTP_URL has an invalid port", setting="SMTP_URL") from None
        return cls(
            host=parts.hostname,
            port=port,
            implicit_tls=parts.scheme == "smtps",
            username=unquote(parts.username) if parts.username else None,
            password=unquote(parts.password) if parts.password else None,
        )


def send_email(smtp_url: str, message: EmailMessage, *, channel: str, timeout: float = 10.0) -> None:
    """Send `message` through the server `smtp_url` names, upgrading to TLS whenever it is offered."""
    server = SmtpServer.parse(smtp_url)
    context = ssl.create_default_context()
    try:
        client: smtplib.SMTP
        if server.implicit_tls:
            client = smtplib.SMTP_SSL(server.host, server.port, timeout=timeout, context=context)
        else:
            client = smtplib.SMTP(server.host, server.port, timeout=timeout)
        with client:
            client.ehlo()
            if not server.implicit_tls and client.has_extn("starttls"):
                client.starttls(context=context)
                client.ehlo()
            if server.username:
                client.login(server.username, server.password or "")
            refused = client.send_message(message)
    except (OSError, smtplib.SMTPException) as exc:
        reason = str(exc).splitlines()[0][:160] if str(exc) else type(exc).__name__
        raise DeliveryError(f"SMTP {server.host}:{server.port}: {reason}", channel=channel) from exc
    if refused:
        raise DeliveryError(f"SMTP refused {', '.join(sorted(refused))}", channel=channel)
