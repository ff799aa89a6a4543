"""Fetch a sync's pages ahead of its commits: in a forked helper process where it can, else in a thread.

Reading the replies (HTTP, JSON decoding, building records, asking holds) is close to half of a full
sync's CPU. A fetching thread overlaps it with the commits only while one of the two waits (network,
disk); otherwise the interpreter lock makes them take turns. A forked helper process runs the pass's page
generator on the second core instead and sends each page back as msgpack, which decodes into the same
frozen records several times faster than pickle.

The helper opens its own connections (`Engine.dispose(close=False)`, as SQLAlchemy advises after fork)
and keeps the copies of the parent's until it exits, unused and unclosed: closing a copied SQLite
connection can disturb the parent's locks. So it runs only for a database file or server, where `fork`
exists and there is a second core.

Either way pages arrive in order; an error raised while fetching (a `SourceError` keeps its type and
message) is raised here at its place in the sequence, and the client's counts come back at the end.
"""

from __future__ import annotations

import multiprocessing
import os
import pickle
import queue
import signal
import threading
import traceback
from collections.abc import Callable, Generator, Iterator
from datetime import datetime
from typing import Any

import msgspec
from sqlalchemy.engine import Engine

from checks.model import InventoryItem, StoreOrder, Tracker, WarehouseOrder
from services.sources.http import ClientStats
from services.sync import collector
from services.sync.passes import Event, Page, PassComplete, RescanDone

MakeEvents = Callable[[Engine], Iterator[Event]]

_PAGES: dict[str, msgspec.msgpack.Decoder[Any]] = {
    "store": msgspec.msgpack.Decoder(list[StoreOrder]),
    "warehouse": msgspec.msgpack.Decoder(list[WarehouseOrder]),
    "trackers": msgspec.msgpack.Decoder(list[Tracker]),
    "inventory": msgspec.msgpack.Decoder(list[InventoryItem]),
}


class _Frame(msgspec.Struct, array_like=True):
    """What the helper says before each page, and at the end (with the client's counts)."""

    tag: str  # page | pass | rescan | end | error
    kind: str | None = None
    cursor: str | None = None
    since: datetime | None = None
    requests: int = 0
    retries: int = 0
    waits: list[float] = msgspec.field(default_factory=list)


_FRAME = msgspec.msgpack.Decoder(_Frame)


def helper_possible(engine: Engine) -> bool:
    """A database the helper can open on its own, `fork`, and a second core to run it on."""
    url = engine.url
    backend = url.get_backend_name()
    on_its_own = backend == "postgresql" or (
        backend == "sqlite"
        and url.database not in (None, "", ":memory:")
        and url.query.get("mode") != "memory"
    )
    return on_its_own and (os.cpu_count() or 1) >= 2 and "fork" in multiprocessing.get_all_start_methods()


def fetch_ahead(
    engine: Engine, make_events: MakeEvents, stats: ClientStats, *, helper: bool
) -> Generator[Event, None, None]:
    """The events of `make_events(engine)`, fetched ahead (a helper process when `helper` and possible).

    Close the generator to stop fetching; `stats` (the client's) holds the helper's counts once the
    events are exhausted or an error was raised."""
    if helper and helper_possible(engine):
        return _in_helper(engine, make_events, stats)
    return _in_thread(make_events(engine))


# ---------------------------------------------------------------- helper process


