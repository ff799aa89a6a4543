"""One summary of one order: cache, model, completion lines and fallback, streamed as text chunks."""

from __future__ import annotations

import logging
import re
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Literal

from sqlmodel import Session

from db.models.summaries import SummaryCache
from services.lookup.detail import OrderDetail
from services.permissions import Actor
from services.settings import Settings
from services.summaries.cache import get_cached_summary, store_summary
from services.summaries.completion import completion_lines
from services.summaries.facts import OrderFacts, build_facts
from services.summaries.fallback import fallback_text
from services.summaries.model import ModelCallError, ModelConfig, TokenUsage, stream_completion
from services.summaries.prompt import build_messages
from services.summaries.redact import Redactor, redact_facts, redactor_for
from services.summaries.request_audit import RequestNotAudited, audit_model_request

logger = logging.getLogger("services.summaries")

Engine = Literal["model", "fallback"]
Clock = Callable[[], datetime]
NO_MODEL = "no AI model configured"
NOT_REDACTED = "personal data could not be removed, so nothing was sent to the AI model"
NOT_AUDITED = "the AI request could not be written to the audit log, so it was not sent"
EMPTY_ANSWER = "the model returned no text"
BROKE_OFF_SEPARATOR = "\n\n--- The AI summary broke off; the rule-based summary follows. ---\n\n"
# Every character Markdown or Streamlit's directives (`:red[…]`, `:material/…:`) give meaning to.
_MARKDOWN_SPECIAL = re.compile(r"([\\`*_\[\]<>#|~$!+\-{}():=&])")


@dataclass(frozen=True)
class Summary:
    """What the operator read. `text` is exactly the concatenation of the streamed chunks."""

    order: str
    engine: Engine
    text: str
    model: str | None
    cached: bool
    fallback_reason: str | None
    latency_ms: (
        float | None
    )  # model: first request to last chunk (the original call if cached); fallback: whole wait
    tokens: TokenUsage | None
    first_token_ms: float | None = None
    fingerprint: str = ""


class SummaryStream:
    """Text chunks for the page (`st.write_stream`); `result` is the Summary once the stream is exhausted.

    Single use. Nothing is sent to the model before the first chunk is asked for.
    """

    def __init__(self, chunks: Iterator[str], holder: dict[str, Summary]) -> None:
        self._chunks, self._holder = chunks, holder

    def __iter__(self) -> Iterator[str]:
        return self

    def __next__(self) -> str:
        return next(self._chunks)

    @property
    def result(self) -> Summary:
        if "summary" not in self._holder:
            raise RuntimeError("the summary stream has not been read to the end")
        return self._holder["summary"]

    def markdown_safe(self) -> Iterator[str]:
        """The same chunks escaped for a Markdown renderer: model text stays plain text (no links, images)."""
        for chunk in self:
            yield escape_markdown(chunk)


def escape_markdown(text: str) -> str:
    return _MARKDOWN_SPECIAL.sub(r"\\\1", text).replace("\n", "  \n")


def stream_summary(
    detail: OrderDetail,
    *,
    session: Session,
    settings: Settings,
    clock: Clock | None = None,
    actor: Actor | None = None,
) -> SummaryStream:
    """Stream the summary of `detail`: a cached answer at once, else the model's chunks as they arrive,
    else (no model, or it failed) the rule-based summary; then an "Also: …" line for every
    discrepancy or blocked check the text left out. Never raises for a model failure.

    A model answer is written to `summary_cache` and the session is committed (it was paid for);
    the cache is looked up even when no model is configured. For a Markdown renderer such as
    `st.write_stream`, iterate `.markdown_safe()` so the answer stays plain text.

    Private data: only redacted facts are sent; when redaction fails, or the finished request still
    holds a known personal item, or the request cannot be audited (as `actor`, else `system`), the
    rule-based summary is shown and nothing is sent (fail closed)."""
    holder: dict[str, Summary] = {}
    chunks = _summary_chunks(detail, session, settings, clock or _utcnow, holder, actor)
    return SummaryStream(chunks, holder)


def summarize(
    detail: OrderDetail,
    *,
    session: Session,
    settings: Settings,
    clock: Clock | None = None,
    actor: Actor | None = None,
) -> Summary:
    """The summary of `detail`, read to the end (the CLI and tests); see :func:`stream_summary`."""
    stream = stream_summary(detail, session=session, settings=settings, clock=clock, actor=actor)
    for _ in stream:
        pass
    return stream.result


def summary_as_json(summary: Summary) -> dict[str, str]:
    """The CLI's `summarize --json` document."""
    return {"order": summary.order, "engine": summary.engine, "summary": summary.text}


def _redacted(detail: OrderDetail) -> tuple[OrderFacts, Redactor | None]:
    """The redacted facts and their redactor; on any failure the raw facts (for the local fallback
    only) and None, which keeps everything from the model."""
    try:
        redactor = redactor_for(detail.view)
        return redact_facts(build_facts(detail), detail.view, redactor=redactor), redactor
    except Exception:
        logger.exception("redaction failed for %s; no AI summary", detail.name)
        return build_facts(detail), None


