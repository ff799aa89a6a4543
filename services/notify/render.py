"""A digest as a Slack Block Kit message and as a multipart (text and HTML) email."""

from __future__ import annotations

from email.message import EmailMessage
from html import escape
from typing import Any

from services.notify.digest import Digest, Line

SECTION_LIMIT = 2900  # Slack refuses a section text over 3000 characters


def _slack_escape(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _slack_line(line: Line) -> str:
    due = f" · due {line.due}" if line.due else ""
    detail = f" · {_slack_escape(line.detail)}" if line.detail else ""
    return f"• <{line.link}|{_slack_escape(line.order)}> *{line.kind}*{due}{detail}"


def slack_message(digest: Digest) -> dict[str, Any]:
    """Block Kit: a header, one section per owner (split when long), and the count of the rest."""
    blocks: list[dict[str, Any]] = [
        {"type": "header", "text": {"type": "plain_text", "text": digest.subject[:150]}},
    ]
    for owner, lines in digest.groups:
        text = f"*{_slack_escape(owner)}*"
        for line in lines:
            entry = _slack_line(line)
            if len(text) + 1 + len(entry) > SECTION_LIMIT:
                blocks.append({"type": "section", "text": {"type": "mrkdwn", "text": text}})
                text = f"*{_slack_escape(owner)}* (continued)"
            text += "\n" + entry
        blocks.append({"type": "section", "text": {"type": "mrkdwn", "text": text}})
    if digest.more:
        blocks.append(
            {
                "type": "context",
                "elements": [
                    {
                        "type": "mrkdwn",
                        "text": f"…and {digest.more} more: <{digest.queue_link}|open the queue>",
                    }
                ],
            }
        )
    return {"text": digest.subject, "blocks": blocks}


def text_body(digest: Digest) -> str:
    parts = [digest.subject, ""]
    for owner, lines in digest.groups:
        parts.append(f"{owner}:")
        for line in lines:
            due = f", due {line.due}" if line.due else ""
            detail = f": {line.detail}" if line.detail else ""
            parts.append(f"  {line.order} {line.kind}{due}{detail}")
            parts.append(f"    {line.link}")
        parts.append("")
    if digest.more:
        parts.append(f"…and {digest.more} more: {digest.queue_link}")
    return "\n".join(parts).rstrip() + "\n"


def _html_body(digest: Digest) -> str:
    rows = []
    for owner, lines in digest.groups:
        rows.append(f'<h3 style="margin:16px 0 4px">{escape(owner)}</h3><ul>')
        for line in lines:
            due = f", due {escape(line.due)}" if line.due else ""
            detail = f": {escape(line.detail)}" if line.detail else ""
            rows.append(
                f'<li><a href="{escape(line.link)}">{escape(line.order)}</a> '
                f"<strong>{escape(line.kind)}</strong>{due}{detail}</li>"
            )
        rows.append("</ul>")
    if digest.more:
        rows.append(
            f'<p>…and {digest.more} more: <a href="{escape(digest.queue_link)}">open the queue</a></p>'
        )
    return (
        '<!doctype html><html><body style="font-family:sans-serif">'
        f"<h2>{escape(digest.subject)}</h2>{''.join(rows)}</body></html>"
    )


def email_message(digest: Digest, *, sender: str, recipients: tuple[str, ...]) -> EmailMessage:
    message = EmailMessage()
    message["Subject"] = digest.subject
    message["From"] = sender
    message["To"] = ", ".join(recipients)
    message.set_content(text_body(digest))
    message.add_alternative(_html_body(digest), subtype="html")
    return message
