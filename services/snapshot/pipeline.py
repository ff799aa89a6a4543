"""Run the parsing of a large snapshot's JSON files in a helper process, overlapped with the database
writes (the bulk JSONL is read in the importing process: `services.snapshot.importer._parsed` says why).

Decoding JSON and reading records into domain objects is about a third of an import's CPU time and
needs no database, so a forked helper (`services.snapshot.helper_process`) does it while this process writes and
classifies the batches before. Batches travel pickled through a pipe, which holds the helper at most a
batch ahead: memory stays that of a few batches.

The helper yields exactly what the in-process path yields, in the same order, and a `SnapshotError`
(or any other exception) raised while parsing is re-raised here when its place in the stream is
reached, so errors and their messages do not depend on which path ran.
"""

from __future__ import annotations

import pickle
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

from services.snapshot import helper_process

# Below this many bytes of snapshot the helper's start-up cost is not worth it.
MIN_BYTES = 8 << 20

Batches = Iterator[tuple[str, list[Any]]]


def worthwhile(total_bytes: int) -> bool:
    """Two processes pay off for a large snapshot on a machine with a spare core and `fork`."""
    return total_bytes >= MIN_BYTES and helper_process.available()


@contextmanager
def batches_in_helper(make_batches: Callable[[], Batches]) -> Iterator[Batches]:
    """`make_batches()` run in a forked helper process; the helper is stopped on leaving the block."""

    def parse(send: helper_process.Send) -> None:
        for item in make_batches():
            send(pickle.dumps(item, protocol=pickle.HIGHEST_PROTOCOL))

    helper = helper_process.Helper(parse, name="snapshot-parser", what="snapshot parser")

    def receive() -> Batches:
        while (data := helper.receive()) is not None:
            yield pickle.loads(data)

    try:
        yield receive()
    finally:
        helper.close()
