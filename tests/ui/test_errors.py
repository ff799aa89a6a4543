"""A page's errors: a read-only or locked database is one `st.error` with its message, not Streamlit's
error page."""

from __future__ import annotations

from pathlib import Path

from streamlit.testing.v1 import AppTest


def _page(database: str) -> None:
    import sqlite3

    from sqlalchemy import create_engine, text

    from ui.errors import shown_once

    sqlite3.connect(database).execute("CREATE TABLE IF NOT EXISTS t (x INTEGER)")
    engine = create_engine(f"sqlite:///file:{database}?mode=ro&uri=true")
    with shown_once(), engine.begin() as conn:
        conn.execute(text("INSERT INTO t VALUES (1)"))  # the file opened read-only, as on a full disk


def test_a_read_only_database_is_shown_as_one_error(tmp_path: Path) -> None:
    at = AppTest.from_function(_page, args=(str(tmp_path / "ro.db"),)).run(timeout=30)
    assert not at.exception
    [error] = [e.value for e in at.error]
    assert error.startswith("database: the database is read-only")
