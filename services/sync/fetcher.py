"""Fetch a sync's pages ahead of its commits: in a forked helper process where it can, else in a thread.

Reading the replies (HTTP, JSON decoding, building records, asking holds) is close to half of a full
sync's CPU. A fetching thread overlaps it with the commits only while one of the two waits (network,
disk); otherwise the interpreter lock makes them take turns. A forked helper process runs the pass's page
generator on the second core instead and sends each page back as msgpack, which decodes into the same
frozen records several times faster than pickle.

The helper opens its own connections (`Engine.dispose(close=False)`, as SQLAlchemy advises after fork)
and keeps the copies of the parent's until it exits, unused and unclosed: closing a copied SQLite
connection can disturb the parent's locks. So it runs only for a database file or server, where a
helper process can run at all (`services.forked`: `fork` and a second core).

Either way pages arrive in order; an error raised while fetching (a `SourceError` keeps its type and
message) is raised here at its place in the sequence, and the client's counts come back at the end.
"""

from __future__ import annotations

import os
import queue
import threading
from collections.abc import Callable, Generator, Iterator
from datetime import datetime
from typing import Any, Protocol

import msgspec
from sqlalchemy.engine import Engine

from checks.model import InventoryItem, StoreOrder, WarehouseOrder
from services import forked
from services.sources.http import ClientStats
from services.store.writes import TrackerScans
from services.sync import collector
from services.sync.ahead import ClassifiedAhead
from services.sync.passes import Event, Page, PassComplete, RescanDone


class Ready(Protocol):
    """What a helper waits on before preparing pages (a `multiprocessing` event, set by the parent)."""

    def wait(self, timeout: float | None = None) -> bool: ...


MakeEvents = Callable[[Engine], Iterator[Event]]
Prepare = Callable[[Engine, Page], Page]  # finishes a page where it is fetched (services.sync.ahead)

_PAGES: dict[str, msgspec.msgpack.Decoder[Any]] = {
    "store": msgspec.msgpack.Decoder(list[StoreOrder]),
    "warehouse": msgspec.msgpack.Decoder(list[WarehouseOrder]),
    "trackers": msgspec.msgpack.Decoder(list[TrackerScans]),
    "inventory": msgspec.msgpack.Decoder(list[InventoryItem]),
}


class _Frame(msgspec.Struct, array_like=True):
    """What the helper says before each page, at the end of a pass, and last (the client's counts)."""

    tag: str  # page | pass | rescan | counts
    kind: str | None = None
    cursor: str | None = None
    since: datetime | None = None
    requests: int = 0
    retries: int = 0
    waits: list[float] = msgspec.field(default_factory=list)
    classified: bool = False  # a page: its classifications follow its records
    holds_pending: bool = False  # a page: as `Page.holds_pending` (its commit refuses such a page)


_FRAME = msgspec.msgpack.Decoder(_Frame)
_CLASSIFIED = msgspec.msgpack.Decoder(ClassifiedAhead)


def helper_possible(engine: Engine) -> bool:
    """A database the helper can open on its own, and a helper process to run (`services.forked`)."""
    url = engine.url
    backend = url.get_backend_name()
    on_its_own = backend == "postgresql" or (
        backend == "sqlite"
        and url.database not in (None, "", ":memory:")
        and url.query.get("mode") != "memory"
    )
    return on_its_own and forked.available()


class Prefetch:
    """Events being fetched ahead, already under way: iterate to take them in order, `close` to stop."""

    def __init__(self, events: Generator[Event, None, None], stop: Callable[[], None]) -> None:
        self._events, self._stop = events, stop

    def __iter__(self) -> Iterator[Event]:
        return self

    def __next__(self) -> Event:
        return next(self._events)

    def close(self) -> None:
        self._events.close()
        self._stop()


def fetch_ahead(
    engine: Engine,
    make_events: MakeEvents,
    stats: ClientStats,
    *,
    helper: bool,
    prepare: Prepare | None = None,
    ready: Ready | None = None,
) -> Prefetch:
    """The events of `make_events(engine)`, fetched ahead (a helper process when `helper` and possible).

    Fetching starts at once, so it can run while the caller still commits something else. Close the
    result to stop fetching; `stats` (the client's) holds the helper's counts once the events are
    exhausted or an error was raised.

    Each page goes through `prepare`, where it is fetched, once `ready` is set; fetching goes on
    meanwhile. In a helper that is work taken off the committing process."""
    if helper and helper_possible(engine):
        running = forked.Helper(
            lambda send: _fetch(engine, make_events, stats, send, prepare, ready),
            name="sync-fetch",
            what="sync's fetching",
            read_ahead_bytes=READ_AHEAD_BYTES,
        )
        return Prefetch(_from_helper(running, stats), running.close)
    return _in_thread(_prepared(engine, make_events(engine), prepare, ready))


