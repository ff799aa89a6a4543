"""Fewer cyclic garbage collections while an import runs.

Python's collector runs each time 700 more container objects are alive than before, and every tenth
run goes through the older generations too. An import keeps a batch of records, rows and views alive at
once, so the collector ran about 60 times per 1,000 compact orders (6 of them through the older
generations) and found nothing: these objects form no cycles and are freed by their reference counts.
The threshold is raised for the import; cycles made meanwhile are still collected, later.

A speed trick, needed by the backfill figures (README "Backfill figures", `bench/bulk_backfill.py`): a
fifth to a quarter of the CPU time of a compact backfill. The threshold is the process's: an import in
a process that does other work makes that work's collections rarer too, until it ends.
"""

from __future__ import annotations

import gc
import threading
from collections.abc import Iterator
from contextlib import contextmanager

IMPORT_THRESHOLD = 50_000  # more alive than a batch of 2,000 orders keeps (the default is 700)

_lock = threading.Lock()
_active = 0
_saved: tuple[int, int, int] = gc.get_threshold()


@contextmanager
def fewer_collections() -> Iterator[None]:
    """Raise the collector's first threshold for the block (nested or concurrent blocks: until the
    last one ends, then the threshold is put back as it was)."""
    global _active, _saved
    with _lock:
        if _active == 0:
            _saved = gc.get_threshold()
            gc.set_threshold(max(IMPORT_THRESHOLD, _saved[0]), *_saved[1:])
        _active += 1
    try:
        yield
    finally:
        with _lock:
            _active -= 1
            if _active == 0:
                gc.set_threshold(*_saved)


__all__ = ["fewer_collections"]