def _in_helper(engine: Engine, make_events: MakeEvents, stats: ClientStats) -> Generator[Event, None, None]:
    context = multiprocessing.get_context("fork")
    receiver, sender = context.Pipe(duplex=False)
    process = context.Process(
        target=_fetch, args=(engine, make_events, stats, sender), name="sync-fetch", daemon=True
    )
    process.start()
    sender.close()  # the helper's end: EOF here once the helper is gone
    ended = False
    try:
        while True:
            frame = _FRAME.decode(_receive(receiver, process))
            if frame.tag == "page":
                assert frame.kind is not None
                yield Page(frame.kind, _PAGES[frame.kind].decode(_receive(receiver, process)), frame.cursor)
            elif frame.tag == "pass":
                yield PassComplete()
            elif frame.tag == "rescan":
                assert frame.since is not None
                yield RescanDone(frame.since)
            else:
                ended = True
                stats.requests, stats.retries, stats.waits = frame.requests, frame.retries, frame.waits
                if frame.tag == "error":
                    raise pickle.loads(_receive(receiver, process))
                return
    finally:
        if ended:  # it is closing its connections: let it finish
            process.join(timeout=5)
        if process.is_alive():
            process.terminate()
        process.join()
        receiver.close()


def _receive(receiver: Any, process: Any) -> bytes:
    try:
        return bytes(receiver.recv_bytes())
    except EOFError:
        process.join(5)
        raise RuntimeError(f"the sync's fetching process stopped (exit code {process.exitcode})") from None


_INHERITED: list[Any] = []  # in the helper: the parent's pools, kept referenced until the helper exits


def _fetch(engine: Engine, make_events: MakeEvents, stats: ClientStats, out: Any) -> None:
    """The helper: every event of the pass, then `end`, or `error` and the exception."""
    # Ctrl-C is the parent's to handle, and it stops this process with SIGTERM: neither may run a
    # handler the parent installed (the demo turns SIGTERM into KeyboardInterrupt).
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    _INHERITED.append(engine.pool)
    engine.dispose(close=False)  # a fresh pool, same settings and connect hooks
    encoder = msgspec.msgpack.Encoder()

    def counts(tag: str) -> bytes:
        return encoder.encode(_Frame(tag, requests=stats.requests, retries=stats.retries, waits=stats.waits))

    try:
        for event in make_events(engine):
            if isinstance(event, Page):
                out.send_bytes(encoder.encode(_Frame("page", kind=event.kind, cursor=event.cursor)))
                out.send_bytes(encoder.encode(list(event.records)))
            elif isinstance(event, PassComplete):
                out.send_bytes(encoder.encode(_Frame("pass")))
            elif isinstance(event, RescanDone):
                out.send_bytes(encoder.encode(_Frame("rescan", since=event.since)))
            collector.collect_young()  # inherited held back from the parent
        out.send_bytes(counts("end"))
    except Exception as exc:
        out.send_bytes(counts("error"))
        out.send_bytes(_portable(exc))
    finally:
        engine.dispose()
        out.close()


def _portable(exc: Exception) -> bytes:
    """The exception pickled, or a RuntimeError with its traceback when it cannot be unpickled."""
    try:
        data = pickle.dumps(exc)
        pickle.loads(data)
        return data
    except Exception:
        text = "".join(traceback.format_exception(exc))
        return pickle.dumps(RuntimeError(f"the sync's fetching process failed:\n{text}"))


# ---------------------------------------------------------------- thread


def _in_thread(events: Iterator[Event], depth: int = 2) -> Generator[Event, None, None]:
    """Fetch ahead in a thread while the caller commits: HTTP waits overlap the database writes."""
    box: queue.Queue[tuple[str, Any]] = queue.Queue(maxsize=depth)
    stop = threading.Event()

    def produce() -> None:
        try:
            for event in events:
                while not stop.is_set():
                    try:
                        box.put(("event", event), timeout=0.1)
                        break
                    except queue.Full:
                        continue
                if stop.is_set():
                    return
            box.put(("end", None))
        except BaseException as exc:  # handed to the consumer, raised in order
            box.put(("error", exc))

    worker = threading.Thread(target=produce, name="sync-prefetch", daemon=True)
    worker.start()
    try:
        while True:
            kind, value = box.get()
            if kind == "end":
                return
            if kind == "error":
                raise value
            yield value
    finally:
        stop.set()
        while worker.is_alive():
            try:
                box.get_nowait()
            except queue.Empty:
                worker.join(timeout=0.05)
