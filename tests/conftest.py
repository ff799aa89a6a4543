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
    a few milliseconds. SQLite copies the file. PostgreSQL replays a `pg_dump` of a migrated template
    schema under a new schema name (without pg_dump, each test migrates its own); a schema a test is done
    with is emptied and kept for the next one, as creating and dropping one costs the server 0.1 s of CPU
    and emptying it a hundredth of that. A schema whose tables, columns, triggers or functions a test
    changed is dropped instead."""

    def __init__(self, base: Path) -> None:
        self.base = base
        self._sqlite: Path | None = None
        self._postgres: str | None = None
        self._postgres_data: list[str] = []  # the template's rows: INSERTs and sequence restarts
        self._postgres_shape: str | None = None
        self._postgres_tables: list[str] = []
        self._postgres_pool: list[str] = []
        self._postgres_reuse: bool | None = None  # emptying needs a superuser (the audit triggers)

    def sqlite_copy(self, target: Path) -> None:
        if self._sqlite is None:
            path = self.base / "template.db"
            engine = make_engine(f"sqlite:///{path}")
            upgrade(engine)
            engine.dispose()  # the last connection closed: the WAL is folded into the file
            self._sqlite = path
        shutil.copyfile(self._sqlite, target)
        os.chmod(target, 0o600)

    def postgres_checkout(self, admin: Engine) -> str | None:
        """A schema holding a fresh copy of the migrated template; None when pg_dump is not available."""
        if self._postgres_pool:
            return self._postgres_pool.pop()
        if self._postgres is None:
            dump = _postgres_template(admin)
            if dump is None:
                return None
            self._postgres = dump
            self._postgres_data = [
                line
                for line in dump.splitlines()
                if line.startswith(("INSERT INTO ", "SELECT pg_catalog.setval("))
            ]
        schema = f"t_{uuid.uuid4().hex[:12]}"
        raw = admin.raw_connection()
        try:
            with raw.cursor() as cursor:
                cursor.execute(self._postgres.replace(_TEMPLATE_MARK, schema))
            raw.commit()
        finally:
            raw.close()
        if self._postgres_shape is None:
            with admin.connect() as conn:
                self._postgres_shape = _postgres_shape(conn, schema)
                self._postgres_tables = list(
                    conn.scalars(text("SELECT tablename FROM pg_tables WHERE schemaname = :s"), {"s": schema})
                )
                self._postgres_reuse = bool(
                    conn.scalar(text("SELECT rolsuper FROM pg_roles WHERE rolname = current_user"))
                )
        return schema

    def postgres_return(self, admin: Engine, schema: str) -> None:
        """Empty `schema` back to the template's rows for the next test, or drop it if its shape changed."""
        if self._postgres_reuse:
            with admin.begin() as conn:
                if _postgres_shape(conn, schema) == self._postgres_shape:
                    conn.execute(text("SET LOCAL session_replication_role = replica"))  # no triggers
                    for table in self._postgres_tables:
                        conn.execute(text(f'DELETE FROM "{schema}"."{table}"'))
                    for statement in self._postgres_data:
                        conn.execute(text(statement.replace(_TEMPLATE_MARK, schema)))
                    self._postgres_pool.append(schema)
                    return
        with admin.begin() as conn:
            conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))

    def postgres_close(self) -> None:
        url = os.environ.get("TEST_DATABASE_URL")
        if not (url and self._postgres_pool):
            return
        admin = make_engine(url)
        try:
            with admin.begin() as conn:
                for schema in self._postgres_pool:
                    conn.execute(text(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'))
        finally:
            admin.dispose()


def _postgres_shape(conn: Any, schema: str) -> str:
    """What a test could change in a schema besides its rows: relations, columns, constraints, triggers
    (and whether they are enabled) and functions. Foreign keys count as constraints: their internal
    triggers are named after object ids, which differ from one copy of the template to the next."""
    return str(
        conn.scalar(
            text(
                """
                WITH ns AS (SELECT oid FROM pg_namespace WHERE nspname = :schema)
                SELECT string_agg(item, ',' ORDER BY item) FROM (
                  SELECT 'r:' || c.relname || ':' || c.relkind::text AS item
                    FROM pg_class c WHERE c.relnamespace = (SELECT oid FROM ns)
                  UNION ALL
                  SELECT 'a:' || c.relname || '.' || a.attname || ':' || a.atttypid::text || ':' || a.attnotnull::text
                    FROM pg_attribute a JOIN pg_class c ON c.oid = a.attrelid
                   WHERE c.relnamespace = (SELECT oid FROM ns) AND a.attnum > 0 AND NOT a.attisdropped
                  UNION ALL
                  SELECT 'c:' || c.relname || '.' || k.conname
                    FROM pg_constraint k JOIN pg_class c ON c.oid = k.conrelid
                   WHERE c.relnamespace = (SELECT oid FROM ns)
                  UNION ALL
                  SELECT 't:' || c.relname || '.' || t.tgname || ':' || t.tgenabled::text
                    FROM pg_trigger t JOIN pg_class c ON c.oid = t.tgrelid
                   WHERE c.relnamespace = (SELECT oid FROM ns) AND NOT t.tgisinternal
                  UNION ALL
                  SELECT 'f:' || p.proname || ':' || md5(p.prosrc)
                    FROM pg_proc p WHERE p.pronamespace = (SELECT oid FROM ns)
                ) items
                """
            ),
            {"schema": schema},
        )
    )


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
def _templates(tmp_path_factory: pytest.TempPathFactory) -> Iterator[_Templates]:
    templates = _Templates(tmp_path_factory.mktemp("templates"))
    yield templates
    templates.postgres_close()


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
    admin = make_engine(url)
    schema = templates.postgres_checkout(admin)
    if schema is None:
        schema = f"t_{uuid.uuid4().hex[:12]}"
        with admin.begin() as conn:
            conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    engine = make_engine(url, connect_args={"options": f"-csearch_path={schema}"})
    try:
        upgrade(engine)  # a no-op on a copy of the template
        yield engine
    finally:
        engine.dispose()
        templates.postgres_return(admin, schema)
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
