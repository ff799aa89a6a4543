"""The cyclic garbage collector, held back while a sync runs.

A sync builds millions of short-lived, acyclic objects (decoded replies, records, rows) that reference
counting frees as each page is committed. The cyclic collector still walks them as they are allocated,
and its full passes walk everything the process holds (modules, caches, a console session's data):
about a fifth of a full sync's CPU. While any sync runs, automatic collection is off and every committed
page collects the young generations itself, so cycles made per page are still freed and memory stays
bounded; the full pass resumes on its own when the last sync ends.
"""

from __future__ import annotations

import gc
import threading
from collections.abc import Iterator
from contextlib import contextmanager

_lock = threading.Lock()
_running = 0  # syncs inside `held_back`, across threads
_was_enabled = False  # the collector's state before the first of them


@contextmanager
def held_back() -> Iterator[None]:
    """Automatic collection off for the duration (nested and concurrent uses are counted)."""
    global _running, _was_enabled
    with _lock:
        if _running == 0:
            _was_enabled = gc.isenabled()
            gc.disable()
        _running += 1
    try:
        yield
    finally:
        with _lock:
            _running -= 1
            if _running == 0 and _was_enabled:
                gc.enable()


def collect_young() -> None:
    """Collect the two young generations: what a page left in cycles, not the whole heap."""
    gc.collect(1)
