"""Alembic owns the schema: an empty database upgraded to head matches the models exactly."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import inspect
from sqlalchemy.engine import Engine
from sqlmodel import SQLModel

import db.models  # noqa: F401
from db.search_schema import include_object


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
