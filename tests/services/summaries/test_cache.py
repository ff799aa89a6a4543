"""The summary cache, on SQLite and PostgreSQL: the same facts never cost a second model call."""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime

from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from db.models.summaries import SummaryCache
from services.settings import Settings
from services.summaries import stream_summary, summarize
from tests.services.summaries.factories import at, sync_delay_mismatch_stalled
from tests.services.summaries.fake_openai import Fail, FakeOpenAI, Reply

ANSWER = (
    "Order #1044 shipped from the 3PL but the store has not synced; the tracking numbers do not match, "
    "and the parcel is stalled. A replacement already exists, so another one is blocked."
)
CREATED = datetime(2026, 7, 12, 16, 0, tzinfo=UTC)


def test_same_facts_are_answered_from_the_cache(
    fake_openai: FakeOpenAI, settings: Settings, engine: Engine
) -> None:
    fake_openai.queue(Reply(ANSWER, usage=(700, 50)))
    with Session(engine) as session:
        first = summarize(
            sync_delay_mismatch_stalled(), session=session, settings=settings, clock=lambda: CREATED
        )
    with Session(engine) as session:  # a new session: the row was committed
        second = summarize(sync_delay_mismatch_stalled(), session=session, settings=settings)
        row = session.exec(select(SummaryCache)).one()
    assert len(fake_openai.requests) == 1
    assert (first.cached, second.cached) == (False, True)
    assert second.text == first.text == ANSWER and second.engine == "model"
    assert second.model == "fake-model-1" and second.tokens == first.tokens
    assert (row.fingerprint, row.order_name, row.engine, row.created_at) == (
        first.fingerprint,
        "#1044",
        "model",
        CREATED,
    )
    assert (row.prompt_tokens, row.completion_tokens, row.tokens_estimated) == (700, 50, False)


def test_reading_the_same_data_again_still_hits(
    fake_openai: FakeOpenAI, settings: Settings, engine: Engine
) -> None:
    fake_openai.queue(Reply(ANSWER))
    detail = sync_delay_mismatch_stalled()
    reread = dataclasses.replace(
        detail, sources_as_of=dict.fromkeys(("store", "3pl", "carrier"), at("2026-07-12 13:00"))
    )
    with Session(engine) as session:
        summarize(detail, session=session, settings=settings)
        assert summarize(reread, session=session, settings=settings).cached is True
    assert len(fake_openai.requests) == 1


def test_changed_facts_get_a_new_summary(fake_openai: FakeOpenAI, settings: Settings, engine: Engine) -> None:
    fake_openai.queue(Reply(ANSWER), Reply(ANSWER + " It moved again on July 4."))
    with Session(engine) as session:
        before = summarize(sync_delay_mismatch_stalled(), session=session, settings=settings)
        after = summarize(sync_delay_mismatch_stalled(extra_scan=True), session=session, settings=settings)
        assert len(session.exec(select(SummaryCache)).all()) == 2
    assert len(fake_openai.requests) == 2
    assert after.cached is False and after.fingerprint != before.fingerprint
    assert after.text.endswith("It moved again on July 4.")


def test_fallback_is_not_cached_so_the_model_is_tried_again(
    fake_openai: FakeOpenAI, settings: Settings, engine: Engine
) -> None:
    fake_openai.queue(*[Fail(500, retry_after="0")] * 3, Reply(ANSWER))
    with Session(engine) as session:
        down = summarize(sync_delay_mismatch_stalled(), session=session, settings=settings)
        back = summarize(sync_delay_mismatch_stalled(), session=session, settings=settings)
        again = summarize(sync_delay_mismatch_stalled(), session=session, settings=settings)
    assert (down.engine, back.engine, again.engine) == ("fallback", "model", "model")
    assert (back.cached, again.cached) == (False, True)
    assert len(fake_openai.requests) == 4


def test_a_cache_hit_streams_at_once(fake_openai: FakeOpenAI, settings: Settings, engine: Engine) -> None:
    fake_openai.queue(Reply(ANSWER))
    with Session(engine) as session:
        summarize(sync_delay_mismatch_stalled(), session=session, settings=settings)
        stream = stream_summary(sync_delay_mismatch_stalled(), session=session, settings=settings)
        assert list(stream) == [ANSWER]
        assert stream.result.cached is True
    assert len(fake_openai.requests) == 1


def test_a_cached_answer_serves_even_when_the_model_is_gone(
    fake_openai: FakeOpenAI, settings: Settings, no_model_settings: Settings, engine: Engine
) -> None:
    fake_openai.queue(Reply(ANSWER))
    with Session(engine) as session:
        summarize(sync_delay_mismatch_stalled(), session=session, settings=settings)
        offline = summarize(sync_delay_mismatch_stalled(), session=session, settings=no_model_settings)
    assert offline.engine == "model" and offline.cached is True


def test_two_writers_racing_on_the_same_facts(
    fake_openai: FakeOpenAI, settings: Settings, engine: Engine
) -> None:
    fake_openai.answer_always(Reply(ANSWER))
    with Session(engine) as first, Session(engine) as second:
        a = stream_summary(sync_delay_mismatch_stalled(), session=first, settings=settings)
        b = stream_summary(sync_delay_mismatch_stalled(), session=second, settings=settings)
        next(a), next(b)  # both looked the cache up before either wrote
        list(a), list(b)
        assert a.result.engine == b.result.engine == "model"
    with Session(engine) as session:
        assert len(session.exec(select(SummaryCache)).all()) == 1