def _summary_chunks(
    detail: OrderDetail,
    session: Session,
    settings: Settings,
    clock: Clock,
    holder: dict[str, Summary],
    actor: Actor | None,
) -> Iterator[str]:
    started = time.perf_counter()
    facts, redactor = _redacted(detail)
    if redactor is None:
        yield from _fallback_chunks(detail.name, facts, NOT_REDACTED, holder, started)
        return
    cached = get_cached_summary(session=session, fingerprint=facts.fingerprint)
    if cached is not None:
        yield cached.text
        holder["summary"] = _from_cache(detail.name, cached)
        _log(holder["summary"])
        return
    config = ModelConfig.from_settings(settings)
    if config is None:
        yield from _fallback_chunks(detail.name, facts, NO_MODEL, holder, started)
        return
    messages = build_messages(facts)
    leaks = redactor.leaks(messages[-1]["content"])
    if leaks:
        logger.error("redaction left %d personal item(s) in the request for %s", len(leaks), detail.name)
        yield from _fallback_chunks(detail.name, facts, NOT_REDACTED, holder, started)
        return
    try:
        audit_model_request(session, config, messages, facts, actor=actor, at=clock())
    except RequestNotAudited:
        yield from _fallback_chunks(detail.name, facts, NOT_AUDITED, holder, started)
        return
    answer: list[str] = []
    try:
        stream = stream_completion(config, messages)
        for chunk in stream:
            answer.append(chunk)
            yield chunk
        stats = stream.stats
    except ModelCallError as exc:
        yield from _fallback_chunks(detail.name, facts, exc.reason, holder, started, partial="".join(answer))
        return
    except Exception as exc:  # the operator still gets a summary; the traceback goes to the log
        logger.exception("unexpected failure of the model call for %s", detail.name)
        reason = f"unexpected error ({type(exc).__name__})"
        yield from _fallback_chunks(detail.name, facts, reason, holder, started, partial="".join(answer))
        return
    text = "".join(answer)
    if not text.strip():
        yield from _fallback_chunks(detail.name, facts, EMPTY_ANSWER, holder, started, partial=text)
        return
    for line in completion_lines(text, facts.document):
        chunk = f"\n{line}"
        text += chunk
        yield chunk
    summary = Summary(
        order=detail.name,
        engine="model",
        text=text,
        model=config.model,
        cached=False,
        fallback_reason=None,
        latency_ms=stats.total_ms,
        tokens=stats.tokens,
        first_token_ms=stats.first_token_ms,
        fingerprint=facts.fingerprint,
    )
    store_summary(session=session, entry=_cache_entry(summary, clock()))
    holder["summary"] = summary
    _log(summary)


def _fallback_chunks(
    order: str,
    facts: OrderFacts,
    reason: str,
    holder: dict[str, Summary],
    started: float,
    *,
    partial: str = "",
) -> Iterator[str]:
    """The rule-based summary (after a separator when part of a model answer was already shown).

    Its latency is the operator's whole wait, failed model attempts included.
    """
    text = fallback_text(facts.document, reason)
    text += "".join(f"\n{line}" for line in completion_lines(text, facts.document))
    prefix = BROKE_OFF_SEPARATOR if partial.strip() else ""
    yield prefix + text
    holder["summary"] = Summary(
        order=order,
        engine="fallback",
        text=partial + prefix + text,
        model=None,
        cached=False,
        fallback_reason=reason,
        latency_ms=(time.perf_counter() - started) * 1000,
        tokens=None,
        fingerprint=facts.fingerprint,
    )
    _log(holder["summary"])


def _from_cache(order: str, entry: SummaryCache) -> Summary:
    tokens = (
        TokenUsage(entry.prompt_tokens, entry.completion_tokens, entry.tokens_estimated)
        if entry.prompt_tokens is not None and entry.completion_tokens is not None
        else None
    )
    return Summary(
        order=order,
        engine="model",
        text=entry.text,
        model=entry.model,
        cached=True,
        fallback_reason=None,
        latency_ms=entry.latency_ms,
        tokens=tokens,
        first_token_ms=entry.first_token_ms,
        fingerprint=entry.fingerprint,
    )


def _cache_entry(summary: Summary, now: datetime) -> SummaryCache:
    return SummaryCache(
        fingerprint=summary.fingerprint,
        order_name=summary.order,
        engine=summary.engine,
        model=summary.model,
        text=summary.text,
        created_at=now,
        first_token_ms=summary.first_token_ms,
        latency_ms=summary.latency_ms,
        prompt_tokens=summary.tokens.prompt if summary.tokens else None,
        completion_tokens=summary.tokens.completion if summary.tokens else None,
        tokens_estimated=summary.tokens.estimated if summary.tokens else False,
    )


def _log(summary: Summary) -> None:
    tokens = summary.tokens
    logger.info(
        "summary order=%s engine=%s model=%s cached=%s first_token_ms=%s latency_ms=%s "
        "prompt_tokens=%s completion_tokens=%s tokens_estimated=%s fallback_reason=%s",
        summary.order,
        summary.engine,
        summary.model,
        summary.cached,
        _ms(summary.first_token_ms),
        _ms(summary.latency_ms),
        tokens.prompt if tokens else None,
        tokens.completion if tokens else None,
        tokens.estimated if tokens else None,
        summary.fallback_reason,
    )


def _ms(value: float | None) -> str | None:
    return None if value is None else f"{value:.0f}"


def _utcnow() -> datetime:
    return datetime.now(UTC)