def _prepared(
    engine: Engine, events: Iterator[Event], prepare: Prepare | None, ready: Ready | None
) -> Iterator[Event]:
    if prepare is None:
        yield from events
        return
    for event in events:
        if isinstance(event, Page):
            if ready is not None:
                ready.wait()
            event = prepare(engine, event)
        yield event


# ---------------------------------------------------------------- helper process

# How far the helper may run ahead of the commits (its pages as msgpack): a few pages of any source.
READ_AHEAD_BYTES = 16 * 1024 * 1024
# Pages a helper fetches ahead while it waits to prepare them: a few MB of records.
PREPARE_AHEAD_PAGES = 32


def _from_helper(helper: forked.Helper, stats: ClientStats) -> Generator[Event, None, None]:
    try:
        while (data := helper.receive()) is not None:
            frame = _FRAME.decode(data)
            if frame.tag == "page":
                assert frame.kind is not None
                records = helper.receive()
                assert records is not None  # a page's records follow its frame
                classified = None
                if frame.classified:
                    data = helper.receive()
                    assert data is not None
                    classified = _CLASSIFIED.decode(data)
                pending = frame.holds_pending
                yield Page(frame.kind, _PAGES[frame.kind].decode(records), frame.cursor, classified, pending)
            elif frame.tag == "pass":
                yield PassComplete()
            elif frame.tag == "rescan":
                assert frame.since is not None
                yield RescanDone(frame.since)
            else:  # counts: the last message, also before an error
                stats.requests, stats.retries, stats.waits = frame.requests, frame.retries, frame.waits
    finally:
        helper.close()


_INHERITED: list[Any] = []  # in the helper: the parent's pools, kept referenced until the helper exits


class _WhileParentLives:
    """`ready`, waited on by a helper that gives up if its parent is gone (it would never be set)."""

    def __init__(self, ready: Ready) -> None:
        self._ready, self._parent = ready, os.getppid()

    def wait(self, timeout: float | None = None) -> bool:
        while not self._ready.wait(0.5):
            if os.getppid() != self._parent:
                raise RuntimeError("the sync stopped before its pages could be prepared")
        return True


def _fetch(
    engine: Engine,
    make_events: MakeEvents,
    stats: ClientStats,
    send: forked.Send,
    prepare: Prepare | None,
    ready: Ready | None,
) -> None:
    """The helper: a frame per event (and a page's records after its frame, then its classifications
    if it has them), then the client's counts."""
    _INHERITED.append(engine.pool)
    engine.dispose(close=False)  # a fresh pool, same settings and connect hooks
    encoder = msgspec.msgpack.Encoder()
    fetched: Iterator[Event] = make_events(engine)
    if prepare is not None and ready is not None:
        fetched = _in_thread(fetched, depth=PREPARE_AHEAD_PAGES)  # fetching goes on while `ready` waits
        ready = _WhileParentLives(ready)
    try:
        for event in _prepared(engine, fetched, prepare, ready):
            if isinstance(event, Page):
                classified = event.classified is not None
                frame = _Frame(
                    "page",
                    kind=event.kind,
                    cursor=event.cursor,
                    classified=classified,
                    holds_pending=event.holds_pending,
                )
                send(encoder.encode(frame))
                send(encoder.encode(list(event.records)))
                if event.classified is not None:
                    send(encoder.encode(event.classified))
            elif isinstance(event, PassComplete):
                send(encoder.encode(_Frame("pass")))
            elif isinstance(event, RescanDone):
                send(encoder.encode(_Frame("rescan", since=event.since)))
            collector.collect_young()  # inherited held back from the parent
    finally:
        if isinstance(fetched, Prefetch):
            fetched.close()  # the fetching thread, stopped before its counts are read
        try:
            counts = _Frame("counts", requests=stats.requests, retries=stats.retries, waits=stats.waits)
            send(encoder.encode(counts))
        finally:  # the parent may be gone: the helper's own connections are closed all the same
            engine.dispose()


# ---------------------------------------------------------------- thread


def _in_thread(events: Iterator[Event], depth: int = 2) -> Prefetch:
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

    def take() -> Generator[Event, None, None]:
        while True:
            kind, value = box.get()
            if kind == "end":
                return
            if kind == "error":
                raise value
            yield value

    def halt() -> None:
        stop.set()
        while worker.is_alive():
            try:
                box.get_nowait()
            except queue.Empty:
                worker.join(timeout=0.05)

    worker = threading.Thread(target=produce, name="sync-prefetch", daemon=True)
    worker.start()
    return Prefetch(take(), halt)
