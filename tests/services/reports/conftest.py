"""A store of a few hundred orders, imported into the test's database (SQLite and PostgreSQL)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy.engine import Engine

from tests.services.notify.support import load, make_snapshot


@pytest.fixture(scope="module")
def snapshot(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return make_snapshot(tmp_path_factory.mktemp("world") / "snapshot")


@pytest.fixture
def loaded(engine: Engine, snapshot: Path) -> Iterator[Engine]:
    yield load(engine, snapshot)
