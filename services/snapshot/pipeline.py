"""Run the parsing of a large snapshot in a helper process, overlapped with the database writes.

Decoding JSON and reading records into domain objects is about a third of an import's CPU time and
needs no database, so a forked helper does it while this process writes and classifies the batches
before. Batches travel through a small bounded queue: memory stays that of a few batches.

The helper yields exactly what the in-process path yields, in the same order, and a `SnapshotError`
(or any other exception) raised while parsing is re-raised here when its place in the stream is
reached, so errors and their messages do not depend on which path ran.
"""

from __future__ import annotations

import multiprocessing
import os
import pickle
import queue
import traceback
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

# Below this many bytes of snapshot the helper's start-up cost is not worth it.
MIN_BYTES = 8 << 20
QUEUE_BATCHES = 2  # batches parsed ahead; bounds the memory in flight
POLL_SECONDS = 1.0

Batches = Iterator[tuple[str, list[Any]]]


def worthwhile(total_bytes: int) -> bool:
    """Two processes pay off for a large snapshot on a machine with a spare core and `fork`."""
    return (
        total_bytes >= MIN_BYTES
        and (os.cpu_count() or 1) >= 2
        and "fork" in multiprocessing.get_all_start_methods()
    )


class _Done:
    """End of the stream."""


class _Failed:
    """An exception raised by the parser, or its text when it cannot travel between processes."""

    def __init__(self, exc: BaseException) -> None:
        self.exc: BaseException | None = exc
        self.text = "".join(traceback.format_exception(exc))


def _produce(make_batches: Callable[[], Batches], out: Any) -> None:
    """The helper process: put every batch, then a _Done or a _Failed."""
    try:
        for item in make_batches():
            out.put(item)
        out.put(_Done())
    except Exception as exc:  # every parse failure is re-raised in the parent
        failed = _Failed(exc)
        try:
            pickle.loads(pickle.dumps(exc))
        except Exception:  # cannot travel: send its text instead
            failed.exc = None
        out.put(failed)


@contextmanager
def batches_in_helper(make_batches: Callable[[], Batches]) -> Iterator[Batches]:
    """`make_batches()` run in a forked helper process; the helper is stopped on leaving the block."""
    context = multiprocessing.get_context("fork")
    channel = context.Queue(maxsize=QUEUE_BATCHES)
    helper = context.Process(
        target=_produce, args=(make_batches, channel), name="snapshot-parser", daemon=True
    )
    helper.start()

    def receive() -> Batches:
        while True:
            try:
                item = channel.get(timeout=POLL_SECONDS)
            except queue.Empty:
                if not helper.is_alive():
                    raise RuntimeError(
                        f"the snapshot parser process stopped (exit code {helper.exitcode})"
                    ) from None
                continue
            if isinstance(item, _Done):
                return
            if isinstance(item, _Failed):
                if item.exc is None:
                    raise RuntimeError(f"the snapshot parser process failed:\n{item.text}")
                raise item.exc
            yield item

    try:
        yield receive()
    finally:
        if helper.is_alive():
            helper.terminate()
        helper.join()
        channel.close()
