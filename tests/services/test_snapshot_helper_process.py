"""A forked helper: its messages in order, its errors at their place, its death an error, and the
parent's signal handlers never run in it."""

from __future__ import annotations

import os
import signal
import time
from collections.abc import Iterator

import pytest

from services.errors import SnapshotError
from services.snapshot import helper_process

pytestmark = [
    pytest.mark.timeout(60),
    pytest.mark.skipif(not helper_process.available(), reason="needs fork and a second core"),
]


def _drain(helper: helper_process.Helper) -> Iterator[bytes]:
    try:
        while (data := helper.receive()) is not None:
            yield data
    finally:
        helper.close()


def _three(send: helper_process.Send) -> None:
    for n in (1, 2, 3):
        send(str(n).encode())


def _one_then_error(send: helper_process.Send) -> None:
    send(b"first")
    raise SnapshotError("shopify/orders.json: record 2 is broken")


class _NoPickle(Exception):
    def __reduce__(self) -> tuple[object, ...]:
        raise TypeError("not picklable")


def _unpicklable(send: helper_process.Send) -> None:
    raise _NoPickle("the parser broke")


def _dies(send: helper_process.Send) -> None:
    send(b"first")
    os._exit(3)


def _pid_then_wait(send: helper_process.Send) -> None:
    send(str(os.getpid()).encode())
    time.sleep(30)


def _raise_interrupt(signum: int, frame: object) -> None:
    raise KeyboardInterrupt


def test_messages_arrive_in_order_then_the_end() -> None:
    assert list(_drain(helper_process.Helper(_three, name="t", what="test"))) == [b"1", b"2", b"3"]


def test_an_error_arrives_after_the_messages_before_it_with_its_type() -> None:
    messages = _drain(helper_process.Helper(_one_then_error, name="t", what="test"))
    assert next(messages) == b"first"
    with pytest.raises(SnapshotError, match="record 2 is broken"):
        next(messages)


def test_an_error_that_cannot_travel_arrives_as_its_traceback() -> None:
    with pytest.raises(RuntimeError, match=r"(?s)the test process failed:.*_NoPickle: the parser broke"):
        list(_drain(helper_process.Helper(_unpicklable, name="t", what="test")))


def test_a_helper_that_dies_is_an_error() -> None:
    messages = _drain(helper_process.Helper(_dies, name="t", what="test"))
    assert next(messages) == b"first"
    with pytest.raises(RuntimeError, match=r"the test process stopped \(exit code 3\)"):
        next(messages)


def test_ctrl_c_is_the_parents_and_a_parents_sigterm_handler_never_runs(
    capfd: pytest.CaptureFixture[str],
) -> None:
    previous = signal.signal(signal.SIGTERM, _raise_interrupt)  # as the demo installs
    try:
        helper = helper_process.Helper(_pid_then_wait, name="t", what="test")
        data = helper.receive()
        assert data is not None
        pid = int(data)
        os.kill(pid, signal.SIGINT)  # what Ctrl-C sends the whole process group
        time.sleep(0.2)
        os.kill(pid, 0)  # still there: ignored, the parent decides
        helper.close()  # terminates it with SIGTERM, the default action, and reaps it
        with pytest.raises(ProcessLookupError):
            os.kill(pid, 0)
    finally:
        signal.signal(signal.SIGTERM, previous)
    assert "Traceback" not in capfd.readouterr().err


def _sends_then_its_clock(send: helper_process.Send) -> None:
    for _ in range(100):
        send(b"x" * 10_000)  # 1 MB in all: far more than a pipe holds
    send(repr(time.monotonic()).encode())


def _when_the_helper_finished(helper: helper_process.Helper, *, parent_busy_s: float) -> tuple[float, float]:
    """(when the parent started receiving, when the helper had sent everything)."""
    time.sleep(parent_busy_s)  # the parent busy with something else
    started = time.monotonic()
    messages = list(_drain(helper))
    assert len(messages) == 101 and all(m == b"x" * 10_000 for m in messages[:100])
    return started, float(messages[-1])


def test_with_read_ahead_a_helper_runs_ahead_of_a_busy_parent() -> None:
    helper = helper_process.Helper(_sends_then_its_clock, name="t", what="test", read_ahead_bytes=4_000_000)
    started, finished = _when_the_helper_finished(helper, parent_busy_s=1.0)
    assert finished < started  # everything was sent while the parent was busy


def test_read_ahead_stops_at_its_limit_and_without_it_at_the_pipe() -> None:
    for limit in (50_000, 0):
        helper = helper_process.Helper(_sends_then_its_clock, name="t", what="test", read_ahead_bytes=limit)
        started, finished = _when_the_helper_finished(helper, parent_busy_s=1.0)
        assert finished > started  # the helper waited for the parent to take its messages


def _endless(send: helper_process.Send) -> None:
    while True:
        send(b"y" * 10_000)


def test_closing_a_helper_whose_read_ahead_is_full_does_not_hang() -> None:
    helper = helper_process.Helper(_endless, name="t", what="test", read_ahead_bytes=50_000)
    assert helper.receive() == b"y" * 10_000
    time.sleep(0.3)  # the read-ahead fills up and waits
    helper.close()
    helper.close()  # closing twice does nothing


def test_with_read_ahead_errors_and_deaths_still_arrive_in_place() -> None:
    messages = _drain(helper_process.Helper(_one_then_error, name="t", what="test", read_ahead_bytes=1_000))
    assert next(messages) == b"first"
    with pytest.raises(SnapshotError, match="record 2 is broken"):
        next(messages)
    messages = _drain(helper_process.Helper(_dies, name="t", what="test", read_ahead_bytes=1_000))
    assert next(messages) == b"first"
    with pytest.raises(RuntimeError, match=r"the test process stopped \(exit code 3\)"):
        next(messages)
