"""`order-recon` run as a process of its own, as a person or cron runs it."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterable, Mapping
from pathlib import Path

ROOT = Path(__file__).resolve().parents[3]


def run_cli(
    db: Path,
    *args: str,
    env: Mapping[str, str] | None = None,
    unset: Iterable[str] = ("ORDER_RECON_CONFIG",),
    timeout: float = 120,
) -> subprocess.CompletedProcess[str]:
    """`order-recon ARGS` on the SQLite database `db`. The variables in `unset` are removed from the
    environment unless `env` sets them. It runs beside the database, not in the checkout: the
    checkout's `.streamlit/secrets.toml` (written by `make run`) must not point it at a demo simulator."""
    environment = {**os.environ, "DATABASE_URL": f"sqlite:///{db}", "PYTHONPATH": str(ROOT)}
    for name in unset:
        environment.pop(name, None)
    environment.update(env or {})
    return subprocess.run(
        [sys.executable, "-m", "services.cli", *args],
        capture_output=True,
        text=True,
        env=environment,
        cwd=db.parent,
        timeout=timeout,
    )
