"""A forked helper: its messages in order, its errors at their place, its death an error, and the
parent's signal handlers never run in it."""

from __future__ import annotations

import os
import signal
import time
from collections.abc import Iterator

import pytest

from services import forked
from services.errors import SnapshotError

pytestmark = [
    pytest.mark.timeout(60),
    pytest.mark.skipif(not forked.available(), reason="needs fork and a second core"),
]


def _drain(helper: forked.Helper) -> Iterator[bytes]:
    try:
        while (data := helper.receive()) is not None:
            yield data
    finally:
        helper.close()


def _three(send: forked.Send) -> None:
    for n in (1, 2, 3):
        send(str(n).encode())


def _one_then_error(send: forked.Send) -> None:
    send(b"first")
    raise SnapshotError("shopify/orders.json: record 2 is broken")


class _NoPickle(Exception):
    def __reduce__(self) -> tuple[object, ...]:
        raise TypeError("not picklable")


def _unpicklable(send: forked.Send) -> None:
    raise _NoPickle("the parser broke")


def _dies(send: forked.Send) -> None:
    send(b"first")
    os._exit(3)


def _pid_then_wait(send: forked.Send) -> None:
    send(str(os.getpid()).encode())
    time.sleep(30)


def _raise_interrupt(signum: int, frame: object) -> None:
    raise KeyboardInterrupt


def test_messages_arrive_in_order_then_the_end() -> None:
    assert list(_drain(forked.Helper(_three, name="t", what="test"))) == [b"1", b"2", b"3"]


def test_an_error_arrives_after_the_messages_before_it_with_its_type() -> None:
    messages = _drain(forked.Helper(_one_then_error, name="t", what="test"))
    assert next(messages) == b"first"
    with pytest.raises(SnapshotError, match="record 2 is broken"):
        next(messages)


def test_an_error_that_cannot_travel_arrives_as_its_traceback() -> None:
    with pytest.raises(RuntimeError, match=r"(?s)the test process failed:.*_NoPickle: the parser broke"):
        list(_drain(forked.Helper(_unpicklable, name="t", what="test")))


def test_a_helper_that_dies_is_an_error() -> None:
    messages = _drain(forked.Helper(_dies, name="t", what="test"))
    assert next(messages) == b"first"
    with pytest.raises(RuntimeError, match=r"the test process stopped \(exit code 3\)"):
        next(messages)


def test_ctrl_c_is_the_parents_and_a_parents_sigterm_handler_never_runs(
    capfd: pytest.CaptureFixture[str],
) -> None:
    previous = signal.signal(signal.SIGTERM, _raise_interrupt)  # as the demo installs
    try:
        helper = forked.Helper(_pid_then_wait, name="t", what="test")
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
