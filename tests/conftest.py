"""Shared fixtures: a fresh, migrated database per test (SQLite file, or a PostgreSQL schema)."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import text
from sqlalchemy.engine import Engine

from db.migrate import upgrade
from db.session import make_engine

SAMPLES = Path(__file__).resolve().parents[2] / "shared" / "samples"
if not SAMPLES.is_dir():  # CI lays shared/ beside the clone; a copy in the repo serves elsewhere
    SAMPLES = Path(__file__).resolve().parent / "fixtures" / "samples"
SMALL_STORE = SAMPLES / "small-store"
TEST_AUDIT_KEY = "test-audit-key-Qm9yZGVyLXJlY29uLXRlc3Qta2V5LW5vdC1zZWNyZXQ"
# Also for session-scoped fixtures, which are built before any function-scoped monkeypatch.
os.environ.setdefault("AUDIT_KEY", TEST_AUDIT_KEY)


def _sqlite_engine(tmp_path: Path) -> Engine:
    engine = make_engine(f"sqlite:///{tmp_path / 'test.db'}")
    upgrade(engine)
    return engine


def _postgres_engine() -> Iterator[Engine]:
    url = os.environ.get("TEST_DATABASE_URL")
    if not url:
        pytest.skip("TEST_DATABASE_URL is not set")
    schema = f"t_{uuid.uuid4().hex[:12]}"
    admin = make_engine(url)
    with admin.begin() as conn:
        conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    engine = make_engine(url, connect_args={"options": f"-csearch_path={schema}"})
    try:
        upgrade(engine)
        yield engine
    finally:
        engine.dispose()
        with admin.begin() as conn:
            conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()


@pytest.fixture
def sqlite_engine(tmp_path: Path) -> Iterator[Engine]:
    engine = _sqlite_engine(tmp_path)
    yield engine
    engine.dispose()


@pytest.fixture
def pg_engine() -> Iterator[Engine]:
    yield from _postgres_engine()


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def engine(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Engine]:
    """Every test using this runs once on SQLite and once on PostgreSQL."""
    if request.param == "sqlite":
        eng = _sqlite_engine(tmp_path)
        yield eng
        eng.dispose()
    else:
        yield from _postgres_engine()


@pytest.fixture(autouse=True)
def _keep_main_module() -> Iterator[None]:
    """AppTest runs the app as `__main__`; restore it so processes spawned later import the right module."""
    import sys

    main = sys.modules.get("__main__")
    yield
    if main is not None:
        sys.modules["__main__"] = main


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Browser tests last: Playwright keeps an event loop running for the rest of the session."""
    items.sort(key=lambda item: item.get_closest_marker("e2e") is not None)


@pytest.fixture(autouse=True)
def _no_developer_secrets(
    tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch
) -> Iterator[None]:
    """Nothing comes from the checkout's `.streamlit/secrets.toml`, which `make run` writes pointing at
    the demo's simulator (gone by the time the tests run). The settings read it directly, and Streamlit
    reads it beside Home.py and copies its top-level values into the environment, where every later
    test would find them. Tests that need secrets set their own."""
    from streamlit import config

    from services import settings

    nowhere = tmp_path_factory.getbasetemp() / "no-secrets.toml"
    monkeypatch.setattr(settings, "SECRETS_PATH", nowhere)
    # The audit log needs a key outside demo mode; tests that are about the key set their own.
    monkeypatch.setenv("AUDIT_KEY", TEST_AUDIT_KEY)
    config.set_option("secrets.files", [str(nowhere)])
    settings.get_settings.cache_clear()
    yield
    settings.get_settings.cache_clear()
