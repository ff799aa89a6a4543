"""Fixtures for the summary tests: the loopback OpenAI-compatible server, settings, sessions.

Privacy is checked on every request the fake server receives: after each test, and once more over
the whole session at the end.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy.engine import Engine
from sqlmodel import Session

from db.migrate import upgrade
from db.session import make_engine
from services.settings import Settings
from tests.services.summaries.factories import PERSONAL_DATA
from tests.services.summaries.fake_openai import FakeOpenAI, RecordedRequest


def personal_data_in(request: RecordedRequest) -> list[str]:
    """Every personal-data form found in the raw bytes of `request` (as sent, and JSON-unescaped)."""
    raw = request.body
    decoded = raw.decode("utf-8", errors="replace")
    try:
        unescaped = json.dumps(json.loads(raw), ensure_ascii=False)
    except ValueError:
        unescaped = decoded
    found = []
    for form in PERSONAL_DATA:
        escaped = json.dumps(form)[1:-1]  # "Núñez" as the \u-escaped form json.dumps would send
        if (
            form.encode() in raw
            or escaped.encode() in raw
            or form.lower() in decoded.lower()
            or form.lower() in unescaped.lower()
        ):
            found.append(form)
    return found


@pytest.fixture(scope="session")
def openai_server() -> Iterator[FakeOpenAI]:
    server = FakeOpenAI().start()
    yield server
    server.stop()
    leaks = {i: personal_data_in(r) for i, r in enumerate(server.all_requests) if personal_data_in(r)}
    assert not leaks, f"personal data reached the model endpoint: {leaks}"


@pytest.fixture(autouse=True)
def no_personal_data_leaves(openai_server: FakeOpenAI) -> Iterator[None]:
    """After every test: no request body the server received contains the customer's data."""
    yield
    for request in openai_server.requests:
        leaks = personal_data_in(request)
        assert not leaks, f"personal data reached the model endpoint: {leaks}"
        assert not set(request.json) & {"tools", "functions", "tool_choice", "function_call"}


@pytest.fixture
def fake_openai(openai_server: FakeOpenAI) -> Iterator[FakeOpenAI]:
    openai_server.reset()
    yield openai_server
    openai_server.release_hangs()  # keeps the requests: the privacy check reads them after this


@pytest.fixture
def settings(fake_openai: FakeOpenAI) -> Settings:
    return Settings(
        openai_api_key="sk-test-not-a-real-key",
        openai_base_url=fake_openai.url,
        openai_model="fake-model-1",
        openai_timeout_s=0.5,
    )


@pytest.fixture
def no_model_settings() -> Settings:
    return Settings(openai_api_key=None, openai_base_url=None, openai_model=None)


@pytest.fixture
def db_engine(tmp_path: Path) -> Iterator[Engine]:
    """A migrated SQLite database, for tests that are not about the cache itself."""
    engine = make_engine(f"sqlite:///{tmp_path / 'summaries.db'}")
    upgrade(engine)
    yield engine
    engine.dispose()


@pytest.fixture
def session(db_engine: Engine) -> Iterator[Session]:
    with Session(db_engine, expire_on_commit=False) as session:
        yield session
