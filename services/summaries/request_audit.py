"""Every request to the AI model is written to the audit log before it is sent.

What was sent is recorded as a SHA-256 of the request (model and messages, canonical JSON) and the list
of fact keys it carried, with the endpoint it went to; never the text itself. The entry is written in its
own transaction (`audit.run_detached`), so it stays even if the caller rolls back; if it cannot be
written, the request is not sent.
"""

from __future__ import annotations

import hashlib
from datetime import datetime
from typing import Any

from sqlmodel import Session

from services import audit
from services.permissions import Actor
from services.summaries.facts import OrderFacts, canonical_json
from services.summaries.model import ModelConfig

ACTION = "model.request"
DEFAULT_ENDPOINT = "https://api.openai.com/v1"
OMITTED_KEYS = ("notes", "as_of")  # never sent as facts (see prompt.build_messages)


class RequestNotAudited(Exception):
    """The audit entry could not be written; the request must not go out."""


def request_digest(config: ModelConfig, messages: list[dict[str, str]]) -> str:
    return hashlib.sha256(canonical_json({"model": config.model, "messages": messages}).encode()).hexdigest()


def fact_keys(facts: OrderFacts) -> list[str]:
    """The facts' keys as sent, dotted one level deep ("store.items"), plus one per note source."""
    keys: list[str] = []
    for key, value in facts.document.items():
        if key in OMITTED_KEYS:
            continue
        keys.append(key)
        if isinstance(value, dict):
            keys += [f"{key}.{inner}" for inner in value]
    keys += [f"notes[{note['source']}]" for note in facts.document.get("notes", [])]
    return keys


def audit_model_request(
    session: Session,
    config: ModelConfig,
    messages: list[dict[str, str]],
    facts: OrderFacts,
    *,
    actor: Actor | None,
    at: datetime,
) -> None:
    params: dict[str, Any] = {
        "sha256": request_digest(config, messages),
        "fact_keys": fact_keys(facts),
        "endpoint": config.base_url or DEFAULT_ENDPOINT,
        "model": config.model,
    }
    if actor is not None and actor.os_user is not None:  # the CLI: name who ran it
        params["os_user"] = actor.os_user

    def write(own: Session) -> None:
        audit.append(
            own,
            actor=actor.username if actor is not None else "system",
            role=str(actor.role) if actor is not None and actor.os_user is None else None,
            action=ACTION,
            outcome=audit.Outcome.OK,
            order=facts.order[:64],
            params=params,
            at=at,
        )

    try:
        audit.run_detached(session, write)
    except Exception as exc:
        audit.log.exception("could not audit a model request for %s", facts.order)
        raise RequestNotAudited(str(exc)) from exc
