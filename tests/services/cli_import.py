"""Run `order-recon import` as a user would (the CLI's `main`, in this process for speed) against a test
database, and dump every table to compare byte for byte."""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import MetaData, select, text
from sqlalchemy.engine import Engine

from services.cli import main
from tests.conftest import SMALL_STORE

POLICY = str(SMALL_STORE / "sla.toml")


@dataclass(frozen=True)
class Outcome:
    code: int
    stdout: str
    stderr: str


def database_url(engine: Engine) -> str:
    """The URL the CLI needs to reach the test's database (a PostgreSQL test lives in its own schema)."""
    url = engine.url.render_as_string(hide_password=False)
    if engine.dialect.name != "postgresql":
        return url
    with engine.connect() as conn:
        schema = conn.execute(text("SHOW search_path")).scalar()
    return f"{url}?options=-csearch_path%3D{schema}"


def run_import(
    directory: Path, engine: Engine, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> Outcome:
    monkeypatch.setenv("DATABASE_URL", database_url(engine))
    monkeypatch.delenv("ORDER_RECON_CONFIG", raising=False)
    monkeypatch.chdir(directory.parent)  # never the checkout's `.streamlit/secrets.toml`
    capsys.readouterr()
    code = main(["import", str(directory), "--config", POLICY])
    captured = capsys.readouterr()
    return Outcome(code, captured.out, captured.err)


def dump_everything(engine: Engine) -> dict[str, list[tuple[Any, ...]]]:
    """Every row of every table, fetch times included, in a stable order."""
    meta = MetaData()
    meta.reflect(engine)
    with engine.connect() as conn:
        return {
            name: sorted((tuple(r) for r in conn.execute(select(table)).all()), key=repr)
            for name, table in sorted(meta.tables.items())
        }


def rewrite_json(path: Path, change: Callable[[Any], Any]) -> None:
    data = json.loads(path.read_text())
    result = change(data)
    path.write_text(json.dumps(data if result is None else result))
