"""The SQLite file is created 0600 and its folder 0700, from the start (no chmod after the write)."""

from __future__ import annotations

import os
from pathlib import Path

from db.migrate import upgrade
from db.session import make_engine


def test_a_new_database_and_its_folder_are_private(tmp_path: Path) -> None:
    old = os.umask(0o022)  # a usual umask: files would be 0644 and folders 0755 by default
    try:
        path = tmp_path / "data" / "order-recon.db"
        engine = make_engine(f"sqlite:///{path}")
        assert path.stat().st_mode & 0o777 == 0o600  # before SQLite ever opened it
        upgrade(engine)
        engine.dispose()
    finally:
        os.umask(old)
    assert path.parent.stat().st_mode & 0o777 == 0o700
    assert path.stat().st_mode & 0o777 == 0o600
    for sidecar in path.parent.glob("order-recon.db-*"):
        assert sidecar.stat().st_mode & 0o077 == 0, sidecar
