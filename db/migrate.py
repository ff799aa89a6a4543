"""Alembic owns the schema: the app and the tests call `upgrade()`, never `create_all`."""

from __future__ import annotations

import fcntl
import os
import time
from collections.abc import Iterator
from contextlib import contextmanager
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
HEAD = "0016"


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


MIGRATION_LOCK = 0x6D696772  # "migr": first key of the PostgreSQL advisory lock; the second is the schema
MIGRATION_WAIT_S = 300


def upgrade(engine: Engine, revision: str = "head") -> None:
    """Bring the database at `engine` to `revision`, on the engine's own connection.

    Commands started together on a new database migrate one at a time: the first takes the migration
    lock (PostgreSQL advisory lock, SQLite a file lock beside the database) and the others wait for it,
    then find the database current and go on."""
    if revision == "head" and is_current(engine):
        return
    from alembic import command

    config = alembic_config()
    with _migration_lock(engine):
        if revision == "head" and is_current(engine):  # another process migrated it meanwhile
            return
        with engine.begin() as connection:
            config.attributes["connection"] = connection
            command.upgrade(config, revision)


@contextmanager
def _migration_lock(engine: Engine) -> Iterator[None]:
    if engine.dialect.name == "postgresql":
        with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
            deadline = time.monotonic() + MIGRATION_WAIT_S
            keys = {"a": MIGRATION_LOCK}
            take = text("SELECT pg_try_advisory_lock(:a, hashtext(current_schema()))")
            while not connection.execute(take, keys).scalar():
                if time.monotonic() > deadline:
                    raise TimeoutError("another process has been migrating the database for too long")
                time.sleep(0.1)
            try:
                yield
            finally:
                connection.execute(text("SELECT pg_advisory_unlock(:a, hashtext(current_schema()))"), keys)
        return
    database = engine.url.database
    if not database or database == ":memory:":
        yield  # private to this process
        return
    path = Path(database).with_name(f"{Path(database).name}.migrate.lock")
    fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o644)
    try:
        fcntl.lockf(fd, fcntl.LOCK_EX)  # waits; released when this process ends, however it ends
        yield
    finally:
        os.close(fd)
