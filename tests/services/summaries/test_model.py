"""The model call against the loopback server: streaming, retries, timeouts, token counts."""

from __future__ import annotations

import dataclasses
import time

import openai
import pytest

from services.settings import Settings
from services.summaries.model import ModelCallError, ModelConfig, TokenUsage, stream_completion
from tests.services.summaries.fake_openai import Fail, FakeOpenAI, Hang, Reply

MESSAGES = [{"role": "system", "content": "Be brief."}, {"role": "user", "content": "Order #1 shipped."}]


def _config(settings: Settings, *, retry_budget_s: float | None = None) -> ModelConfig:
    config = ModelConfig.from_settings(settings)
    assert config is not None
    return dataclasses.replace(config, retry_budget_s=retry_budget_s)


def test_configured_only_with_a_model_and_a_key_or_url() -> None:
    assert (
        ModelConfig.from_settings(Settings(openai_model=None, openai_api_key="k", openai_base_url=None))
        is None
    )
    assert (
        ModelConfig.from_settings(Settings(openai_model="m", openai_api_key=None, openai_base_url=None))
        is None
    )
    local = ModelConfig.from_settings(
        Settings(openai_model="m", openai_api_key=None, openai_base_url="http://x/v1")
    )
    assert local is not None and local.api_key == "not-needed"


def test_streams_text_and_reads_usage(fake_openai: FakeOpenAI, settings: Settings) -> None:
    fake_openai.queue(Reply("Order one is on its way to the customer.", usage=(321, 42)))
    stream = stream_completion(_config(settings), MESSAGES)
    chunks = list(stream)
    assert len(chunks) > 1
    assert "".join(chunks) == "Order one is on its way to the customer."
    assert stream.stats.tokens == TokenUsage(prompt=321, completion=42, estimated=False)
    assert stream.stats.first_token_ms is not None and stream.stats.first_token_ms <= stream.stats.total_ms
    body = fake_openai.requests[0].json
    assert body["stream"] is True and body["stream_options"] == {"include_usage": True}
    assert body["model"] == "fake-model-1" and body["messages"] == MESSAGES


def test_tokens_are_estimated_and_labelled_when_the_server_sends_no_usage(
    fake_openai: FakeOpenAI, settings: Settings
) -> None:
    fake_openai.queue(Reply("Twelve characters and a bit more", usage=None))
    stream = stream_completion(_config(settings), MESSAGES)
    list(stream)
    assert stream.stats.tokens.estimated is True
    assert stream.stats.tokens.completion == 8  # 32 characters / 4
    assert stream.stats.tokens.prompt > 0


def test_retry_after_is_honoured_then_the_answer_arrives(fake_openai: FakeOpenAI, settings: Settings) -> None:
    fake_openai.queue(Fail(429, retry_after="1"), Fail(503), Reply("Done."))
    waits: list[float] = []
    stream = stream_completion(_config(settings, retry_budget_s=10), MESSAGES, sleep=waits.append)
    assert "".join(stream) == "Done."
    assert waits == [1.0, 0.5]  # Retry-After, then the second backoff step
    assert stream.stats.attempts == 3
    assert len(fake_openai.requests) == 3


def test_at_most_two_retries(fake_openai: FakeOpenAI, settings: Settings) -> None:
    fake_openai.queue(Fail(500), Fail(500), Fail(500), Reply("never read"))
    with pytest.raises(ModelCallError) as failure:
        list(stream_completion(_config(settings, retry_budget_s=10), MESSAGES, sleep=lambda _: None))
    assert failure.value.reason == "server error (HTTP 500) after 3 attempts"
    assert failure.value.status == 500 and not failure.value.partial
    assert len(fake_openai.requests) == 3


def test_no_retry_on_a_client_error_or_a_long_retry_after(
    fake_openai: FakeOpenAI, settings: Settings
) -> None:
    fake_openai.queue(Fail(401), Fail(429, retry_after="30"))
    with pytest.raises(ModelCallError, match=r"refused \(HTTP 401\)"):
        list(stream_completion(_config(settings), MESSAGES, sleep=lambda _: None))
    with pytest.raises(ModelCallError, match=r"rate limited \(HTTP 429\)"):
        list(stream_completion(_config(settings), MESSAGES, sleep=lambda _: None))
    assert len(fake_openai.requests) == 2


def test_a_hang_times_out_and_is_retried_within_the_budget(
    fake_openai: FakeOpenAI, settings: Settings
) -> None:
    fake_openai.queue(Hang(), Reply("Back again."))
    stream = stream_completion(_config(settings, retry_budget_s=10), MESSAGES, sleep=lambda _: None)
    assert "".join(stream) == "Back again."
    assert stream.stats.attempts == 2


def test_no_retry_starts_after_the_budget(fake_openai: FakeOpenAI, settings: Settings) -> None:
    fake_openai.queue(Hang(), Reply("too late to ask"))
    started = time.monotonic()
    with pytest.raises(ModelCallError) as failure:
        list(stream_completion(_config(settings), MESSAGES))  # budget = the 0.5 s timeout
    assert failure.value.reason == "timed out" and failure.value.attempts == 1
    assert time.monotonic() - started < 2
    assert len(fake_openai.requests) == 1


def test_nothing_is_retried_after_the_first_chunk(fake_openai: FakeOpenAI, settings: Settings) -> None:
    fake_openai.queue(
        Reply("one two three four five six", words_per_chunk=2, hang_after_chunks=1), Reply("x")
    )
    received: list[str] = []
    with pytest.raises(ModelCallError) as failure:
        for chunk in stream_completion(_config(settings), MESSAGES, sleep=lambda _: None):
            received.append(chunk)
    assert received == ["one two "]
    assert failure.value.partial and failure.value.reason == "the model stream broke off: timed out"
    assert len(fake_openai.requests) == 1


def test_an_answer_cut_short_is_a_failure(fake_openai: FakeOpenAI, settings: Settings) -> None:
    fake_openai.queue(Reply("half an answer", finish=False))
    with pytest.raises(ModelCallError, match="ended before the answer was complete"):
        list(stream_completion(_config(settings), MESSAGES))


def test_tool_calls_are_ignored(fake_openai: FakeOpenAI, settings: Settings) -> None:
    fake_openai.queue(Reply("Only words.", tool_call=True))
    assert "".join(stream_completion(_config(settings), MESSAGES)) == "Only words."


def test_fake_server_also_answers_plain_requests(fake_openai: FakeOpenAI, settings: Settings) -> None:
    fake_openai.queue(Reply("A plain answer."))
    client = openai.OpenAI(base_url=fake_openai.url, api_key="k", max_retries=0, timeout=2)
    answer = client.chat.completions.create(model="m", messages=[{"role": "user", "content": "hi"}])
    assert answer.choices[0].message.content == "A plain answer."
    assert answer.usage is not None and answer.usage.prompt_tokens == 321
    assert fake_openai.requests[0].json["messages"] == [{"role": "user", "content": "hi"}]
