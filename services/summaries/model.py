"""The model call: streamed chat completions from any OpenAI-compatible endpoint.

`stream_completion` returns a :class:`ModelStream`, an iterator of text chunks as they arrive.
Before the first chunk, 429, 5xx, timeouts and connection failures are retried (at most
`max_retries` times, short backoff, Retry-After honoured when it is short); after the first chunk
nothing is retried, since the operator has already read part of the answer. Retries are bounded in
time too: none starts once `retry_budget_s` (default: the timeout) has passed since the first
attempt, so a hanging server costs the operator one timeout, not three. Every failure is raised
as :class:`ModelCallError` (a SummaryError) with a one-line reason; callers fall back.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, cast

import httpx
import openai

from services.errors import SummaryError
from services.settings import Settings

if TYPE_CHECKING:
    from openai.types.chat import ChatCompletionMessageParam

logger = logging.getLogger("services.summaries")

MAX_ANSWER_CHARS = 4000  # a paragraph is ~1000; stop reading a runaway answer instead of paying for it
CHARS_PER_TOKEN = 4  # the usual rough estimate when the server does not report usage


class ModelCallError(SummaryError):
    """The model call failed; `reason` is short and fit to show, `partial` says text was already yielded."""

    def __init__(
        self, reason: str, *, status: int | None = None, attempts: int = 1, partial: bool = False
    ) -> None:
        super().__init__(reason)
        self.reason, self.status, self.attempts, self.partial = reason, status, attempts, partial


@dataclass(frozen=True)
class ModelConfig:
    model: str
    api_key: str
    base_url: str | None
    timeout_s: float
    max_retries: int = 2
    backoff_s: float = 0.25  # doubled per retry
    max_wait_s: float = 2.0  # a longer Retry-After ends the retries: the operator is waiting
    retry_budget_s: float | None = None  # no retry starts after this long; None: timeout_s

    @classmethod
    def from_settings(cls, settings: Settings) -> ModelConfig | None:
        """None when no model is configured: a model name and an API key or a base URL are needed."""
        if not settings.openai_model or not (settings.openai_api_key or settings.openai_base_url):
            return None
        return cls(
            model=settings.openai_model,
            # Local OpenAI-compatible servers often need no key; the client insists on one.
            api_key=settings.openai_api_key or "not-needed",
            base_url=settings.openai_base_url,
            timeout_s=settings.openai_timeout_s,
        )


@dataclass(frozen=True)
class TokenUsage:
    prompt: int
    completion: int
    estimated: bool  # True when the server sent no usage and these are chars / 4

    @property
    def total(self) -> int:
        return self.prompt + self.completion


@dataclass(frozen=True)
class CallStats:
    first_token_ms: float | None
    total_ms: float
    tokens: TokenUsage
    attempts: int


class ModelStream:
    """Text chunks as the server sends them; `stats` is set once the stream is exhausted."""

    def __init__(self, chunks: Iterator[str], holder: dict[str, CallStats]) -> None:
        self._chunks, self._holder = chunks, holder

    def __iter__(self) -> Iterator[str]:
        return self._chunks

    @property
    def stats(self) -> CallStats:
        if "stats" not in self._holder:
            raise RuntimeError("the model stream has not been read to the end")
        return self._holder["stats"]


def make_client(config: ModelConfig) -> openai.OpenAI:
    return openai.OpenAI(
        base_url=config.base_url, api_key=config.api_key, timeout=config.timeout_s, max_retries=0
    )


def stream_completion(
    config: ModelConfig,
    messages: list[dict[str, str]],
    *,
    client: openai.OpenAI | None = None,
    sleep: Callable[[float], None] = time.sleep,
) -> ModelStream:
    """Start streaming the answer to `messages`; nothing is sent until the first chunk is asked for."""
    holder: dict[str, CallStats] = {}
    return ModelStream(_chunks(config, messages, client or make_client(config), sleep, holder), holder)


def _chunks(
    config: ModelConfig,
    messages: list[dict[str, str]],
    client: openai.OpenAI,
    sleep: Callable[[float], None],
    holder: dict[str, CallStats],
) -> Iterator[str]:
    started = time.perf_counter()
    stream, attempts = _open_with_retries(config, messages, client, sleep)
    first_token_ms: float | None = None
    answer: list[str] = []
    length = 0
    usage: Any = None
    finished = cut = False
    try:
        for chunk in stream:
            if chunk.usage is not None:
                usage = chunk.usage
            for choice in chunk.choices:
                finished = finished or bool(choice.finish_reason)
                # Only text is read: tool or function calls a server might send are ignored.
                text = choice.delta.content if choice.delta is not None else None
                if not text:
                    continue
                if first_token_ms is None:
                    first_token_ms = (time.perf_counter() - started) * 1000
                text = text[: MAX_ANSWER_CHARS - length]
                answer.append(text)
                length += len(text)
                yield text
            if length >= MAX_ANSWER_CHARS:
                logger.warning("model answer cut at %d characters", MAX_ANSWER_CHARS)
                cut = True
                break
    except (openai.APIError, httpx.HTTPError) as exc:
        raise ModelCallError(
            f"the model stream broke off: {_describe(exc)}",
            status=_status(exc),
            attempts=attempts,
            partial=first_token_ms is not None,
        ) from exc
    finally:
        stream.close()
    if not (finished or cut):  # the connection closed without a finish_reason: the answer is cut short
        raise ModelCallError(
            "the model stream ended before the answer was complete",
            attempts=attempts,
            partial=first_token_ms is not None,
        )
    total_ms = (time.perf_counter() - started) * 1000
    holder["stats"] = CallStats(first_token_ms, total_ms, _tokens(usage, messages, "".join(answer)), attempts)


def _open_with_retries(
    config: ModelConfig, messages: list[dict[str, str]], client: openai.OpenAI, sleep: Callable[[float], None]
) -> tuple[Any, int]:
    started = time.monotonic()
    budget = config.timeout_s if config.retry_budget_s is None else config.retry_budget_s
    attempt = 0
    while True:
        attempt += 1
        try:
            stream = client.chat.completions.create(
                model=config.model,
                messages=cast("list[ChatCompletionMessageParam]", messages),
                stream=True,
                stream_options={"include_usage": True},
            )
            return stream, attempt
        except (openai.APIError, httpx.HTTPError) as exc:
            wait = _retry_wait(exc, attempt, config)
            out_of_time = wait is not None and time.monotonic() - started + wait >= budget
            if wait is None or attempt > config.max_retries or out_of_time:
                raise ModelCallError(
                    _describe(exc) + (f" after {attempt} attempts" if attempt > 1 else ""),
                    status=_status(exc),
                    attempts=attempt,
                ) from exc
            logger.info(
                "model call attempt %d failed (%s); retrying in %.2f s", attempt, _describe(exc), wait
            )
            sleep(wait)


def _retry_wait(exc: Exception, attempt: int, config: ModelConfig) -> float | None:
    """Seconds to wait before the next attempt, or None when this failure is not worth retrying."""
    backoff = config.backoff_s * 2 ** (attempt - 1)
    if isinstance(exc, openai.APIStatusError):
        if exc.status_code != 429 and exc.status_code < 500:
            return None  # 400/401/403/404: the same request fails the same way
        retry_after = _retry_after(exc.response)
        if retry_after is not None:
            return retry_after if retry_after <= config.max_wait_s else None
        return min(backoff, config.max_wait_s)
    if isinstance(exc, openai.APIConnectionError | httpx.TransportError):  # timeouts included
        return min(backoff, config.max_wait_s)
    return None


def _retry_after(response: httpx.Response) -> float | None:
    value = response.headers.get("retry-after")
    try:
        return max(float(value), 0.0) if value is not None else None
    except ValueError:
        return None  # an HTTP date: too far ahead to wait for in any case


def _status(exc: Exception) -> int | None:
    return exc.status_code if isinstance(exc, openai.APIStatusError) else None


def _describe(exc: Exception) -> str:
    if isinstance(exc, openai.APIStatusError):
        kind = {429: "rate limited"}.get(
            exc.status_code, "server error" if exc.status_code >= 500 else "refused"
        )
        return f"{kind} (HTTP {exc.status_code})"
    if isinstance(exc, openai.APITimeoutError | httpx.TimeoutException):
        return "timed out"
    if isinstance(exc, openai.APIConnectionError | httpx.TransportError):
        return "connection failed"
    return type(exc).__name__


def _tokens(usage: Any, messages: list[dict[str, str]], answer: str) -> TokenUsage:
    if usage is not None and usage.prompt_tokens is not None and usage.completion_tokens is not None:
        return TokenUsage(prompt=usage.prompt_tokens, completion=usage.completion_tokens, estimated=False)
    prompt_chars = sum(len(m["content"]) for m in messages)
    return TokenUsage(
        prompt=-(-prompt_chars // CHARS_PER_TOKEN),
        completion=-(-len(answer) // CHARS_PER_TOKEN),
        estimated=True,
    )
