"""Shared fixtures: a fresh, migrated database per test (SQLite file, or a PostgreSQL schema), copied
from a template migrated once per test process."""

from __future__ import annotations

import os
import shutil
import subprocess
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

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


class _Templates:
    """One migrated database per test process, copied for each test: migrating takes 0.3-0.7 s, a copy
    a few milliseconds. SQLite copies the file; PostgreSQL replays a `pg_dump` of a migrated template
    schema under the test's own schema name (without pg_dump, each test migrates its own)."""

    def __init__(self, base: Path) -> None:
        self.base = base
        self._sqlite: Path | None = None
        self._postgres: str | None = None

    def sqlite_copy(self, target: Path) -> None:
        if self._sqlite is None:
            path = self.base / "template.db"
            engine = make_engine(f"sqlite:///{path}")
            upgrade(engine)
            engine.dispose()  # the last connection closed: the WAL is folded into the file
            self._sqlite = path
        shutil.copyfile(self._sqlite, target)
        os.chmod(target, 0o600)

    def postgres_create(self, admin: Engine, schema: str) -> bool:
        """Create `schema` as a copy of the migrated template; False when pg_dump is not available."""
        if self._postgres is None:
            dump = _postgres_template(admin)
            if dump is None:
                return False
            self._postgres = dump
        raw = admin.raw_connection()
        try:
            with raw.cursor() as cursor:
                cursor.execute(self._postgres.replace(_TEMPLATE_MARK, schema))
            raw.commit()
        finally:
            raw.close()
        return True


_TEMPLATE_MARK = "tpl_0rderrecon_template"


def _postgres_template(admin: Engine) -> str | None:
    """The SQL of a freshly migrated schema named `_TEMPLATE_MARK` (its data too: alembic_version and
    the rows migrations seed), or None when pg_dump is missing."""
    pg_dump = shutil.which("pg_dump")
    if pg_dump is None:
        return None
    schema = f"{_TEMPLATE_MARK}_{uuid.uuid4().hex[:8]}"
    url = admin.url.render_as_string(hide_password=False)
    with admin.begin() as conn:
        conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    engine = make_engine(url, connect_args={"options": f"-csearch_path={schema}"})
    try:
        upgrade(engine)
        engine.dispose()
        plain = admin.url.set(drivername="postgresql").render_as_string(hide_password=False)
        dump = subprocess.run(
            [pg_dump, "--dbname", plain, "--schema", schema, "--inserts", "--no-comments"],
            check=True,
            capture_output=True,
            text=True,
        ).stdout
    finally:
        with admin.begin() as conn:
            conn.execute(text(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'))
    # psql meta-commands (`\restrict`, which newer pg_dump writes) are not SQL; the rest replays as is
    sql = "\n".join(line for line in dump.splitlines() if not line.startswith("\\"))
    return sql.replace(schema, _TEMPLATE_MARK)


@pytest.fixture(scope="session")
def _templates(tmp_path_factory: pytest.TempPathFactory) -> _Templates:
    return _Templates(tmp_path_factory.mktemp("templates"))


def _sqlite_engine(tmp_path: Path, templates: _Templates) -> Engine:
    path = tmp_path / "test.db"
    templates.sqlite_copy(path)
    engine = make_engine(f"sqlite:///{path}")
    upgrade(engine)  # finds it current: a no-op that checks the copy
    return engine


def _postgres_engine(templates: _Templates) -> Iterator[Engine]:
    url = os.environ.get("TEST_DATABASE_URL")
    if not url:
        pytest.skip("TEST_DATABASE_URL is not set")
    schema = f"t_{uuid.uuid4().hex[:12]}"
    admin = make_engine(url)
    if not templates.postgres_create(admin, schema):
        with admin.begin() as conn:
            conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    engine = make_engine(url, connect_args={"options": f"-csearch_path={schema}"})
    try:
        upgrade(engine)  # a no-op on a copy of the template
        yield engine
    finally:
        engine.dispose()
        with admin.begin() as conn:
            conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()


@pytest.fixture
def sqlite_engine(tmp_path: Path, _templates: _Templates) -> Iterator[Engine]:
    engine = _sqlite_engine(tmp_path, _templates)
    yield engine
    engine.dispose()


@pytest.fixture
def pg_engine(_templates: _Templates) -> Iterator[Engine]:
    yield from _postgres_engine(_templates)


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def engine(request: pytest.FixtureRequest, tmp_path: Path, _templates: _Templates) -> Iterator[Engine]:
    """Every test using this runs once on SQLite and once on PostgreSQL."""
    if request.param == "sqlite":
        eng = _sqlite_engine(tmp_path, _templates)
        yield eng
        eng.dispose()
    else:
        yield from _postgres_engine(_templates)


@pytest.fixture(autouse=True)
def _keep_main_module() -> Iterator[None]:
    """AppTest runs the app as `__main__`; restore it so processes spawned later import the right module."""
    import sys

    main = sys.modules.get("__main__")
    yield
    if main is not None:
        sys.modules["__main__"] = main


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Under pytest-xdist, the order its scheduler follows (tests/scheduling.py); otherwise browser tests
    last, which keeps a failure elsewhere from waiting on them."""
    if os.environ.get("PYTEST_XDIST_WORKER"):  # every worker sorts the same collection the same way
        from tests.scheduling import slowest_first

        items[:] = slowest_first(items)
    else:
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


def pytest_xdist_make_scheduler(config: pytest.Config, log: Any) -> Any:
    """Whole modules and shared folders per worker, slowest first (see tests/scheduling.py)."""
    if config.getoption("dist") not in ("load", "loadscope"):
        return None
    from tests.scheduling import SharedFixtureScheduling

    return SharedFixtureScheduling(config, log)
