"""Alembic owns the schema: an empty database upgraded to head matches the models exactly."""

from __future__ import annotations

import os
import subprocess
import sys
import uuid
from pathlib import Path

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import inspect, text
from sqlalchemy.engine import Engine
from sqlmodel import SQLModel

import db.models  # noqa: F401
from db.migrate import is_current
from db.search_schema import include_object
from db.session import make_engine

ROOT = Path(__file__).resolve().parents[2]


def test_upgraded_database_matches_models(engine: Engine) -> None:
    with engine.connect() as conn:
        context = MigrationContext.configure(
            conn, opts={"compare_type": True, "include_object": include_object}
        )
        diff = compare_metadata(context, SQLModel.metadata)
    assert diff == []


def test_every_table_exists_after_upgrade(engine: Engine) -> None:
    tables = set(inspect(engine).get_table_names())
    assert set(SQLModel.metadata.tables) <= tables
    assert "alembic_version" in tables


def test_the_recorded_head_is_alembics_head() -> None:
    from alembic.script import ScriptDirectory

    from db.migrate import HEAD, alembic_config

    assert ScriptDirectory.from_config(alembic_config()).get_current_head() == HEAD


def test_upgrade_on_a_current_database_is_a_no_op(engine: Engine) -> None:
    from db.migrate import is_current, upgrade

    assert is_current(engine)
    upgrade(engine)
    assert is_current(engine)


def test_commands_started_together_on_a_new_database_migrate_it_once(engine: Engine, tmp_path: Path) -> None:
    """Three commands at once on an empty database (an empty PostgreSQL schema, a new SQLite file):
    one migrates, the others wait for it and go on."""
    if engine.dialect.name == "postgresql":
        schema = f"t_{uuid.uuid4().hex[:12]}"
        admin = make_engine(os.environ["TEST_DATABASE_URL"])
        with admin.begin() as conn:
            conn.execute(text(f'CREATE SCHEMA "{schema}"'))
        url = f"{os.environ['TEST_DATABASE_URL']}?options=-csearch_path%3D{schema}"
    else:
        url = f"sqlite:///{tmp_path / 'new.db'}"
    try:
        env = {**os.environ, "DATABASE_URL": url, "PYTHONPATH": str(ROOT)}
        commands = [
            subprocess.Popen(
                [sys.executable, "-m", "services.cli", "queue"],
                cwd=ROOT,
                env=env,
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                text=True,
            )
            for _ in range(3)
        ]
        for command in commands:
            out, err = command.communicate(timeout=120)
            assert command.returncode == 0, err
            assert out.strip() == "The overdue queue is empty." and err == ""
        fresh = make_engine(url)
        assert is_current(fresh)
        fresh.dispose()
    finally:
        if engine.dialect.name == "postgresql":
            with admin.begin() as conn:
                conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
            admin.dispose()
