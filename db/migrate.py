"""Alembic owns the schema: the app and the tests call `upgrade()`, never `create_all`."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from sqlalchemy import text
from sqlalchemy.engine import Engine
from sqlalchemy.exc import DBAPIError

if TYPE_CHECKING:
    from alembic.config import Config

MIGRATIONS = Path(__file__).with_name("migrations")
# The newest revision. Checked against Alembic's own answer by tests/db/test_migrations.py; kept here so a
# command on an up-to-date database need not import Alembic at all (a third of the CLI's start-up).
HEAD = "0011"


def alembic_config(url: str | None = None) -> Config:
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    if url:
        config.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return config


def is_current(engine: Engine) -> bool:
    """True when the database is already at HEAD."""
    try:
        with engine.connect() as connection:
            return connection.execute(text("SELECT version_num FROM alembic_version")).scalar() == HEAD
    except DBAPIError:  # no alembic_version table yet: a new database
        return False


def upgrade(engine: Engine, revision: str = "head") -> None:
    """Bring the database at `engine` to `revision`, on the engine's own connection."""
    if revision == "head" and is_current(engine):
        return
    from alembic import command

    config = alembic_config()
    with engine.begin() as connection:
        config.attributes["connection"] = connection
        command.upgrade(config, revision)
