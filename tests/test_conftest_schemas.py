"""The PostgreSQL schemas tests run in (tests/conftest.py): each test starts from the template's rows,
however the last one left it, and a schema whose structure a test changed is never handed on."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import text
from sqlalchemy.engine import Engine

from db.session import make_engine
from tests.conftest import _Templates

pytestmark = pytest.mark.postgres


@pytest.fixture
def admin() -> Iterator[Engine]:
    url = os.environ.get("TEST_DATABASE_URL")
    if not url:
        pytest.skip("TEST_DATABASE_URL is not set")
    engine = make_engine(url)
    yield engine
    engine.dispose()


def _scalar(admin: Engine, schema: str, sql: str) -> Any:
    with admin.connect() as conn:
        return conn.scalar(text(sql.replace("{s}", f'"{schema}"')))


def test_a_returned_schema_is_emptied_to_the_template_and_handed_on(admin: Engine, tmp_path: Path) -> None:
    templates = _Templates(tmp_path)
    schema = templates.postgres_checkout(admin)
    assert schema is not None
    fresh_seq = _scalar(admin, schema, "SELECT nextval('{s}.sync_run_id_seq')")
    template_rows = _scalar(admin, schema, "SELECT count(*) FROM {s}.audit_head")
    with admin.begin() as conn:
        conn.execute(
            text(f"INSERT INTO \"{schema}\".app_state (key, value, updated_at) VALUES ('k', 'v', now())")
        )
        conn.execute(text(f"UPDATE \"{schema}\".alembic_version SET version_num = '0001'"))
    templates.postgres_return(admin, schema)

    again = templates.postgres_checkout(admin)
    assert again == schema
    assert _scalar(admin, schema, "SELECT count(*) FROM {s}.app_state") == 0
    assert _scalar(admin, schema, "SELECT version_num FROM {s}.alembic_version") != "0001"
    assert _scalar(admin, schema, "SELECT count(*) FROM {s}.audit_head") == template_rows
    assert _scalar(admin, schema, "SELECT nextval('{s}.sync_run_id_seq')") == fresh_seq
    templates.postgres_return(admin, again)
    templates.postgres_close()
    assert _scalar(admin, schema, "SELECT count(*) FROM pg_namespace WHERE nspname = '" + schema + "'") == 0


def test_a_schema_whose_triggers_a_test_changed_is_dropped(admin: Engine, tmp_path: Path) -> None:
    templates = _Templates(tmp_path)
    schema = templates.postgres_checkout(admin)
    assert schema is not None
    with admin.begin() as conn:
        conn.execute(text(f'ALTER TABLE "{schema}".audit_entry DISABLE TRIGGER ALL'))
    templates.postgres_return(admin, schema)
    assert _scalar(admin, schema, "SELECT count(*) FROM pg_namespace WHERE nspname = '" + schema + "'") == 0
    other = templates.postgres_checkout(admin)
    assert other is not None and other != schema
    templates.postgres_return(admin, other)
    templates.postgres_close()
