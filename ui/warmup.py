"""Load the libraries the table and chart pages need in the background, once per server process.

Streamlit imports pandas on a page's first table and chart: most of a second, which the first person
to open the overdue queue or the SLA page after a restart would otherwise wait for. Started by the
entrypoint, the imports run while the first visitor signs in or reads the lookup page; then the
leadership report (`services.reports`, which loads matplotlib: another second), for the SLA page's
"Where the time went" tab and its downloads. A page that needs a library before it is loaded waits for
the same import (Python's per-module import lock), so nothing is loaded twice.
"""

from __future__ import annotations

import importlib
import threading
from collections.abc import Sequence

MODULES = ("pandas", "ui.charts")
# Loaded next, waited for by no page: only the SLA page's "Where the time went" tab and its report
# downloads need it.
AFTER = ("services.reports",)

_lock = threading.Lock()
_loaded: threading.Event | None = None


def load(modules: Sequence[str]) -> list[str]:
    """Import `modules`; the names that imported. A failing one is skipped: the page that needs it
    reports the error where it is used."""
    done = []
    for name in modules:
        try:
            importlib.import_module(name)
        except Exception:  # the page that needs it shows the error where it is used
            continue
        done.append(name)
    return done


def start(modules: Sequence[str] = MODULES, after: Sequence[str] = AFTER) -> threading.Event:
    """Start loading `modules`, then `after`, in a daemon thread unless it was started already; the event
    is set once `modules` are done."""
    global _loaded
    with _lock:
        if _loaded is None:
            event = _loaded = threading.Event()

            def run() -> None:
                try:
                    load(modules)
                finally:
                    event.set()
                load(after)

            threading.Thread(target=run, name="order-recon-warmup", daemon=True).start()
        return _loaded
