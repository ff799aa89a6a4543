"""How `make test` hands tests to its pytest-xdist workers.

The suite's cost is mostly set-up: simulators, receivers, imported databases, console servers and
Chromium, built by module- and session-scoped fixtures. Handed out one test at a time, every worker
builds each of them again. So a module goes to one worker whole, and so does each folder whose
`conftest.py` builds a session fixture (the console databases and servers). The units that spend their
time waiting on a browser, on mail or on webhook deliveries go first, then the rest from the largest
down, so no worker is left with a long unit at the end.
"""

from __future__ import annotations

from collections import Counter
from typing import Any

from xdist.scheduler import LoadScopeScheduling

# Folders whose session fixtures are worth building once: their tests run on one worker.
SHARED_FOLDERS = ("tests/e2e/", "tests/pages/", "tests/services/notify/", "tests/services/summaries/")
# Longest wall time per unit (browsers, SMTP waits, webhook deliveries): started first.
FIRST = ("tests/e2e", "tests/sandbox/test_sandbox_webhooks.py", "tests/services/notify")


def unit_of(nodeid: str) -> str:
    """The tests that go to one worker together: a shared folder, else a module."""
    for folder in SHARED_FOLDERS:
        if nodeid.startswith(folder):
            return folder.rstrip("/")
    return nodeid.split("::", 1)[0]


class SharedFixtureScheduling(LoadScopeScheduling):
    """`--dist loadscope` with `unit_of` as the scope; units go out in collection order."""

    def __init__(self, config: Any, log: Any = None) -> None:
        super().__init__(config, log)
        config.option.loadscopereorder = False  # the workers put the collection in order: slowest_first

    def _split_scope(self, nodeid: str) -> str:
        return unit_of(nodeid)


def slowest_first(items: list[Any]) -> list[Any]:
    """The units of `FIRST` in that order, then the others by size, largest first (a stable sort:
    each unit's tests keep their order)."""
    units = [unit_of(item.nodeid) for item in items]
    sizes = Counter(units)

    def key(index: int) -> tuple[int, int, str]:
        unit = units[index]
        rank = FIRST.index(unit) if unit in FIRST else len(FIRST)
        return rank, -sizes[unit], unit

    return [items[i] for i in sorted(range(len(items)), key=key)]
