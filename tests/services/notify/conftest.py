from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy.engine import Engine

from tests.services.notify.sinks import SlackSink, SmtpSink
from tests.services.notify.support import load, make_snapshot


@pytest.fixture(scope="session")
def snapshot(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return make_snapshot(tmp_path_factory.mktemp("world") / "snapshot")


@pytest.fixture
def loaded(engine: Engine, snapshot: Path) -> Engine:
    return load(engine, snapshot)


@pytest.fixture
def slack() -> Iterator[SlackSink]:
    sink = SlackSink()
    yield sink
    sink.close()


@pytest.fixture
def smtp() -> Iterator[SmtpSink]:
    sink = SmtpSink()
    yield sink
    sink.close()
