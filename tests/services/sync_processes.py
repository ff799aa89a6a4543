"""`order-recon` commands run as child processes against a database a test owns (SQLite file or a
PostgreSQL schema), for the tests of overlapping, killed and terminated syncs."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import uuid
from collections.abc import Iterator, Mapping
from contextlib import contextmanager, suppress
from pathlib import Path
from typing import Any

from sqlalchemy import text
from sqlalchemy.engine import Engine

from db.migrate import upgrade
from db.session import make_engine

ROOT = Path(__file__).resolve().parents[2]


def database_url(engine: Engine) -> str:
    """A URL a child process opens the same database with (a PostgreSQL schema goes in `options`)."""
    if engine.dialect.name != "postgresql":
        return f"sqlite:///{engine.url.database}"
    with engine.connect() as conn:
        schema = str(conn.execute(text("SELECT current_schema()")).scalar_one())
    return f"{os.environ['TEST_DATABASE_URL']}?options=-csearch_path%3D{schema}"


@contextmanager
def sibling_database(engine: Engine, tmp_path: Path) -> Iterator[Engine]:
    """A second, migrated database of the same kind as `engine`."""
    if engine.dialect.name != "postgresql":
        other = make_engine(f"sqlite:///{tmp_path / f'sibling-{uuid.uuid4().hex[:6]}.db'}")
        upgrade(other)
        try:
            yield other
        finally:
            other.dispose()
        return
    schema = f"t_{uuid.uuid4().hex[:12]}"
    url = os.environ["TEST_DATABASE_URL"]
    admin = make_engine(url)
    with admin.begin() as conn:
        conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    other = make_engine(url, connect_args={"options": f"-csearch_path={schema}"})
    try:
        upgrade(other)
        yield other
    finally:
        other.dispose()
        with admin.begin() as conn:
            conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()


def cli_env(settings: Mapping[str, str], url: str, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("SHOPIFY_", "SHIPBOB_", "EASYPOST_"))}
    env.update(settings)
    env.update(DATABASE_URL=url, PYTHONPATH=str(ROOT), PYTHONUNBUFFERED="1", **extra)
    return env


def start_cli(args: list[str], env: Mapping[str, str], **popen: Any) -> subprocess.Popen[str]:
    """`order-recon ARGS` in its own process group (so a test can see what is left of it)."""
    return subprocess.Popen(
        [sys.executable, "-m", "services.cli", *args],
        cwd=ROOT,
        env=dict(env),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,
        **popen,
    )


def group_members(pgid: int) -> list[int]:
    """Live processes of the process group `pgid` (zombies are dead: they hold nothing)."""
    members = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        state, group = fields[0], int(fields[2])
        if group == pgid and state != "Z":
            members.append(int(entry.name))
    return members


def kill_group(pgid: int) -> None:
    with suppress(ProcessLookupError):
        os.killpg(pgid, signal.SIGKILL)
